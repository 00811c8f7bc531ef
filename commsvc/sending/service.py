"""The send gate: accept a platform text into the durable outbox, and follow its status.

Acceptance checks consent (sms, the message's purpose) and, for marketing, the recipient's
allowed hours; nothing is stored when consent refuses. The worker (worker.py) does the sending.
Statuses:
  queued, scheduled -> sending -> sent | simulated -> delivered | undelivered | failed
  and, without reaching Twilio, blocked (consent revoked, or the recipient erased, before the
  send) or failed.
Statuses only move forward (STATUS_RANK); a delivery callback never moves one back.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import NamedTuple

from sqlalchemy import and_, case, exists, select, true, update
from sqlalchemy.orm import Session

from commsvc.config.replies import MAX_SMS_CHARS, sms_length
from commsvc.config.settings import Config, Retention
from commsvc.consent import service as consent
from commsvc.crypto import UNAVAILABLE
from commsvc.db.inserts import insert_or_replay
from commsvc.errors import (
    Conflict,
    ConsentRequired,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from commsvc.fields import MAX_BOOKING_ID, shows_nothing
from commsvc.phones import COSTLY_NUMBER, is_costly, locality, mask
from commsvc.pool import service as pool_service
from commsvc.pool.models import ProxyNumber
from commsvc.records import erasure_ledger, remote
from commsvc.records.retention_passes import row_past_retention
from commsvc.sending import quiet_hours
from commsvc.sending.models import OutboundMessage
from commsvc.sessions.models import Participant
from commsvc.twilio_gateway import UNSUBSCRIBED

log = logging.getLogger("commsvc.sending")

PURPOSES = ("transactional", "marketing")

DUE_STATUSES = ("queued", "scheduled", "sending")
STATUS_RANK = {
    "queued": 0, "scheduled": 0, "sending": 1, "sent": 2, "simulated": 2,
    "delivered": 3, "undelivered": 3, "failed": 3, "blocked": 4,
}
# Twilio's message statuses, as ours. Twilio holding it at all (queued, sending...) is "sent".
TWILIO_STATUSES = {
    "accepted": "sent", "scheduled": "sent", "queued": "sent", "sending": "sent", "sent": "sent",
    "delivered": "delivered", "partially_delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed", "canceled": "failed",
    # The simulated gateway's word for a send (no TWILIO_ACCOUNT_SID): nothing left the machine.
    "simulated": "simulated",
}
EXTRA_COPY = "extra_copy"  # a remote deletion's cause: a second copy of a text at Twilio
ERASED_BEFORE_SENDING = "not sent: the recipient's data was erased"
ERASED_AFTER_AN_ATTEMPT = ("not sent again: the recipient's data was erased (an earlier"
                           " attempt may have reached Twilio)")


def block_unsent(db: Session, *, to_phone: str, now: dt.datetime, made_by=None) -> int:
    """Block every text still waiting to go to the number (erasure: a legal hold may keep such
    a text as a record, but it must not reach the person); how many.

    Only a text a worker is handing to Twilio at this moment (`sending` under a live lease,
    its send begun) is left to finish and be recorded, so that the SID of a message Twilio
    holds is not lost; if that attempt fails, the worker finds the erasure before any retry
    (erasure_ledger.erased_since). A text waiting to retry after an attempt that may have
    reached Twilio is blocked too, and says so. A worker that claimed a text and has not begun
    its send finds it blocked (its lease check reads the status under the row lock) and sends
    nothing.
    `made_by`: which texts, if not all (an erasure replay's: those made by the erasure).
    """
    in_flight = and_(OutboundMessage.status == "sending",
                     OutboundMessage.send_started_at.is_not(None),
                     OutboundMessage.lease_until > now)
    # Uses index: ix_outbound_messages_to_phone
    return db.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == to_phone,
               OutboundMessage.status.in_(DUE_STATUSES), ~in_flight,
               true() if made_by is None else made_by)
        .values(status="blocked", lease_token=None, lease_until=None, updated_at=now,
                last_error=case((OutboundMessage.send_started_at.is_(None),
                                 ERASED_BEFORE_SENDING), else_=ERASED_AFTER_AN_ATTEMPT))
        .execution_options(synchronize_session=False)
    ).rowcount


BLOCKED_BY_REVOCATION = f"consent: {consent.REVOKED}"  # the worker's words for it too


def block_on_revocation(db: Session, *, to_phone: str, purposes: set[str],
                        now: dt.datetime) -> int:
    """Block the texts of these purposes still waiting to go to the number, whose sms consent
    was just revoked (consent.service records it): GET /v1/messages/{id} says `blocked` at
    once, not `scheduled` until the worker reaches it hours later; how many.

    A text a worker claimed and has not begun to send is blocked too (PostgreSQL waits for the
    worker's transaction, then reads the row again): a worker that read consent just before
    this revocation may have put it back as `scheduled` for the morning, and one that has not
    read it yet finds the text blocked under its row lock and sends nothing. Left to the
    worker only a text whose attempt may be at Twilio (send_started_at), which it looks up
    there first, then checks consent again.
    """
    # Uses index: ix_outbound_messages_to_phone
    return db.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == to_phone,
               OutboundMessage.status.in_(DUE_STATUSES),
               OutboundMessage.purpose.in_(sorted(purposes)),
               OutboundMessage.send_started_at.is_(None))
        .values(status="blocked", lease_token=None, lease_until=None, updated_at=now,
                last_error=BLOCKED_BY_REVOCATION)
        .execution_options(synchronize_session=False)
    ).rowcount


CONSENT_REFUSALS = {
    consent.NO_GRANT: "there is no recorded grant for {purpose} texts to this number",
    consent.REVOKED: "the recipient has revoked {purpose} texts",
}


def body_errors(body: object) -> list[str]:
    """Why a body cannot be sent (empty list: it can)."""
    # A body of a zero-width space or a byte-order mark strips to something, yet the person
    # would be billed for and woken by a text that shows nothing.
    if not isinstance(body, str) or shows_nothing(body):
        return ["must not be empty"]
    if sms_length(body) > MAX_SMS_CHARS:
        return [f"at most {MAX_SMS_CHARS} characters (Twilio's limit)"]
    return []


def new_id() -> str:
    return "msg_" + secrets.token_hex(12)


def check_consent(db: Session, *, to: str, purpose: str, config: Config,
                  now: dt.datetime) -> consent.Decision:
    """The consent gate of a platform text (channel sms): asked on acceptance and before sending."""
    return consent.check(db, phone=to, channel="sms", purpose=purpose, now=now,
                         marketing_requires_grant=config.marketing_requires_grant)


def choose_sender(db: Session, *, to: str, config: Config) -> str:
    """The configured sender number, else the first active SMS pool number of `to`'s country
    that is not `to`'s masked line in an open session: a reply to a platform text must never be
    relayed to the other participant."""
    if config.sender_number:
        return config.sender_number
    country = locality(to).country_code
    # Uses index: ix_proxy_numbers_status_country_area
    sender = db.scalar(
        select(ProxyNumber.phone_number)
        .where(ProxyNumber.status == "active")
        .where(ProxyNumber.country_code == country)
        .where(ProxyNumber.sms.is_(True))
        .where(~_masked_line(to, ProxyNumber.phone_number))
        .order_by(ProxyNumber.id)
        .limit(1)
    )
    if sender is None:
        raise ServiceUnavailable(
            "No number to send from: set TWILIO_SENDER_NUMBER or add a pool number for the"
            " recipient's country that is not their masked line in an open session."
        )
    return sender


def _masked_line(to: str, number):
    """Whether `number` is `to`'s masked line in an open session (an SQL condition)."""
    # Uses index: uq_participants_active_route (phone, proxy_number) WHERE active
    return exists().where(Participant.phone == to, Participant.proxy_number == number,
                          Participant.active)


def sender_now(db: Session, message: OutboundMessage, config: Config, *,
               unresolved: bool) -> str:
    """The number to send a queued text from now: the one chosen when it was accepted, unless
    it was retired since (it may have been released at Twilio) or a session opened since made
    it the recipient's masked line: then choose_sender's pick (503 ServiceUnavailable when
    there is none). Never while an earlier attempt may be at Twilio and no lookup has said it
    is not (`unresolved`): it is looked up from that number, and a text found there from
    another would be sent again."""
    if unresolved or message.from_phone == config.sender_number:
        return message.from_phone
    # Uses index: uq_proxy_numbers_phone_number
    still_fits = db.scalar(select(
        exists().where(ProxyNumber.phone_number == message.from_phone,
                       ProxyNumber.status == "active", ProxyNumber.sms.is_(True))
        & ~_masked_line(message.to_phone, message.from_phone)))
    return message.from_phone if still_fits else choose_sender(db, to=message.to_phone,
                                                                config=config)


def _is_pool_number(db: Session, phone: str, config: Config) -> bool:
    return phone == config.sender_number or bool(pool_service.pool_numbers_among(db, [phone]))


def _replay(db: Session, *, requested_by: str | None, idempotency_key: str, to: str, body: str,
            purpose: str, booking_id: str | None) -> OutboundMessage | None:
    """The message this caller already queued under this Idempotency-Key, if any."""
    # Uses index: uq_outbound_messages_requested_by_idempotency_key
    existing = db.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.requested_by == requested_by)
        .where(OutboundMessage.idempotency_key == idempotency_key)
    )
    if existing is None:
        return None
    # A body this process cannot read (its key is not in ENCRYPTION_KEYS here: a web process
    # not yet deployed with the new key, or a key removed), or one retention removed (null),
    # is no proof of another message: a 409 would tell the retrying client its text differs,
    # so the other fields decide.
    stored = body if existing.body is UNAVAILABLE or existing.body is None else existing.body
    if (existing.to_phone, stored, existing.purpose, existing.booking_id) != (
            to, body, purpose, booking_id):
        raise Conflict("This Idempotency-Key was already used for a different message.")
    return existing


def _accepted_as(to: str, purpose: str, now: dt.datetime,
                 config: Config) -> tuple[str, dt.datetime | None]:
    """The status a text is accepted with, and when it is due if not at once: marketing waits
    for the recipient's allowed hours."""
    due = quiet_hours.next_allowed(to, now, config) if purpose == "marketing" else now
    return ("scheduled", due) if due > now else ("queued", None)


def accepted_as(message: OutboundMessage, config: Config) -> tuple[str, dt.datetime | None]:
    """What POST /v1/messages answered when it accepted this text (status, scheduled_for),
    for a replayed Idempotency-Key: the worker may have deferred it since (scheduled_for set
    then), which GET /v1/messages/{id} shows."""
    return _accepted_as(message.to_phone, message.purpose, message.created_at, config)


# The most a text may go late, by purpose, and the setting that says so.
MAX_DELAY_SETTINGS = {"transactional": "OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS",
                      "marketing": "OUTBOX_MARKETING_MAX_DELAY_SECONDS"}


def _max_delay(message: OutboundMessage, config: Config) -> tuple[str, int]:
    """The setting that says how late a text of this purpose may go, and its seconds."""
    setting = MAX_DELAY_SETTINGS[message.purpose]
    return setting, getattr(config, setting.lower())


def send_by(message: OutboundMessage, config: Config) -> dt.datetime:
    """The latest a text may still be sent: its purpose's most delay after it was first due
    (accepted; a marketing text accepted in quiet hours, the allowed hour it was scheduled
    for). A retry is never put off past it; a text still unsent then expires."""
    return first_due(message, config) + dt.timedelta(seconds=_max_delay(message, config)[1])


def first_due(message: OutboundMessage, config: Config) -> dt.datetime:
    """When the text was first due: accepted, or the allowed hour it was scheduled for."""
    return accepted_as(message, config)[1] or message.created_at


# A text Twilio took: `sent`, and the statuses its callbacks move that on to, but `failed`,
# which also holds every text the worker failed unsent (expired in an outage, a 4xx): read at
# each failed attempt of an outage, the index range would hold all of those (a text the
# carrier failed is `sent` for a while first). Not `simulated`: that reached no Twilio.
TAKEN_STATUSES = ("sent", "delivered", "undelivered")


def twilio_took_a_text_since(db: Session, since: dt.datetime) -> bool:
    """Whether Twilio took any platform text at or after `since`. If not, a 5xx or network
    error meanwhile is Twilio's outage, not a fault of the text that met it."""
    # Uses index: ix_outbound_messages_status_next_attempt. A text sent by a worker keeps
    # the next_attempt_at of the lease it was sent under, which ends after its sent_at (a
    # lease outlasts Twilio's HTTP timeout): the range holds one lease's worth of texts.
    return bool(db.scalar(select(exists().where(
        OutboundMessage.status.in_(TAKEN_STATUSES),
        OutboundMessage.next_attempt_at >= since,
        OutboundMessage.sent_at >= since))))


def expired(message: OutboundMessage, config: Config, now: dt.datetime) -> str | None:
    """Why the text is too late to be sent at `now` (its last_error), or None."""
    if now < send_by(message, config):
        return None
    setting, seconds = _max_delay(message, config)
    return f"expired: not sent within {seconds} s of when it was due ({setting})"


class Accepted(NamedTuple):
    message: OutboundMessage
    queued: bool  # this call queued it; False: a replay found the text an earlier one queued


def accept(
    db: Session, *, to: str, body: str, purpose: str, booking_id: str | None,
    requested_by: str | None, config: Config, now: dt.datetime,
    idempotency_key: str | None = None,
) -> Accepted:
    """Queue a text to `to` (E.164) if consent allows it; marketing waits for allowed hours.

    With an idempotency key, a repeat of an accepted request returns the message already
    queued (whatever consent says now) and queues nothing more; when an erasure of `to`
    removed that message, a 409 (Conflict): it is never sent again.
    """
    request = dict(to=to, body=body, purpose=purpose, booking_id=booking_id)
    if idempotency_key is not None:
        existing = _replay(db, requested_by=requested_by, idempotency_key=idempotency_key,
                           **request)
        if existing is not None:
            return Accepted(existing, queued=False)
        if erasure_ledger.erased_idempotency_key(db, to=to, requested_by=requested_by,
                                                 idempotency_key=idempotency_key, config=config):
            raise Conflict("This Idempotency-Key's text was removed when its recipient's data"
                           " was erased; it is not sent again. Send a new text under a new key.")
    errors = {}
    if purpose not in PURPOSES:
        errors["purpose"] = [f"must be one of {', '.join(PURPOSES)}"]
    if body_errors(body):
        errors["body"] = body_errors(body)
    if booking_id is not None and not 1 <= len(booking_id) <= MAX_BOOKING_ID:
        errors["booking_id"] = [f"1-{MAX_BOOKING_ID} characters"]
    if _is_pool_number(db, to, config):
        errors["to"] = [pool_service.NOT_A_PERSON]
    elif is_costly(to):
        errors["to"] = [COSTLY_NUMBER]
    if errors:
        raise ValidationFailed(errors=errors)
    decision = check_consent(db, to=to, purpose=purpose, config=config, now=now)
    if not decision.allowed:
        why = CONSENT_REFUSALS.get(decision.reason, "consent does not allow {purpose} texts")
        raise ConsentRequired(why.format(purpose=purpose) + ".", reason=decision.reason)
    sender = choose_sender(db, to=to, config=config)
    status, scheduled_for = _accepted_as(to, purpose, now, config)
    message = OutboundMessage(
        id=new_id(), to_phone=to, from_phone=sender, body=body, purpose=purpose,
        booking_id=booking_id, status=status, scheduled_for=scheduled_for,
        next_attempt_at=scheduled_for or now, attempts=0,
        requested_by=requested_by, idempotency_key=idempotency_key, created_at=now,
        updated_at=now,
    )
    def add() -> OutboundMessage:
        db.add(message)
        return message

    # message, or the one a concurrent retry under the same key queued first
    stored = insert_or_replay(db, add, lambda: _replay(
        db, requested_by=requested_by, idempotency_key=idempotency_key,
        **request) if idempotency_key is not None else None)
    return Accepted(stored, queued=stored is message)


def log_accepted(message: OutboundMessage) -> None:
    """Log a text this request queued; called once its commit went through (never before: a
    failed commit would leave a line for a text never stored)."""
    log.info("accepted %s %s to %s (%s)", message.id, message.purpose, mask(message.to_phone),
             message.status)


def get(db: Session, message_id: str) -> OutboundMessage:
    message = db.get(OutboundMessage, message_id) if len(message_id) <= 40 else None
    if message is None:
        raise NotFound("No such message.")
    return message


def get_visible(db: Session, message_id: str, *, retention: Retention, now: dt.datetime
                ) -> tuple[OutboundMessage, bool]:
    """A platform text as a read may show it, and whether its body may be shown: past its
    retention period it is gone (404) and its body hidden at once, as in the logs and the
    export, whether or not the retention job has run (unless a hold covers it)."""
    message = get(db, message_id)
    gone, body_gone = row_past_retention(db, ("outbound_messages", "outbound_bodies"),
                                         message.id, retention=retention, now=now)
    if gone:
        raise NotFound("No such message.")
    return message, not body_gone


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
    worker's, recorded after losing its lease), which takes no SID another text holds.
    """
    if not outbound_id or len(outbound_id) > 40:
        return False
    message = db.get(OutboundMessage, outbound_id, with_for_update=True)
    if message is None:
        forget_unheld_send(db, twilio_sid, now=now)
        return False
    first_copy = bool(twilio_sid) and message.twilio_sid is None
    if first_copy and not proof and _holder(db, twilio_sid, message) is not None:
        return True  # that text's own callback named it since the lookup: that text's copy
    if first_copy:
        _give_back(db, twilio_sid, to=message, now=now)
        message.twilio_sid = twilio_sid  # whatever the status: it names Twilio's copy
    elif twilio_sid and forget_extra_copy(db, message, twilio_sid, now=now):
        return True  # the copy's status, not the text's: that is its own SID's
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


def _give_back(db: Session, twilio_sid: str, *, to: OutboundMessage,
               now: dt.datetime) -> None:
    """Free the SID a status callback (`?o=`, our own URL: proof) says is `to`'s when another
    text holds it. Only a reconciliation gives a text a SID it did not send (the same body to
    the same number): that text's own copy is unaccounted for, so it goes back to the queue as
    uncertain, looked up at Twilio again (a copy of its own is found) or sent. Left holding
    the SID, one of two identical texts was silently never sent."""
    holder = _holder(db, twilio_sid, to)
    if holder is None:
        return
    log.warning("%s: status callback names %s, recorded for %s by a lookup; %s looked up"
                " again or sent", to.id, twilio_sid, holder.id, holder.id)
    holder.twilio_sid = holder.sent_at = holder.error_code = None
    holder.status, holder.next_attempt_at, holder.updated_at = "queued", now, now
    holder.send_started_at = holder.created_at  # uncertain: reconciled before any send
    holder.last_error = f"its Twilio SID was {to.id}'s (a status callback said so)"
    db.flush()  # the SID is unique: freed before `to` takes it


def _holder(db: Session, twilio_sid: str, message: OutboundMessage) -> OutboundMessage | None:
    """The other text that holds `twilio_sid`, locked, or None."""
    # Uses index: uq_outbound_messages_twilio_sid
    return db.scalar(select(OutboundMessage).where(OutboundMessage.twilio_sid == twilio_sid,
                                                   OutboundMessage.id != message.id)
                     .with_for_update())


def forget_extra_copy(db: Session, message: OutboundMessage, twilio_sid: str, *,
                      now: dt.datetime) -> bool:
    """Twilio reports `twilio_sid` for `message`, which holds another SID: a second copy of the
    text (resent after a lookup that did not find the first, or by a worker that outlived its
    lease). Nothing would ever delete it at Twilio (retention and erasure delete the SID the
    text holds), so its deletion is queued now, in the caller's transaction; True. False: it
    is the text's own SID, or another text's (a lookup's pick, see _give_back)."""
    if twilio_sid == message.twilio_sid or message.twilio_sid is None:
        return False
    # Uses index: uq_outbound_messages_twilio_sid
    if db.scalar(select(OutboundMessage.id).where(OutboundMessage.twilio_sid == twilio_sid)):
        return False
    log.warning("%s: a second copy at Twilio, %s (the text keeps %s); deleted there", message.id,
                twilio_sid, message.twilio_sid)
    remote.enqueue_message(db, [twilio_sid], action=remote.DELETE, cause=EXTRA_COPY, now=now)
    return True


def forget_unheld_send(db: Session, twilio_sid: str | None, *, now: dt.datetime) -> None:
    """Twilio holds a text whose row is gone (an erasure removed it while it was being sent):
    queue the deletion of Twilio's copy in the caller's transaction (no-op without a SID)."""
    remote.enqueue_message(db, [twilio_sid], action=remote.DELETE, cause=remote.ORPHAN, now=now)


def on_status_callback(db: Session, outbound_id: str, change, now: dt.datetime) -> bool:
    """The message-status webhook's handler for `?o=` (change: status, error_code, message_sid)."""
    return apply_outbound_status(db, outbound_id, change.status, change.error_code, now,
                                 twilio_sid=change.message_sid)
