"""The durable outbox of platform-originated texts (transactional and marketing)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.crypto import EncryptedText
from commsvc.db.base import Base, UTCDateTime


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    to_phone: Mapped[str] = mapped_column(String(16))
    from_phone: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(EncryptedText())
    purpose: Mapped[str] = mapped_column(String(16))  # transactional | marketing
    booking_id: Mapped[str | None] = mapped_column(String(128))
    # queued | scheduled | sending | sent | delivered | undelivered | failed | blocked | simulated
    status: Mapped[str] = mapped_column(String(16))
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker holds a row in `sending` until lease_until (also its next_attempt_at, so an
    # expired lease makes the row due again); lease_token fences a worker that lost its lease.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lease_token: Mapped[str | None] = mapped_column(String(32))
    # Set just before a send is handed to Twilio and cleared once its outcome is known: a row
    # that still has it may already be at Twilio and is reconciled before any resend.
    send_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # True while twilio_sid is a lookup's pick (a copy with the same body, found after a lost
    # answer: maybe an identical text's), until Twilio names it for this text; false when it
    # is proven (the worker's own send answer, or a status callback for this text's URL).
    sid_from_lookup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    # The caller's Idempotency-Key: a retried POST finds the message instead of queueing another.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_outbound_messages_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbound_messages_to_phone", "to_phone", "created_at"),
        # The messages log (commsvc/records/logs_service.py) pages sends newest first by
        # (created_at, id), by sender number (a busy pool number) and by booking.
        Index("ix_outbound_messages_created_at_id", "created_at", "id"),
        Index("ix_outbound_messages_from_phone", "from_phone", "created_at"),
        Index("ix_outbound_messages_booking_id", "booking_id", "created_at"),
        UniqueConstraint("requested_by", "idempotency_key",
                         name="uq_outbound_messages_requested_by_idempotency_key"),
    )
