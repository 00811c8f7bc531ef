"""What a status callback says, how far along each status is, and which call it names.

A status only moves forward: an update applies when the new status ranks above the stored one
(moves_forward), so callbacks may arrive twice, late or out of order.
"""
from __future__ import annotations

from dataclasses import dataclass

from commsvc.relay.models import Call

# How far along each status is; an update applies only when it ranks above the stored one.
MESSAGE_STATUS_RANK = {
    "received": 0, "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
    "delivered": 5, "partially_delivered": 5, "undelivered": 5, "failed": 5, "canceled": 5,
    "read": 6,
}
# A text that failed stays failed: a later `read` (which ranks above) does not revive it.
MESSAGE_FAILURES = frozenset({"undelivered", "failed", "canceled"})
CALL_STATUS_RANK = {
    "queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2,
    "completed": 3, "busy": 3, "no-answer": 3, "failed": 3, "canceled": 3,
}
RECORDING_STATUS_RANK = {"in-progress": 0, "completed": 1, "absent": 1, "failed": 1}
# The Dial action reports how the bridged leg ended; "answered" means it was taken.
DIAL_STATUS = {"answered": "completed", "completed": "completed", "busy": "busy",
               "no-answer": "no-answer", "failed": "failed", "canceled": "canceled"}

NEVER_CONNECTED = frozenset({"busy", "no-answer", "failed", "canceled"})
# Dial outcomes the caller is told of before the call ends (canceled: they hung up themselves).
CALLEE_UNAVAILABLE = frozenset({"busy", "no-answer", "failed"})


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
    dial_call_sid: str | None = None  # DialCallSid: the leg the Dial placed (the Dial action)
    # DialBridged: whether that leg was connected to the caller; False when it was answered
    # but the two never talked (either hung up during the <Number url> recording notice)
    dial_bridged: bool | None = None


@dataclass(frozen=True)
class RecordingProgress:
    call_sid: str | None
    recording_sid: str
    status: str | None = None
    duration: int | None = None


def callee_unavailable(progress: CallProgress) -> bool:
    """A Dial action saying the other side was busy, did not answer or could not be reached,
    or answered and hung up during the recording notice (completed, DialBridged false: the
    two never talked): the caller is told so (UNAVAILABLE_VOICE_MESSAGE), not hung up on in
    silence."""
    return progress.dial_status in CALLEE_UNAVAILABLE or (
        DIAL_STATUS.get(progress.dial_status or "") == "completed"
        and progress.dial_bridged is False)


def moves_forward(column, new: str, ranks: dict[str, int], final: frozenset = frozenset()):
    """True in SQL when the stored status ranks below `new` and is not final."""
    below = [status for status, rank in ranks.items() if rank < ranks[new] and status not in final]
    return column.in_(below)



def call_where(call_id: int | None, call_sid: str | None, progress_call_sid: str | None):
    """The call a callback names: by id and its own SID (?c=, ?s=), by id alone (URLs given
    out before ?s=), else by the CallSid of the number's own status callback; None: none."""
    # Uses index: pk_calls, or uq_calls_twilio_sid for the number's own status callback
    if call_id is not None:
        return [Call.id == call_id, *([Call.twilio_sid == call_sid] if call_sid else [])]
    if progress_call_sid:
        return [Call.twilio_sid == progress_call_sid]
    return None
