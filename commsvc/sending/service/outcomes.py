"""What Twilio says became of a text: its status callbacks (moving a status only forward), a
second copy or an orphan copy at Twilio queued for deletion, a carrier opt-out (21610).
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commsvc.consent import service as consent
from commsvc.phones import mask
from commsvc.records import remote
from commsvc.sending.models import OutboundMessage
from commsvc.sending.picks import Pick, copies_others_may_own, held_or_owned
from commsvc.sending.service.statuses import (
    ERASED_AFTER_AN_ATTEMPT,
    ERASED_BEFORE_SENDING,
    STATUS_RANK,
    TWILIO_STATUSES,
)
from commsvc.twilio_gateway import UNSUBSCRIBED

log = logging.getLogger("commsvc.sending")

EXTRA_COPY = "extra_copy"  # a remote deletion's cause: a second copy of a text at Twilio


def record_carrier_opt_out(db: Session, message: OutboundMessage, *, detail: str,
                           now: dt.datetime, sent_at: dt.datetime | None = None) -> None:
    """Twilio 21610 on a send of the gate: the consent rule, with this send as evidence
    (`sent_at`: when a refusal that a status callback brings later went to Twilio)."""
    consent.record_carrier_opt_out(
        db, phone=message.to_phone,
        evidence={"outbound_id": message.id, "error": detail[:200],
                  "twilio_sid": message.twilio_sid},
        now=now, sent_at=sent_at,
    )
    log.info("carrier opt-out for %s recorded from %s", mask(message.to_phone), message.id)


def _error_code(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def apply_outbound_status(
    db: Session, outbound_id: str, status: str, error_code: object, now: dt.datetime,
    *, twilio_sid: str | None = None, proof: bool = True,
) -> bool:
    """Apply a Twilio status callback (`?o=<id>`), moving the status only forward.

    Returns whether the message exists (an unknown id is ignored). An unknown or backward
    status changes nothing. The callback may beat the worker to recording the send (it may
    even follow a send whose answer was lost): it still moves the row forward, and the row
    then leaves the worker's queue. `proof=False`: `twilio_sid` is a lookup's pick (the
    worker's, recorded after losing its lease), which takes no SID another text holds, and is
    not deleted at Twilio when the text is gone (an erasure): only a copy Twilio names for it.
    """
    if not outbound_id or len(outbound_id) > 40:
        return False
    message = db.get(OutboundMessage, outbound_id, with_for_update=True)
    if message is None:
        if proof and twilio_sid:  # a lookup's pick may be an identical text's copy
            # The erased text's copy, even if an identical text (one a hold keeps) took it
            # by a lookup: that text gives it back, its own copy unaccounted for.
            give_back(db, twilio_sid, to=outbound_id, now=now)
            forget_unheld_send(db, twilio_sid, now=now)
        return False
    first_copy = bool(twilio_sid) and message.twilio_sid is None
    if twilio_sid and not record_sid(db, message, twilio_sid, proof=proof, now=now):
        return True  # a second copy's status, not the text's; or a lookup's pick not taken
    ours = TWILIO_STATUSES.get((status or "").lower())
    # A text blocked or failed after an attempt whose answer was lost did reach Twilio; so did
    # one blocked or failed with no copy at Twilio known, for which Twilio now names one (a
    # worker that outlived its lease sent it while another gave up on it). A text failed by
    # Twilio holds its SID already: a late callback of that copy does not move it back.
    reached = message.status in ("blocked", "failed") and (
        message.send_started_at is not None or first_copy)
    if ours is None or (STATUS_RANK[ours] <= STATUS_RANK.get(message.status, 0)
                        and not reached):
        return True
    code = _error_code(error_code)
    if message.status != "blocked":
        # An earlier attempt's error (a 500 after Twilio took the text, a timeout): Twilio's
        # status says what became of the text now. A block says why nothing more was sent.
        message.error_code = message.last_error = None
    elif message.last_error == ERASED_BEFORE_SENDING:
        # Blocked with no attempt in flight known, yet a stalled worker's copy reached Twilio.
        message.last_error = ERASED_AFTER_AN_ATTEMPT
    message.status = ours
    message.updated_at = now
    message.send_started_at = None
    if code is not None:
        message.error_code = code
    if message.sent_at is None:
        message.sent_at = now
    if code == UNSUBSCRIBED:
        record_carrier_opt_out(db, message, detail="status callback", now=now,
                               sent_at=message.sent_at)
    return True


def record_sid(db: Session, message: OutboundMessage, twilio_sid: str, *, proof: bool,
               now: dt.datetime) -> bool:
    """Twilio names `twilio_sid` for `message`: record it, whatever the status, in the caller's
    transaction. True when it is the text's SID now (its status is the text's).

    proof: Twilio named it for this text (a status callback for its URL, `?o=`, or the answer
    to the worker's own send of it). Another text that took it by a lookup gives it back
    (give_back). A text holding no SID, or only a lookup's pick (a guess: two identical texts
    to one number), takes it; its pick is then no longer held, for the identical text whose
    copy it is (its lookup finds it) or, if it was a copy of this text after all, for its own
    callback to name as a second copy; when no other text may own it (picks.py) it is this
    text's second copy, deleted at Twilio at once (forget_extra_copy), so that no lookup of an
    identical text sent later takes it for its own. A text holding a proven SID keeps it, and
    this one is a second copy: deleted at Twilio (forget_extra_copy), never left to the
    identical text whose lookup took it (that one is looked up again, and sent).
    Not proof: a lookup's pick, taken only by a text holding no SID, and only if no other
    text holds it (that text's callback or answer named it since the lookup) and its deletion
    is not queued (another text's second copy, named so since the lookup listed it: taken, the
    text would count as sent by a copy about to be deleted); never deleted, as it may be
    another text's copy.

    On PostgreSQL another transaction may be recording the same SID for an identical text at
    that moment (a status callback, a worker's answer or lookup), neither seeing the other's
    uncommitted row: the unique SID refuses the later write once the other commits. The write
    is made in a savepoint and, refused, decided once more, seeing the other's committed row,
    so neither side loses its outcome to an error (a callback answered 500 is not retried by
    Twilio; a worker's lookup looks again at once)."""
    if twilio_sid == message.twilio_sid:
        message.sid_from_lookup = message.sid_from_lookup and not proof
        return True
    try:
        with db.begin_nested():
            return _take_sid(db, message, twilio_sid, proof=proof, now=now)
    except IntegrityError:
        log.warning("%s: %s was being recorded for another text meanwhile; deciding again",
                    message.id, twilio_sid)
    return _take_sid(db, message, twilio_sid, proof=proof, now=now)


def _take_sid(db: Session, message: OutboundMessage, twilio_sid: str, *, proof: bool,
              now: dt.datetime) -> bool:
    """record_sid for a SID the text does not hold."""
    held = message.twilio_sid
    if not proof:
        if held is not None or held_elsewhere(db, twilio_sid, message) \
                or remote.message_queued(db, twilio_sid, action=remote.DELETE):
            return False
        message.twilio_sid, message.sid_from_lookup = twilio_sid, True
        return True
    give_back(db, twilio_sid, to=message.id, now=now)
    if held is not None and not message.sid_from_lookup:
        forget_extra_copy(db, message, twilio_sid, now=now)
        return False
    # The pick it gives up: an identical text's copy, or, if no other text may own it, its own
    # second copy (its callbacks lost), which another identical text's lookup could take.
    own_copy = held is not None and not copies_others_may_own(
        db, [message], leaving=OutboundMessage.id == message.id)
    if held is not None and not own_copy:
        log.warning("%s: Twilio names %s as its copy; %s, a lookup's pick, is left to the"
                    " identical text it belongs to", message.id, twilio_sid, held)
        # ... and deleted once no text that stays may own it (remote.KEPT)
        remote.enqueue_message(db, [held], action=remote.DELETE, cause=remote.KEPT, now=now)
    message.twilio_sid, message.sid_from_lookup = twilio_sid, False
    if own_copy:
        forget_extra_copy(db, message, held, now=now)
    return True


def give_back(db: Session, twilio_sid: str, *, to: str, now: dt.datetime) -> None:
    """Free the SID a status callback (`?o=`, our own URL: proof), or Twilio's answer to the
    worker's own send of `to` (an id: the text may be gone, erased), says is `to`'s when
    another text holds it. Only a
    reconciliation gives a text a SID it did not send (the same body to the same number): that
    text's own copy is unaccounted for, so it goes back to the queue as uncertain, looked up
    at Twilio again (a copy of its own is found) or sent. Left holding the SID, one of two
    identical texts was silently never sent."""
    holder = _holder(db, twilio_sid, to)
    if holder is None:
        return
    log.warning("%s: Twilio names %s as its copy, recorded for %s by a lookup; %s looked up"
                " again or sent", to, twilio_sid, holder.id, holder.id)
    holder.twilio_sid = holder.sent_at = holder.error_code = None
    holder.sid_from_lookup = False
    holder.status, holder.next_attempt_at, holder.updated_at = "queued", now, now
    # Back in the queue: a worker sending it now (a stalled one's lookup gave it the SID
    # meanwhile) no longer holds it, and records its answer as one that lost its lease.
    holder.lease_token = holder.lease_until = None
    holder.send_started_at = holder.created_at  # uncertain: reconciled before any send
    holder.last_error = f"its Twilio SID was {to}'s (Twilio said so)"
    db.flush()  # the SID is unique: freed before `to` takes it


def held_elsewhere(db: Session, twilio_sid: str, message: OutboundMessage) -> bool:
    """Whether another text holds `twilio_sid` (locked): a lookup's pick for `message` that
    another text's own callback or answer named since is that text's copy, not this one's."""
    return _holder(db, twilio_sid, message.id) is not None


def _holder(db: Session, twilio_sid: str, message_id: str) -> OutboundMessage | None:
    """The text other than `message_id` that holds `twilio_sid`, locked, or None."""
    # Uses index: uq_outbound_messages_twilio_sid
    return db.scalar(select(OutboundMessage).where(OutboundMessage.twilio_sid == twilio_sid,
                                                   OutboundMessage.id != message_id)
                     .with_for_update())


def forget_extra_copy(db: Session, message: OutboundMessage, twilio_sid: str, *,
                      now: dt.datetime) -> bool:
    """Twilio reports `twilio_sid` for `message`, which holds another SID: a second copy of the
    text (resent after a lookup that did not find the first, or by a worker that outlived its
    lease). Nothing would ever delete it at Twilio (retention and erasure delete the SID the
    text holds), so its deletion is queued now, in the caller's transaction; True. False: it
    is the text's own SID, or another text's (a lookup's pick, see give_back)."""
    if twilio_sid == message.twilio_sid or message.twilio_sid is None:
        return False
    # Uses index: uq_outbound_messages_twilio_sid
    if db.scalar(select(OutboundMessage.id).where(OutboundMessage.twilio_sid == twilio_sid)):
        return False
    if remote.message_queued(db, twilio_sid, action=remote.DELETE):
        return True  # known since its first report: logged (and counted) once, not each time
    log.warning("%s: a second copy at Twilio, %s (the text keeps %s); deleted there", message.id,
                twilio_sid, message.twilio_sid)
    remote.enqueue_message(db, [twilio_sid], action=remote.DELETE, cause=EXTRA_COPY, now=now)
    return True


def forget_unheld_send(db: Session, twilio_sid: str | None, *, now: dt.datetime) -> None:
    """Twilio holds a text whose row is gone (an erasure removed it while it was being sent):
    queue the deletion of Twilio's copy in the caller's transaction (no-op without a SID)."""
    remote.enqueue_message(db, [twilio_sid], action=remote.DELETE, cause=remote.ORPHAN, now=now)


def forget_unheld_pick(db: Session, pick: Pick, *, now: dt.datetime) -> None:
    """A lookup found `pick` for a text whose row is gone (an erasure removed it while it was
    looked up): the erased text's own copy, its deletion queued in the caller's transaction as
    an orphan's (forget_unheld_send), unless another text holds it (it decides) or a text that
    stays (one a hold keeps) may own it (picks.py): then it is kept, and deleted once none
    may (remote.KEPT)."""
    found = held_or_owned(db, pick)
    if found is None:
        forget_unheld_send(db, pick.twilio_sid, now=now)
    elif found == "owned":  # deleted once no text that stays may own it
        remote.enqueue_message(db, [pick.twilio_sid], action=remote.DELETE, cause=remote.KEPT,
                               now=now)


def on_status_callback(db: Session, outbound_id: str, change, now: dt.datetime) -> bool:
    """The message-status webhook's handler for `?o=` (change: status, error_code, message_sid)."""
    return apply_outbound_status(db, outbound_id, change.status, change.error_code, now,
                                 twilio_sid=change.message_sid)
