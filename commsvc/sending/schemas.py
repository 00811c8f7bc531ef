"""Request and response schemas of the sending API (they validate and they write the OpenAPI)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from commsvc.config.replies import MAX_SMS_CHARS
from commsvc.fields import (
    BOOKING_ID,
    BodySchema,
    Phone,
    RequestHeaders,
    idempotency_key_header,
)
from commsvc.sending.service import PURPOSES, body_errors


def _body(value: str) -> None:
    problems = body_errors(value)
    if problems:
        raise ValidationError(problems)


class SendMessageSchema(BodySchema):
    to = Phone(
        required=True,
        metadata={"description": "E.164, or a national number of DEFAULT_REGION",
                  "example": "+14155550101"})
    body = fields.String(
        required=True, validate=_body,
        metadata={"description": f"1-{MAX_SMS_CHARS} characters (UTF-16 units, as Twilio"
                                 " counts them)"})
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))
    booking_id = fields.String(load_default=None, allow_none=True, validate=BOOKING_ID)


class SendHeadersSchema(RequestHeaders):
    idempotency_key = idempotency_key_header(
        "A retry with the same key and the same message gets the message already queued (202)"
        " and queues nothing; the same key with another message is a 409, and so is a retry"
        " whose text an erasure of its recipient's data removed (it is never sent again).")


class MessageAcceptedSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "queued or scheduled, as when it was accepted (a replayed"
                                 " Idempotency-Key too; GET /v1/messages/{id} says what"
                                 " became of it)"})
    scheduled_for = fields.String(
        metadata={"description": "When a held marketing text will go (UTC); only when"
                                 " scheduled"})


class MessageSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "queued, scheduled, sending, sent, simulated, delivered,"
                                 " undelivered, failed or blocked. failed also when it could"
                                 " not go in time: a transactional text still unsent an hour"
                                 " after it was due, a marketing text a day after"
                                 " (OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS,"
                                 " OUTBOX_MARKETING_MAX_DELAY_SECONDS; last_error starts"
                                 " 'expired'), e.g. while Twilio refused it for the sender's"
                                 " full queue (21611), refused the credentials (401) or"
                                 " throttled the account (429) or was down (5xx, network"
                                 " errors for every text)"})
    to = fields.String(metadata={"description": "Masked unless the caller sees full numbers"})
    from_ = fields.String(data_key="from", allow_none=True)
    purpose = fields.String()
    booking_id = fields.String(allow_none=True)
    body = fields.String(
        allow_none=True,
        metadata={"description": "Only for booking keys (they sent it) and privacy/admin keys"
                                 " with X-Access-Reason; null once retention removed it"})
    body_unavailable = fields.Boolean(metadata={
        "description": "present and true when the body's encryption key is not configured"
                       " (body is then null)"})
    scheduled_for = fields.String(allow_none=True)
    attempts = fields.Integer(metadata={
        "description": "Sends tried that Twilio may have taken or failed for the text's sake;"
                       " a refusal about the sender (21611 queue full, 401 credentials) or the"
                       " moment (429 throttled), a wait for the setup (no number to send"
                       " from, a worker without the body's key), or a 5xx or network error"
                       " while Twilio took no other text (an outage), is not counted: such a"
                       " text waits until it is too late instead"})
    twilio_sid = fields.String(allow_none=True)
    error_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True, metadata={
        "description": "Why it was blocked or failed, or why the last attempt did not go"
                       " (null once sent); phone numbers in it masked unless the caller sees"
                       " full numbers"})
    created_at = fields.String()
    updated_at = fields.String()
    sent_at = fields.String(allow_none=True)
