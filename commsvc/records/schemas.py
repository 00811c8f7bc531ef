"""Input and output schemas of the records API (logs, audit, holds): they validate and document."""
from __future__ import annotations

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from commsvc.api_docs import problems  # noqa: F401  (re-exported for the records views)
from commsvc.fields import (
    BodySchema,
    QueryArguments,
    QueryLimit,
    QueryPhone,
    QueryUtcDateTime,
    RequestHeaders,
    phone_in,
)
from commsvc.paging import CURSOR_DESCRIPTION, DEFAULT_LIMIT, MAX_LIMIT
from commsvc.records import audit
from commsvc.records.holds import hold_errors
from commsvc.records.logs_service import (
    CALL_STATUSES,
    DIRECTIONS,
    MESSAGE_STATUSES,
    period_problem,
)


class PagingQuery(QueryArguments):
    class Meta:
        unknown = EXCLUDE

    limit = QueryLimit(load_default=DEFAULT_LIMIT,
                           validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"1-{MAX_LIMIT}, default {DEFAULT_LIMIT}"})
    cursor = fields.String(validate=validate.Length(min=1, max=200),
                           metadata={"description": CURSOR_DESCRIPTION})


class UntilAfterSince:
    """A query's period: since (inclusive) and until (exclusive), which ends after it starts,
    for the logs and the audit log alike. Judged with the fields' own errors
    (skip_on_field_errors=False; `data` holds only the fields that loaded), so one 422 names
    every wrong field."""

    since = QueryUtcDateTime(metadata={"description": "created at or after (inclusive)"})
    until = QueryUtcDateTime(metadata={"description": "created before (exclusive)"})

    @validates_schema(skip_on_field_errors=False)
    def _until_after_since(self, data, **_kwargs):
        if problem := period_problem(data.get("since"), data.get("until")):
            raise ValidationError(problem, "until")


class LogQuery(UntilAfterSince, PagingQuery):
    phone = QueryPhone(recorded=True, validate=validate.Length(max=32), metadata={
        "description": "matches the sender, the recipient or where it was forwarded"})
    session_id = fields.String(validate=validate.Length(min=1, max=40))
    booking_id = fields.String(validate=validate.Length(min=1, max=128))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))


class MessageLogQuery(LogQuery):
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))


class CallLogQuery(LogQuery):
    status = fields.String(validate=validate.OneOf(CALL_STATUSES))


class ReasonHeader(RequestHeaders):
    """Documents X-Access-Reason (the guard reads and checks it before any parsing)."""

    reason = fields.String(data_key="X-Access-Reason", validate=validate.Length(max=500),
                           metadata={"description": "privacy and admin only: why full numbers "
                                                    "and bodies are needed (the read is audited)"})


class AuditQuery(UntilAfterSince, PagingQuery):
    actor = fields.String(validate=validate.Length(min=1, max=64))
    action = fields.String(validate=validate.OneOf(audit.ACTIONS))


class HoldListQuery(PagingQuery):
    include_lifted = fields.Boolean(load_default=False)


class HoldCreate(BodySchema):
    class Meta:
        unknown = RAISE

    scope = fields.String(required=True, metadata={"description": "phone, session or booking"})
    value = fields.String(required=True, validate=validate.Length(min=1, max=128))
    reason = fields.String(required=True, validate=validate.Length(max=500))

    # skip_on_field_errors=False: judged with the fields' own errors, so one 422 names them all
    # (`data` holds only the fields that loaded).
    @validates_schema(skip_on_field_errors=False)
    def _hold_rules(self, data, **_kwargs):
        scope, value = data.get("scope"), data.get("value")
        errors = hold_errors(scope, value, data.get("reason"))
        if scope == "phone" and value is not None and "value" not in errors:
            try:
                phone_in(value.strip(), recorded=True)
            except ValidationError as error:
                errors["value"] = error.messages
        if errors:
            raise ValidationError(errors)

    @post_load
    def _held_phone_in_e164(self, data, **_kwargs):
        if data["scope"] == "phone":
            data["value"] = phone_in(data["value"].strip(), recorded=True)
        return data


_ROW_FIELDS = {
    "id": fields.Integer(),
    "session_id": fields.String(allow_none=True),
    "booking_id": fields.String(allow_none=True),
    "direction": fields.String(),
    "from": fields.String(metadata={"description": "masked unless a reasoned full read"}),
    "to": fields.String(metadata={"description": "masked unless a reasoned full read"}),
    "status": fields.String(),
    "outcome": fields.String(),
    "twilio_sid": fields.String(allow_none=True),
    "created_at": fields.String(metadata={"format": "date-time"}),
}
MessageRow = Schema.from_dict({
    **_ROW_FIELDS,
    "id": fields.Raw(metadata={
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "a relayed message's number, or a platform send's msg_… id "
                       "(direction outbound; GET /v1/messages/{id})"}),
    "media_count": fields.Integer(),
    "error_code": fields.Integer(allow_none=True, metadata={
        "description": "Twilio's error code when delivery failed (30003: unreachable, ...)"}),
    "body": fields.String(allow_none=True, metadata={
        "description": "null unless a reasoned privacy/admin read within the body period"}),
    "body_unavailable": fields.Boolean(metadata={
        "description": "present and true when the body's encryption key is gone"}),
}, name="MessageRow")
Recording = Schema.from_dict({
    "sid": fields.String(), "duration": fields.Integer(allow_none=True),
    "status": fields.String(allow_none=True, metadata={
        "description": "completed or failed (a failed one holds no audio; Twilio is not asked"
                       " to report progress); null while only the Dial's action has named the"
                       " recording. A recording Twilio reported absent (too short, silent)"
                       " is no recording: the call's recording is null"}),
}, name="Recording")
CallRow = Schema.from_dict({
    **_ROW_FIELDS,
    "duration_seconds": fields.Integer(allow_none=True),
    "recording": fields.Nested(Recording, allow_none=True),
}, name="CallRow")


class AuditEventOut(Schema):
    id = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    actor = fields.String()
    action = fields.String()
    reason = fields.String(allow_none=True)
    target = fields.Dict()
    details = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class HoldOut(Schema):
    id = fields.String()
    scope = fields.String()
    value = fields.String(allow_none=True, metadata={
        "description": "a phone is masked unless a reasoned read; null for a lifted hold whose"
                       " number was erased"})
    reason = fields.String()
    active = fields.Boolean()
    created_by = fields.String()
    created_at = fields.String(metadata={"format": "date-time"})
    lifted_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    lifted_by = fields.String(allow_none=True)


class HoldLifted(HoldOut):
    erased_again = fields.Dict(allow_none=True, metadata={
        "description": "what the lift erased, in its own transaction, of people erased while"
                       " the hold was in force (subjects: how many lost something; removed:"
                       " counts by kind, as an erasure's; rest_of_a_stopped_lift: true when"
                       " this lift ended one stopped before its end, whose counts are then"
                       " the rest); a repeated lift answers the first's; null for a hold"
                       " lifted before lifts did this, or whose first lift's event audit"
                       " retention purged"})


def page_schema(row_schema, name: str) -> type[Schema]:
    return Schema.from_dict({
        "data": fields.List(fields.Nested(row_schema)),
        "next_cursor": fields.String(allow_none=True),
    }, name=name)


MessagePage = page_schema(MessageRow, "MessagePage")
CallPage = page_schema(CallRow, "CallPage")
AuditPage = page_schema(AuditEventOut, "AuditPage")
HoldPage = page_schema(HoldOut, "HoldPage")

