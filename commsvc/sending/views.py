"""/v1/messages: accept platform texts into the outbox, and read their status."""
from __future__ import annotations

import datetime as dt

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, union_all

from commsvc import crypto
from commsvc.api_docs import LOCATION, Blueprint, location, problems
from commsvc.auth.guard import current_principal, require
from commsvc.auth.service import Principal
from commsvc.auth.visibility import (
    audit_reasoned_read,
    present_phone,
    present_pool_number,
    present_text,
)
from commsvc.clock import isoformat
from commsvc.db.session import get_db
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.health import metric_source
from commsvc.sending import service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.schemas import (
    MessageAcceptedSchema,
    MessageSchema,
    SendHeadersSchema,
    SendMessageSchema,
)

blp = Blueprint("sending_views", __name__, description="Transactional and marketing texts")

# Roles that see the body of a platform text: booking sent it; privacy/admin with a reason.
BODY_ROLES = frozenset({"booking"})


def sees_body(principal: Principal) -> bool:
    return principal.role in BODY_ROLES or principal.reason is not None


@blp.route("/v1/messages", methods=["POST"])
@require("messages:send")
@blp.arguments(SendMessageSchema)
@blp.arguments(SendHeadersSchema, location="headers")
@blp.response(202, MessageAcceptedSchema, headers=LOCATION)
@problems(blp, 400, 401, 403, 409, 422, 503)
def send_message(args, headers):
    """Queue a text; marketing is held to the recipient's allowed hours. 409 without consent.

    503 with type `pool-exhausted`: no number may send it (TWILIO_SENDER_NUMBER unset, and no
    active SMS pool number of the recipient's country that is not their masked line in an
    open session); nothing is stored: retry once a number is added or that session ends.
    """
    to = args["to"]
    db, now = get_db(), _now()
    message, queued_now = service.accept(
        db, to=to, body=args["body"], purpose=args["purpose"], booking_id=args["booking_id"],
        requested_by=current_principal().actor, config=_config(), now=now,
        idempotency_key=headers["idempotency_key"],
    )
    db.commit()
    if queued_now:
        service.log_accepted(message)
    # As when it was accepted, a replayed Idempotency-Key too (API.md: queued or scheduled);
    # what became of it since is GET /v1/messages/{id}'s to say.
    status, scheduled_for = service.accepted_as(message, _config())
    answer = {"id": message.id, "status": status}
    if scheduled_for is not None:
        answer["scheduled_for"] = isoformat(scheduled_for)
    return answer, 202, location("sending_views.get_message", message_id=message.id)


def _message_out(principal: Principal, message: OutboundMessage,
                 body_visible: bool = True) -> dict:
    body = message.body if sees_body(principal) and body_visible else None
    answer = {
        "id": message.id, "status": message.status,
        "to": present_phone(principal, message.to_phone),
        "from_": present_pool_number(principal, message.from_phone),
        "purpose": message.purpose, "booking_id": message.booking_id,
        "body": None if body is crypto.UNAVAILABLE else body,
        "scheduled_for": isoformat(message.scheduled_for), "attempts": message.attempts,
        "twilio_sid": message.twilio_sid, "error_code": message.error_code,
        "last_error": present_text(principal, message.last_error),
        "created_at": isoformat(message.created_at), "updated_at": isoformat(message.updated_at),
        "sent_at": isoformat(message.sent_at),
    }
    if body is crypto.UNAVAILABLE:  # as the logs say it: never a placeholder in `body`
        answer["body_unavailable"] = True
    return answer


@blp.route("/v1/messages/<message_id>", methods=["GET"])
@require("messages:read", reads_only=True)
@blp.response(200, MessageSchema)
@problems(blp, 401, 403, 404)
def get_message(message_id):
    """A platform text's status (its body only for callers who may see bodies)."""
    db, principal, now = get_db(), current_principal(), _now()
    message, body_visible = service.get_visible(db, message_id,
                                                retention=_config().retention, now=now)
    if principal.reason is not None:
        audit_reasoned_read(db, principal, resource="outbound_message",
                            query={"id": message.id}, count=1, now=now)
        db.commit()
    return _message_out(principal, message, body_visible)


@metric_source
def outbox_metrics(db, now: dt.datetime):
    """Outbox depth by status and how late the oldest due message is (alert when it grows)."""
    # Uses index: ix_outbound_messages_status_next_attempt
    pending = dict(db.execute(
        select(OutboundMessage.status, func.count())
        .where(OutboundMessage.status.in_(service.DUE_STATUSES))
        .group_by(OutboundMessage.status)).all())
    depth = GaugeMetricFamily("commsvc_outbox_messages", "Platform texts not yet handed to Twilio",
                              labels=["status"])
    for status in service.DUE_STATUSES:
        depth.add_metric([status], pending.get(status, 0))
    # Counted from when the text was due (accepted, or the allowed hour it is scheduled for),
    # not from its next attempt: a text Twilio keeps refusing (401, 429, 5xx, 21611) is put
    # off again after each refusal, and would read as a few seconds late for ever. A text
    # still scheduled is due at its next attempt (its hour): only those due are read, not a
    # whole blast waiting for the morning.
    due = func.coalesce(OutboundMessage.scheduled_for, OutboundMessage.created_at)
    firsts = union_all(
        # Uses index: ix_outbound_messages_status_next_attempt (the queued and sending rows)
        select(func.min(due).label("due"))
        .where(OutboundMessage.status.in_([s for s in service.DUE_STATUSES if s != "scheduled"]))
        .where(due <= now),
        # Uses index: ix_outbound_messages_status_next_attempt (the scheduled rows now due)
        select(func.min(due))
        .where(OutboundMessage.status == "scheduled", OutboundMessage.next_attempt_at <= now),
    ).subquery()
    oldest = db.scalar(select(func.min(firsts.c.due)))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)  # SQLite's MIN() bypasses the column type
    yield depth
    yield GaugeMetricFamily("commsvc_outbox_oldest_due_seconds",
                            "How long the oldest due platform text not yet sent has waited"
                            " since it was due (no worker, or Twilio refusing it)",
                            value=(now - oldest).total_seconds() if oldest else 0)
