"""GET /v1/messages/{id}: a platform text, as its retention lets a read show it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from commsvc.config.settings import Retention
from commsvc.errors import NotFound
from commsvc.records.retention_passes import row_past_retention
from commsvc.sending.models import OutboundMessage


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
