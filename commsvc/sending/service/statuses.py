"""A platform text's statuses, their order, Twilio's words for them, and the words of a text
blocked by an erasure; whether Twilio took any text since a time (an outage, or not).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from commsvc.sending.models import OutboundMessage

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
ERASED_BEFORE_SENDING = "not sent: the recipient's data was erased"
ERASED_AFTER_AN_ATTEMPT = ("not sent again: the recipient's data was erased (an earlier"
                           " attempt may have reached Twilio)")
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
