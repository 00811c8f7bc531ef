"""Records under control: the audit chain, legal holds, the erasure ledger, remote deletions."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.db.base import NEVER_REUSED_IDS, Base, BigId, UTCDateTime


class AuditEvent(Base):
    """An append-only, hash-chained record of a privileged act (IDs and masked numbers only)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str | None] = mapped_column(Text)
    target: Mapped[dict] = mapped_column(JSON, default=dict)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_events_actor_id", "actor", "id"),
        Index("ix_audit_events_action_id", "action", "id"),
        Index("ix_audit_events_created_at", "created_at"),
        NEVER_REUSED_IDS,
    )


class LegalHold(Base):
    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # phone | session | booking
    value: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_legal_holds_scope_value", "scope", "value", "lifted_at"),)


class Erasure(Base):
    """The erasure ledger: keyed by an HMAC of the number so it can be replayed after a restore."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_hmac: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    result: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_erasures_subject_hmac", "subject_hmac"),)


class RemoteDeletion(Base):
    """A message, call or recording to delete or redact at Twilio; kept until Twilio confirms,
    and for good after (the relay's claim skips an erased text's or call's SID)."""

    __tablename__ = "remote_deletions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource: Mapped[str] = mapped_column(String(16))  # message | recording
    sid: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(8))  # delete | redact
    cause: Mapped[str] = mapped_column(String(16))  # retention | erasure
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("uq_remote_deletions_resource_sid_action", "resource", "sid", "action",
              unique=True),
        Index("ix_remote_deletions_pending", "done_at", "next_attempt_at"),
    )
