"""Proxy numbers: the platform's Twilio numbers that sessions borrow."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.db.base import Base, BigId, UTCDateTime


class ProxyNumber(Base):
    __tablename__ = "proxy_numbers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone_number: Mapped[str] = mapped_column(String(16), unique=True)
    country_code: Mapped[int] = mapped_column(Integer)
    area_code: Mapped[str | None] = mapped_column(String(8))
    sms: Mapped[bool] = mapped_column(Boolean, default=True)
    voice: Mapped[bool] = mapped_column(Boolean, default=True)
    mms: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | retired
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_proxy_numbers_status_country_area", "status", "country_code",
                            "area_code"),)

    @property
    def capabilities(self) -> list[str]:
        return [name for name in ("sms", "mms", "voice") if getattr(self, name)]
