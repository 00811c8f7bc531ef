"""Status callbacks: delivery of relayed texts, progress of calls, their recordings.

Each update is one UPDATE statement that only moves a status forward (a late `sent` after
`delivered` changes nothing), so callbacks may arrive twice, late or out of order.

A callback names its record by id and by the record's own Twilio SID (the inbound message's
or call's, which commsvc puts in the callback URL): a late callback for an erased record finds
nothing, even where the id was given again (SQLite reuses the highest id once it is deleted),
and whatever Twilio still holds of a record no longer here (a forwarded copy, a recording made
after the erasure) is queued for deletion there, as the erasure would have done.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select, true, update
from sqlalchemy.orm import Session

from commsvc.consent import service as consent
from commsvc.records import remote
from commsvc.relay import service as relay
from commsvc.relay.models import Call, Message
from commsvc.twilio_gateway import UNSUBSCRIBED

log = logging.getLogger("commsvc.relay")

UNTRACKED = "extra_recording"  # remote deletion cause: a call's second recording
UNREQUESTED = "unrequested"  # ... a recording of a call commsvc did not record

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
BRIDGES = (relay.BRIDGED, relay.BRIDGED_RECORDED)  # outcomes of calls answered with a <Dial>


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


def _moves_forward(column, new: str, ranks: dict[str, int], final: frozenset = frozenset()):
    """True in SQL when the stored status ranks below `new` and is not final."""
    below = [status for status, rank in ranks.items() if rank < ranks[new] and status not in final]
    return column.in_(below)


def _text_where(message_id: int, inbound_sid: str | None, sid_column, sid: str) -> list:
    """The text a message callback names (?m=, and its own SID ?s= where the URL has it),
    unless `sid_column` (the forward's or the reply's SID) already holds another SID."""
    where = [Message.id == message_id, or_(sid_column.is_(None), sid_column == sid)]
    if inbound_sid is not None:
        where.append(Message.twilio_sid == inbound_sid)
    return where


def _forget_if_gone(db: Session, found: bool, inbound_sid: str | None, sid: str,
                    now: dt.datetime) -> None:
    """A callback naming (by ?s=, so surely ours) a text no longer stored (erased, past
    retention), or one that keeps another SID (a second copy for a repeated webhook): the
    message it reports, to that person's number, is deleted at Twilio."""
    if not found and inbound_sid is not None:
        remote.enqueue_message(db, [sid], action=remote.DELETE, cause=remote.ORPHAN, now=now)


def message_status(db: Session, *, message_id: int, inbound_sid: str | None,
                   change: MessageStatus, now: dt.datetime) -> bool:
    """Apply a delivery callback to a relayed message; False when there is no such record.

    21610 (the recipient replied STOP at the carrier) revokes their texts, once: when it is
    the status that moves the message to its final state.
    """
    where = _text_where(message_id, inbound_sid, Message.forward_sid, change.message_sid)
    known = change.status in MESSAGE_STATUS_RANK
    moves = (_moves_forward(Message.status, change.status, MESSAGE_STATUS_RANK, MESSAGE_FAILURES)
             if known else None)
    carrier_opt_out = None
    if change.error_code == UNSUBSCRIBED and known:
        # Uses index: pk_messages
        carrier_opt_out = db.execute(
            select(Message.forward_to, Message.created_at).where(*where, moves)).first()
    values: dict = {"updated_at": now,
                    "forward_sid": func.coalesce(Message.forward_sid, change.message_sid)}
    if known:
        values["status"] = case((moves, change.status), else_=Message.status)
        if change.error_code is not None:
            values["error_code"] = case((moves, change.error_code), else_=Message.error_code)
    result = db.execute(
        update(Message).where(*where).values(**values)
        .execution_options(synchronize_session=False)
    )
    found = result.rowcount > 0
    if found and carrier_opt_out and carrier_opt_out.forward_to:
        consent.record_carrier_opt_out(
            db, phone=carrier_opt_out.forward_to,
            evidence={"message_id": message_id, "twilio_sid": change.message_sid}, now=now,
            sent_at=carrier_opt_out.created_at)
    _forget_if_gone(db, found, inbound_sid, change.message_sid, now)
    return found


def reply_status(db: Session, *, message_id: int, inbound_sid: str | None,
                 change: MessageStatus, now: dt.datetime) -> bool:
    """Keep the SID of the reply a text was answered with (its status is not the text's);
    False when there is no such record.

    The reply is a message at Twilio addressed to the sender: erasure and retention delete it
    there with the text. One reported after its text was removed, or a second reply to a
    repeated webhook (one SID is kept), is queued for deletion now.
    """
    where = _text_where(message_id, inbound_sid, Message.reply_sid, change.message_sid)
    # Uses index: pk_messages
    result = db.execute(update(Message).where(*where).values(reply_sid=change.message_sid)
                        .execution_options(synchronize_session=False))
    found = result.rowcount > 0
    _forget_if_gone(db, found, inbound_sid, change.message_sid, now)
    return found


def _call_where(call_id: int | None, call_sid: str | None, progress_call_sid: str | None):
    """The call a callback names: by id and its own SID (?c=, ?s=), by id alone (URLs given
    out before ?s=), else by the CallSid of the number's own status callback; None: none."""
    # Uses index: pk_calls, or uq_calls_twilio_sid for the number's own status callback
    if call_id is not None:
        return [Call.id == call_id, *([Call.twilio_sid == call_sid] if call_sid else [])]
    if progress_call_sid:
        return [Call.twilio_sid == progress_call_sid]
    return None


def call_status(db: Session, *, call_id: int | None, call_sid: str | None,
                progress: CallProgress, now: dt.datetime,
                recording: RecordingProgress | None = None) -> bool:
    """Apply a call status callback or Dial action (by call id, else by CallSid).

    The Dial action says how the bridged conversation ended, which is what the call's record
    is about: it wins over the inbound leg's own final status whichever arrives first (a
    caller who hangs up while it rings is `completed` on the inbound leg, `no-answer` here).
    A recording Dial's action also names its recording (`recording`, without a status): it is
    stored as the recording-status callback would, so that a lost callback never leaves a
    recording at Twilio that retention and erasure do not know of.
    """
    dial_status = DIAL_STATUS.get(progress.dial_status or "")
    values: dict = {"updated_at": now}
    if dial_status:
        values["status"] = dial_status
    elif progress.status in CALL_STATUS_RANK:
        moves = _moves_forward(Call.status, progress.status, CALL_STATUS_RANK)
        values["status"] = case((moves, progress.status), else_=Call.status)
    if dial_status in NEVER_CONNECTED or progress.dial_bridged is False:
        # No conversation: 0, never the inbound leg's CallDuration (the caller's ringing time),
        # whichever of the two callbacks comes first; nor the dialled leg's DialCallDuration
        # when it was answered but never bridged (hung up during the recording notice).
        values["duration_seconds"] = 0
    elif progress.dial_duration is not None:
        # The bridged conversation's length wins over the whole call's (notice, ringing).
        values["duration_seconds"] = progress.dial_duration
    elif progress.duration is not None:
        whole = progress.duration
        if progress.dial_status is None:
            # The number's own callback for a bridge no Dial action has reported: its caller
            # hung up during the recording notice, before the <Dial> ran, and the two never
            # talked: 0, never the caller's whole call. A Dial action after it (out of order)
            # sets the conversation's length all the same.
            whole = case((and_(Call.outcome.in_(BRIDGES), Call.dial_sid.is_(None)), 0),
                         else_=whole)
        values["duration_seconds"] = func.coalesce(Call.duration_seconds, whole)
    if progress.dial_call_sid is not None:
        values["dial_sid"] = func.coalesce(Call.dial_sid, progress.dial_call_sid)
    where = _call_where(call_id, call_sid, progress.call_sid)
    if where is None:
        return False
    result = db.execute(
        update(Call).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    found = result.rowcount > 0
    if not found and call_sid is not None and progress.dial_call_sid is not None:
        # The call is no longer stored (erased, past retention): the dialled leg's entry at
        # Twilio, with the callee's number, is deleted there, as its recording is below.
        remote.enqueue(db, resource=remote.CALL, sid=progress.dial_call_sid,
                       action=remote.DELETE, cause=remote.ORPHAN, now=now)
    if recording is not None and (found or call_sid is not None):
        # Also for a call no longer stored (erased, past retention): its recording, which
        # nothing here would ever delete, is queued for deletion at Twilio.
        recording_status(db, call_id=call_id, call_sid=call_sid, progress=recording, now=now)
    return found


def recording_status(db: Session, *, call_id: int | None, call_sid: str | None,
                     progress: RecordingProgress, now: dt.datetime) -> bool:
    """Store a call recording's SID, status and duration (never the audio or its URL).

    `absent` means Twilio made no recording (no audio): nothing is stored as a recording. A
    call keeps one recording (its Dial's): the first SID reported is the call's; a callback for
    another recording of the same call changes nothing of it, and that recording is deleted at
    Twilio (nothing could delete it later). A report without a status (the Dial action's) only
    names the recording: it never changes a status or a duration, nor brings back a recording
    Twilio reported `absent`.
    """
    absent = progress.status == "absent"
    values: dict = {"updated_at": now,
                    "recording_sid": None if absent else progress.recording_sid}
    # The duration changes with a known status only: a "completed" with its duration after a
    # final "failed" leaves a failed recording, not a failed one 30 s long.
    moves = true()
    if progress.status in RECORDING_STATUS_RANK:
        moves = or_(Call.recording_status.is_(None), _moves_forward(
            Call.recording_status, progress.status, RECORDING_STATUS_RANK))
        values["recording_status"] = (progress.status if absent else case(
            (moves, progress.status), else_=Call.recording_status))
    if absent:
        values["recording_duration"] = None
    elif progress.duration is not None and progress.status in RECORDING_STATUS_RANK:
        values["recording_duration"] = case((moves, progress.duration),
                                            else_=Call.recording_duration)
    where = _call_where(call_id, call_sid, progress.call_sid)
    if where is None:
        return False
    # `absent` for the recording a `completed` reported: its SID is forgotten here, so the
    # recording (if Twilio holds one after all) is deleted there now; nothing would later.
    forgotten = absent and db.scalar(select(Call.id).where(
        *where, Call.recording_sid == progress.recording_sid,
        Call.recording_removed_at.is_(None))) is not None
    if forgotten:
        remote.enqueue(db, resource=remote.RECORDING, sid=progress.recording_sid,
                       action=remote.DELETE, cause=remote.ORPHAN, now=now)
    # The call's own recording, or none yet (absent: none, or the one that turned out empty),
    # and never once retention or erasure removed it: a late or repeated callback would put
    # data past its retention back.
    # Only a call commsvc bridged with recording on (its session's record_calls) has one: a
    # recording of any other call (an account-wide setting, TwiML from elsewhere) was never
    # agreed to, and is deleted at Twilio rather than kept.
    this_recording = and_(Call.outcome == relay.BRIDGED_RECORDED,
                          Call.recording_removed_at.is_(None),
                          or_(Call.recording_sid.is_(None),
                              Call.recording_sid == progress.recording_sid))
    if progress.status is None:
        this_recording = and_(this_recording, or_(Call.recording_status.is_(None),
                                                  Call.recording_status != "absent"))
    result = db.execute(
        update(Call).where(*where, this_recording).values(**values)
        .execution_options(synchronize_session=False)
    )
    found = result.rowcount > 0
    stored = None if found else db.execute(
        select(Call.id, Call.recording_removed_at, Call.recording_status, Call.outcome)
        .where(*where)).first()
    if stored is not None and progress.status is None and stored.recording_status == "absent":
        return True  # the Dial action naming the recording Twilio reported empty: nothing to do
    if stored is not None:
        # Not the call's recording, or one already removed here: nothing would ever delete it
        # at Twilio (retention and erasure delete the one stored), so it is deleted there now.
        removed = stored.recording_removed_at is not None
        unrequested = stored.outcome != relay.BRIDGED_RECORDED
        log.warning("recording %s %s of call %s: deleted at Twilio", progress.recording_sid,
                    "arrived after the call's recording was removed" if removed
                    else "was never asked for" if unrequested
                    else "is another recording", progress.call_sid or call_id)
        if not absent:
            cause = remote.ORPHAN if removed else UNREQUESTED if unrequested else UNTRACKED
            remote.enqueue(db, resource=remote.RECORDING, sid=progress.recording_sid,
                           action=remote.DELETE, cause=cause, now=now)
        return True
    if not found and call_id is not None and call_sid is not None and not absent:
        remote.enqueue(db, resource=remote.RECORDING, sid=progress.recording_sid,
                       action=remote.DELETE, cause=remote.ORPHAN, now=now)
    return found
