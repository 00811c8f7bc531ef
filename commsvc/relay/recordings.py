"""Recording callbacks: a call's one recording, and the others deleted at Twilio.

A call keeps one recording (its Dial's), stored by SID, status and duration, never the audio
or its URL; any other recording Twilio reports (a second one, one of a call commsvc did not
record, one arriving after the call's was removed) is queued for deletion there.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import and_, case, or_, select, true, update
from sqlalchemy.orm import Session

from commsvc.records import remote
from commsvc.relay import service as relay
from commsvc.relay.models import Call
from commsvc.relay.statuses import (
    RECORDING_STATUS_RANK,
    RecordingProgress,
    call_where,
    moves_forward,
)

log = logging.getLogger("commsvc.relay")

UNTRACKED = "extra_recording"  # remote deletion cause: a call's second recording
UNREQUESTED = "unrequested"  # ... a recording of a call commsvc did not record


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
        moves = or_(Call.recording_status.is_(None), moves_forward(
            Call.recording_status, progress.status, RECORDING_STATUS_RANK))
        values["recording_status"] = (progress.status if absent else case(
            (moves, progress.status), else_=Call.recording_status))
    if absent:
        values["recording_duration"] = None
    elif progress.duration is not None and progress.status in RECORDING_STATUS_RANK:
        values["recording_duration"] = case((moves, progress.duration),
                                            else_=Call.recording_duration)
    where = call_where(call_id, call_sid, progress.call_sid)
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
