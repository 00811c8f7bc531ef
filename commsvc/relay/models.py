"""What passed through the relay: one row per inbound message or call, updated by callbacks.

Bodies and media URLs are encrypted at rest (EncryptedText); phone numbers stay plain E.164 in
indexed columns so log queries, export and erasure can filter on them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.crypto import EncryptedText
from commsvc.db.base import NEVER_REUSED_IDS, Base, BigId, UTCDateTime

# The texts whose sender was told the conversation has ended or takes calls only (outcomes
# relay.inbound.NO_SESSION and MODE_NOT_ALLOWED), once a day per sender and number: the only
# rows relay.notices.told_lately looks for, and the only rows its index holds. The query
# repeats this term word for word: SQLite uses a partial index only for a query holding the
# same term, and PostgreSQL's generic plans (db.PLAN_CACHE_MODE) cannot prove that a bound
# `outcome = $1` implies it.
TOLD_NOTICE = text("outcome IN ('no_session', 'mode_not_allowed')")


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"))
    booking_id: Mapped[str | None] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    from_phone: Mapped[str] = mapped_column(String(16))
    to_phone: Mapped[str] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(EncryptedText())
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    media_urls: Mapped[str | None] = mapped_column(EncryptedText())  # JSON list, encrypted
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What was done with it: forwarded, blocked_consent, no_session, opt_out, opt_in, help, ...
    outcome: Mapped[str] = mapped_column(String(24))
    # Where it was forwarded (the other participant, from their proxy number); None if not.
    forward_to: Mapped[str | None] = mapped_column(String(16))
    forward_from: Mapped[str | None] = mapped_column(String(16))
    forward_sid: Mapped[str | None] = mapped_column(String(64))
    # The SID of the reply the sender was answered with (its own statusCallback, ?r=): one more
    # message at Twilio, to the sender's number, deleted there with this row.
    reply_sid: Mapped[str | None] = mapped_column(String(64))
    # received, queued, sent, delivered, partially_delivered, ... (Twilio's words)
    status: Mapped[str] = mapped_column(String(24))
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    body_removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A text whose sender was told "could not be delivered": the recipient's revocation that
    # notice answered, named by when it began (consent.relay.revocation_told_of). Unique per
    # session and sender, so only one text of theirs is told per revocation, however many
    # arrive at once.
    notice_of: Mapped[int | None] = mapped_column(BigId)

    __table_args__ = (
        Index("uq_messages_notice_of", "session_id", "from_phone", "notice_of", unique=True,
              postgresql_where=text("notice_of IS NOT NULL"),
              sqlite_where=text("notice_of IS NOT NULL")),
        Index("ix_messages_from_phone_id", "from_phone", "id"),
        Index("ix_messages_to_phone_id", "to_phone", "id"),
        Index("ix_messages_forward_to_id", "forward_to", "id"),
        Index("ix_messages_session_id_id", "session_id", "id"),
        Index("ix_messages_booking_id_id", "booking_id", "id"),
        Index("ix_messages_created_at", "created_at"),
        Index("ix_messages_told_notice", "from_phone", "to_phone", "outcome", "created_at",
              postgresql_where=TOLD_NOTICE, sqlite_where=TOLD_NOTICE),
        NEVER_REUSED_IDS,
    )


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"))
    booking_id: Mapped[str | None] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(8))
    from_phone: Mapped[str] = mapped_column(String(16))
    to_phone: Mapped[str] = mapped_column(String(16))
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The leg <Dial> placed to the other participant (the Dial action's DialCallSid): an entry
    # of its own in Twilio's call log, holding the callee's number.
    dial_sid: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))  # bridged, no_session, blocked_consent, ...
    forward_to: Mapped[str | None] = mapped_column(String(16))
    forward_from: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # ringing, in-progress, completed, ...
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_duration: Mapped[int | None] = mapped_column(Integer)
    recording_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recording_removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_calls_from_phone_id", "from_phone", "id"),
        Index("ix_calls_to_phone_id", "to_phone", "id"),
        Index("ix_calls_forward_to_id", "forward_to", "id"),
        Index("ix_calls_session_id_id", "session_id", "id"),
        Index("ix_calls_booking_id_id", "booking_id", "id"),
        Index("ix_calls_created_at", "created_at"),
        NEVER_REUSED_IDS,
    )
