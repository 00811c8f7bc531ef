"""Sessions (the masked conversation of one booking) and their two participants.

The routing rule lives in the database: among active participants, (phone, proxy_number) is
unique (a partial unique index), so an inbound (From, To) names at most one open session even
when session creations race on PostgreSQL.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commsvc.db.base import NEVER_REUSED_IDS, Base, BigId, UTCDateTime

ACTIVE = text("active")


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    booking_id: Mapped[str] = mapped_column(String(128))
    # Stored status: open | closed | expired. An open session whose expires_at has passed is
    # expired from that instant (see effective_status); a sweep only catches the column up.
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_reason: Mapped[str | None] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    record_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    participants: Mapped[list[Participant]] = relationship(
        back_populates="session", order_by="Participant.id", lazy="selectin",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        Index("ix_sessions_booking_id", "booking_id", "created_at"),
        Index("ix_sessions_status_expires_at", "status", "expires_at"),
        # GET /v1/sessions without a booking: newest first, cursor on (created_at, id).
        Index("ix_sessions_created_at_id", "created_at", "id"),
        # One open session per booking (idempotent create; 409 for other phones).
        Index("uq_sessions_open_booking", "booking_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )

    def effective_status(self, now: dt.datetime) -> str:
        if self.status == "open" and self.expires_at <= now:
            return "expired"
        return self.status

    def effective_closed_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the session ended: closed_at, or for one past expires_at that no sweep has
        marked yet, expires_at, which the sweep will write."""
        if self.closed_at is None and self.effective_status(now) == "expired":
            return self.expires_at
        return self.closed_at

    def participant(self, role: str) -> Participant:
        return next(p for p in self.participants if p.role == role)

    @property
    def allows_sms(self) -> bool:
        return self.mode in ("sms", "sms_and_voice")

    @property
    def allows_voice(self) -> bool:
        return self.mode in ("voice", "sms_and_voice")


class Participant(Base):
    __tablename__ = "session_participants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # requester | pro
    phone: Mapped[str] = mapped_column(String(16))  # the real number, E.164
    proxy_number: Mapped[str] = mapped_column(String(16))  # the number this side texts/calls
    counterpart_phone: Mapped[str] = mapped_column(String(16))  # for the cool-off rule
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # true while the session is open
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[Session] = relationship(back_populates="participants")

    __table_args__ = (
        # The routing rule: a real number meets a proxy number in at most one open session.
        Index("uq_participants_active_route", "phone", "proxy_number", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        # Cool-off and erasure lookups by real number; export by counterpart.
        Index("ix_participants_phone_proxy", "phone", "proxy_number", "ended_at"),
        Index("ix_participants_session_id", "session_id"),
        Index("ix_participants_proxy_active", "proxy_number", "active"),
        NEVER_REUSED_IDS,
    )
