"""Which number a text goes from: the configured sender, else a pool number of the recipient's
country that is not their masked line; chosen on acceptance, checked again before the send.
"""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.errors import PoolExhausted, ServiceUnavailable
from commsvc.phones import locality
from commsvc.pool.models import ProxyNumber
from commsvc.sending.models import OutboundMessage
from commsvc.sessions.models import Participant


class NoSender(ServiceUnavailable):
    """No number may send this text: the pool's state, as API.md's `pool-exhausted` for a
    session's proxy number (retry once a number is added or the recipient's session ends), not
    a fault of the request; a ServiceUnavailable, so the worker waits it out."""

    type, title = PoolExhausted.type, "No number can send this text"


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
        raise NoSender(
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
    it the recipient's masked line: then choose_sender's pick (503 NoSender when there is
    none). Never while an earlier attempt may be at Twilio and no lookup has said it
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
