"""POST /v1/messages: accept a platform text into the durable outbox if consent allows it, or
replay the one an Idempotency-Key already queued.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from commsvc.config.replies import MAX_SMS_CHARS, sms_length
from commsvc.config.settings import Config
from commsvc.consent import decisions as consent
from commsvc.crypto import UNAVAILABLE
from commsvc.db.inserts import insert_or_replay
from commsvc.errors import Conflict, ConsentRequired, ValidationFailed
from commsvc.fields import MAX_BOOKING_ID, shows_nothing
from commsvc.phones import COSTLY_NUMBER, is_costly, mask
from commsvc.pool import service as pool_service
from commsvc.records import erasure_ledger
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service.schedule import accepted_status
from commsvc.sending.service.senders import choose_sender

log = logging.getLogger("commsvc.sending")

PURPOSES = ("transactional", "marketing")

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
    pool_service.hold_off_pool_adds(db, to)  # its checks below see `to` being added
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
    status, scheduled_for = accepted_status(to, purpose, now, config)
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
