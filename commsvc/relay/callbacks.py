"""Status callbacks: delivery of relayed texts, progress of calls, their recordings.

Each update is one UPDATE statement that only moves a status forward (a late `sent` after
`delivered` changes nothing), so callbacks may arrive twice, late or out of order.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, update
from sqlalchemy.orm import Session

from commsvc.relay.models import Call, Message

# How far along each status is; an update applies only when it ranks above the stored one.
MESSAGE_STATUS_RANK = {
    "received": 0, "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
    "delivered": 5, "undelivered": 5, "failed": 5, "canceled": 5, "read": 6,
}
CALL_STATUS_RANK = {
    "queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2,
    "completed": 3, "busy": 3, "no-answer": 3, "failed": 3, "canceled": 3,
}
RECORDING_STATUS_RANK = {"in-progress": 0, "completed": 1, "absent": 1, "failed": 1}
# The Dial action reports how the bridged leg ended; "answered" means it was taken.
DIAL_STATUS = {"answered": "completed", "completed": "completed", "busy": "busy",
               "no-answer": "no-answer", "failed": "failed", "canceled": "canceled"}


@dataclass(frozen=True)
class MessageStatus:
    message_sid: str  # the forwarded message's own SID
    status: str
    error_code: int | None = None


@dataclass(frozen=True)
class CallProgress:
    call_sid: str
    status: str | None = None  # CallStatus
    dial_status: str | None = None  # DialCallStatus (the Dial action)
    duration: int | None = None  # CallDuration: the whole inbound call
    dial_duration: int | None = None  # DialCallDuration: the bridged conversation


@dataclass(frozen=True)
class RecordingProgress:
    call_sid: str | None
    recording_sid: str
    status: str | None = None
    duration: int | None = None


def _moves_forward(column, new: str, ranks: dict[str, int]):
    """True in SQL when the stored status ranks below `new`."""
    below = [status for status, rank in ranks.items() if rank < ranks[new]]
    return column.in_(below)


def message_status(db: Session, *, message_id: int, change: MessageStatus,
                   now: dt.datetime) -> bool:
    """Apply a delivery callback to a relayed message; False when there is no such record."""
    values: dict = {"updated_at": now,
                    "forward_sid": func.coalesce(Message.forward_sid, change.message_sid)}
    if change.status in MESSAGE_STATUS_RANK:
        moves = _moves_forward(Message.status, change.status, MESSAGE_STATUS_RANK)
        values["status"] = case((moves, change.status), else_=Message.status)
        if change.error_code is not None:
            values["error_code"] = case((moves, change.error_code), else_=Message.error_code)
    result = db.execute(
        update(Message).where(Message.id == message_id).values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount > 0


def call_status(db: Session, *, call_id: int | None, progress: CallProgress,
                now: dt.datetime) -> bool:
    """Apply a call status callback or Dial action (by call id, else by CallSid)."""
    status = DIAL_STATUS.get(progress.dial_status or "") or progress.status
    values: dict = {"updated_at": now}
    if status in CALL_STATUS_RANK:
        moves = _moves_forward(Call.status, status, CALL_STATUS_RANK)
        values["status"] = case((moves, status), else_=Call.status)
    if progress.dial_duration is not None:
        # The bridged conversation's length wins over the whole call's (notice, ringing).
        values["duration_seconds"] = progress.dial_duration
    elif progress.duration is not None:
        values["duration_seconds"] = func.coalesce(Call.duration_seconds, progress.duration)
    # Uses index: pk_calls, or uq_calls_twilio_sid for the number's own status callback
    where = Call.id == call_id if call_id is not None else Call.twilio_sid == progress.call_sid
    result = db.execute(
        update(Call).where(where).values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount > 0


def recording_status(db: Session, *, call_id: int | None, progress: RecordingProgress,
                     now: dt.datetime) -> bool:
    """Store a call recording's SID, status and duration (never the audio or its URL)."""
    values: dict = {"updated_at": now,
                    "recording_sid": func.coalesce(Call.recording_sid, progress.recording_sid)}
    if progress.status in RECORDING_STATUS_RANK:
        moves = _moves_forward(Call.recording_status, progress.status, RECORDING_STATUS_RANK)
        values["recording_status"] = case(
            (Call.recording_status.is_(None), progress.status),
            (moves, progress.status),
            else_=Call.recording_status,
        )
    if progress.duration is not None:
        values["recording_duration"] = progress.duration
    if call_id is not None:
        where = Call.id == call_id
    elif progress.call_sid:
        where = Call.twilio_sid == progress.call_sid
    else:
        return False
    result = db.execute(
        update(Call).where(where).values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount > 0
