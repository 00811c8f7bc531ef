"""The retention passes: for each kind of data, which rows are past their period and what
happens to them (deleted, or their bodies/recordings removed), Twilio's copies included.

retention.py runs them in batches; subjects.py uses their conditions as the export's and
erasure's visibility rule, so "past retention" means one thing everywhere.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from commsvc.config.settings import Retention
from commsvc.records import remote
from commsvc.records.holds import not_held
from commsvc.relay.models import Call, Message
from commsvc.sending.models import OutboundMessage
from commsvc.sending.picks import copies_others_may_own
from commsvc.sessions.models import Session as ConversationSession

MESSAGE_BATCH_SIZE = 1000
CALL_BATCH_SIZE = 1000
OUTBOUND_BATCH_SIZE = 1000
SESSION_BATCH_SIZE = 500  # each session takes its two participant rows with it
UNSENT = ("queued", "scheduled", "sending")  # outbox rows still needing their body


@dataclass(frozen=True)
class Pass:
    """One kind of data: which rows are past their period and what happens to them."""

    kind: str
    period: str  # a Retention field
    model: type
    batch_size: int
    eligible: Callable[[dt.datetime], list]  # cutoff -> WHERE conditions
    # (db, rows, now, leaving): leaving is SQL, the rows this pass takes (this batch and the
    # next), for an outbox pass to ask whether a text that stays may own a lookup's pick
    apply: Callable[[Session, list, dt.datetime, ColumnElement[bool]], None]
    columns: tuple[str, ...] = ()  # extra columns the apply step needs
    # The pass that deletes these rows first in a real run (a dry run must not count twice).
    superseded_by: str | None = None


def _message_sids(rows) -> list[str | None]:
    return [sid for row in rows for sid in (row.twilio_sid, row.forward_sid)]


def _delete_messages(db: Session, rows, now: dt.datetime, leaving) -> None:
    # The reply the sender was answered with goes too (a platform text: nothing to redact).
    remote.enqueue_message(db, [*_message_sids(rows), *(row.reply_sid for row in rows)],
                           action=remote.DELETE, cause="retention", now=now)
    db.execute(delete(Message).where(Message.id.in_([r.id for r in rows])))


def _delete_calls(db: Session, rows, now: dt.datetime, leaving) -> None:
    remote.enqueue_many(db, resource=remote.RECORDING, sids=[r.recording_sid for r in rows],
                        action=remote.DELETE, cause="retention", now=now)
    remote.enqueue_many(db, resource=remote.CALL,
                        sids=[sid for r in rows for sid in (r.twilio_sid, r.dial_sid)],
                        action=remote.DELETE, cause="retention", now=now)
    db.execute(delete(Call).where(Call.id.in_([r.id for r in rows])))


def _enqueue_outbound(db: Session, rows, now: dt.datetime, leaving, action: str) -> None:
    # A lookup's pick that a text retention keeps may own stays at Twilio (picks.py) until
    # none may (remote.KEPT).
    spared = copies_others_may_own(db, rows, leaving=leaving)
    remote.enqueue_message(db, [r.twilio_sid for r in rows if r.twilio_sid not in spared],
                           action=action, cause="retention", now=now)
    remote.enqueue_message(db, spared, action=action, cause=remote.KEPT, now=now)


def _delete_outbound(db: Session, rows, now: dt.datetime, leaving) -> None:
    _enqueue_outbound(db, rows, now, leaving, remote.DELETE)
    db.execute(delete(OutboundMessage).where(OutboundMessage.id.in_([r.id for r in rows])))


def _blank_bodies(db: Session, rows, now: dt.datetime, leaving) -> None:
    db.execute(update(Message).where(Message.id.in_([r.id for r in rows]))
               .values(body=None, media_urls=None, body_removed_at=now))
    remote.enqueue_message(db, _message_sids(rows), action=remote.REDACT, cause="retention",
                           now=now)


def _blank_outbound_bodies(db: Session, rows, now: dt.datetime, leaving) -> None:
    _enqueue_outbound(db, rows, now, leaving, remote.REDACT)
    db.execute(update(OutboundMessage).where(OutboundMessage.id.in_([r.id for r in rows]))
               .values(body=None))


def _remove_recordings(db: Session, rows, now: dt.datetime, leaving) -> None:
    remote.enqueue_many(db, resource=remote.RECORDING, sids=[r.recording_sid for r in rows],
                        action=remote.DELETE, cause="retention", now=now)
    db.execute(update(Call).where(Call.id.in_([r.id for r in rows]))
               .values(recording_sid=None, recording_duration=None, recording_removed_at=now))


def _delete_sessions(db: Session, rows, now: dt.datetime, leaving) -> None:
    # Participants go by ON DELETE CASCADE; messages and calls keep their rows (SET NULL).
    db.execute(delete(ConversationSession)
               .where(ConversationSession.id.in_([r.id for r in rows])))


def session_gone(cutoff: dt.datetime) -> list:
    """WHERE conditions: a session that ended before the cutoff and no hold covers."""
    s = ConversationSession
    return [or_(and_(s.status != "open", func.coalesce(s.closed_at, s.expires_at) < cutoff),
                and_(s.status == "open", s.expires_at < cutoff)),
            not_held(s)]


PASSES: tuple[Pass, ...] = (
    # Metadata first, so rows about to go are not blanked (and redacted at Twilio) first.
    Pass("messages", "metadata", Message, MESSAGE_BATCH_SIZE,
         lambda cutoff: [Message.created_at < cutoff, not_held(Message)],
         _delete_messages, ("twilio_sid", "forward_sid", "reply_sid")),
    Pass("calls", "metadata", Call, CALL_BATCH_SIZE,
         lambda cutoff: [Call.created_at < cutoff, not_held(Call)],
         _delete_calls, ("recording_sid", "twilio_sid", "dial_sid")),
    Pass("outbound_messages", "metadata", OutboundMessage, OUTBOUND_BATCH_SIZE,
         lambda cutoff: [OutboundMessage.created_at < cutoff,
                         OutboundMessage.status.not_in(UNSENT), not_held(OutboundMessage)],
         _delete_outbound, ("twilio_sid", "sid_from_lookup")),
    Pass("message_bodies", "message_bodies", Message, MESSAGE_BATCH_SIZE,
         lambda cutoff: [Message.created_at < cutoff, Message.body_removed_at.is_(None),
                         not_held(Message)],
         _blank_bodies, ("twilio_sid", "forward_sid"), "messages"),
    Pass("outbound_bodies", "message_bodies", OutboundMessage, OUTBOUND_BATCH_SIZE,
         lambda cutoff: [OutboundMessage.created_at < cutoff, OutboundMessage.body.is_not(None),
                         OutboundMessage.status.not_in(UNSENT), not_held(OutboundMessage)],
         _blank_outbound_bodies, ("twilio_sid", "sid_from_lookup"), "outbound_messages"),
    Pass("recordings", "recordings", Call, CALL_BATCH_SIZE,
         lambda cutoff: [Call.created_at < cutoff, Call.recording_sid.is_not(None),
                         not_held(Call)],
         _remove_recordings, ("recording_sid",), "calls"),
    Pass("sessions", "closed_sessions", ConversationSession, SESSION_BATCH_SIZE,
         session_gone, _delete_sessions),
)


def pass_named(kind: str) -> Pass:
    """The pass of one kind."""
    return next(spec for spec in PASSES if spec.kind == kind)


def cutoff_for(retention: Retention, period: str, now: dt.datetime) -> dt.datetime:
    """The instant before which data of this retention period is past it."""
    return now - dt.timedelta(seconds=getattr(retention, period))


def past_retention(kind: str, retention: Retention, now: dt.datetime) -> ColumnElement[bool]:
    """SQL: the pass `kind` would take this row now (the retention job, a dry run's count, the
    export's and the logs' visibility of the outbox and of sessions all ask this one question)."""
    spec = pass_named(kind)
    return and_(*spec.eligible(cutoff_for(retention, spec.period, now)))


def row_past_retention(db: Session, kinds: tuple[str, ...], row_id, *, retention: Retention,
                       now: dt.datetime) -> tuple[bool, ...]:
    """For one row (by primary key) of the passes' model: whether each pass in `kinds` would
    take it now (a read by id hides what the logs and export hide)."""
    model = pass_named(kinds[0]).model
    # Uses index: the model's primary key
    return tuple(db.execute(select(*(past_retention(kind, retention, now) for kind in kinds))
                            .where(model.id == row_id)).one())
