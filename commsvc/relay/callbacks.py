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

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from commsvc.consent import service as consent
from commsvc.records import remote
from commsvc.relay import service as relay
from commsvc.relay.models import Call, Message
from commsvc.relay.recordings import recording_status
from commsvc.relay.statuses import (
    CALL_STATUS_RANK,
    DIAL_STATUS,
    MESSAGE_FAILURES,
    MESSAGE_STATUS_RANK,
    NEVER_CONNECTED,
    CallProgress,
    MessageStatus,
    RecordingProgress,
    call_where,
    moves_forward,
)
from commsvc.twilio_gateway import UNSUBSCRIBED

BRIDGES = (relay.BRIDGED, relay.BRIDGED_RECORDED)  # outcomes of calls answered with a <Dial>

log = logging.getLogger("commsvc.relay")


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
    moves = (moves_forward(Message.status, change.status, MESSAGE_STATUS_RANK, MESSAGE_FAILURES)
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
    if found and not known:
        # "receiving" (an inbound MMS still arriving), or a status Twilio adds one day: the
        # SID is kept, the text's status stays; said so, or the callback's line (found=True)
        # would read as applied.
        log.warning("message-status status=%s of message %s is unknown: its status is kept",
                    change.status, message_id)
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
        moves = moves_forward(Call.status, progress.status, CALL_STATUS_RANK)
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
    where = call_where(call_id, call_sid, progress.call_sid)
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
