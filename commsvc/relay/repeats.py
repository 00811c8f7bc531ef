"""A repeated webhook (same SID): the row the first one claimed, and whether what it
forwarded (or bridged) goes out again."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.crypto import UNAVAILABLE
from commsvc.records.erasure_ledger import erased_since
from commsvc.relay.inbound import (
    FORWARDED,
    Forward,
    InboundSms,
)
from commsvc.relay.models import Message
from commsvc.sessions.routing import Route


def claimed(db: Session, model, sid: str):
    """The row another request claimed for this SID (committed: READ COMMITTED waited for it),
    or None when erasure or retention has removed it since."""
    # Uses index: uq_messages_twilio_sid / uq_calls_twilio_sid
    return db.scalars(select(model).where(model.twilio_sid == sid)).one_or_none()


def still_reaches(db: Session, to: str, route: Route | None, *, channel: str,
                  stored_at: dt.datetime, config: Config) -> bool:
    """Whether a repeated webhook forwards its stored text (or bridges its call) to `to` again.

    Twilio repeats a webhook only when it did not get the first answer, so the message or
    <Dial> that answer carries goes out now, for the first time: never to someone who has
    revoked that channel (STOP), or been erased, since. A closed or expired session's text or
    call still goes: it came while the session was open.
    """
    takes = route and (route.other_takes_sms if channel == "sms" else route.other_takes_calls)
    return bool(takes and route.other_phone == to) and not erased_since(db, to, stored_at, config)


def stored_forward(message: Message, repeat: InboundSms) -> Forward | None:
    """The stored text's forward, for a repeat of its webhook. A body or media list this
    process cannot read (it lacks the key they were stored under) is taken from the repeat
    itself: Twilio signed it and sends a message's own text again, and a placeholder must
    never be texted to the recipient."""
    if message.outcome != FORWARDED or not (message.forward_to and message.forward_from):
        return None
    body = repeat.body if message.body is UNAVAILABLE else message.body or ""
    media = ()
    if message.media_urls is UNAVAILABLE:
        media = repeat.media_urls
    elif message.media_urls:
        media = tuple(json.loads(message.media_urls))
    return Forward(message.forward_to, message.forward_from, body, media)
