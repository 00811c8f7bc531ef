"""Consent: an append-only ledger of grants and revocations, and the state derived from it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.db.base import Base, BigId, UTCDateTime

CHANNELS = ("sms", "voice")
PURPOSES = ("relay", "transactional", "marketing")
ALL = "all"  # an event's channel or purpose: it covers every one


class ConsentEvent(Base):
    """One grant or revocation, never changed or deleted (evidence that outlives erasure).

    Its channel and purpose may be "all" (one decision covering each); the state has a row per
    concrete channel x purpose.
    """

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))  # grant | revoke
    source: Mapped[str] = mapped_column(String(32))  # sms_keyword, api, support, twilio_21610...
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The API caller's actor and Idempotency-Key (POST /v1/consent/{phone}): a retried POST
    # finds its event instead of recording another, perhaps over a newer decision.
    requested_by: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        Index("ix_consent_events_phone_id", "phone", "id"),
        Index("uq_consent_events_requested_by_idempotency_key", "requested_by",
              "idempotency_key", unique=True),
        CheckConstraint("channel IN ('sms', 'voice', 'all')", name="channel"),
        CheckConstraint("purpose IN ('relay', 'transactional', 'marketing', 'all')",
                        name="purpose"),
        CheckConstraint("action IN ('grant', 'revoke')", name="action"),
    )


class ConsentState(Base):
    """The current decision per (phone, channel, purpose), kept in step with the ledger."""

    __tablename__ = "consent_state"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    event_id: Mapped[int] = mapped_column(BigId)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
