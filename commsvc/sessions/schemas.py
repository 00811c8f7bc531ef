"""Request and response shapes of the Sessions API; the OpenAPI document is built from them.

Unknown-field policy: a request body or query string with a field not listed here is a 422
(marshmallow RAISE), so a misspelt field is never silently ignored.
"""
from __future__ import annotations

import math

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from commsvc.api_docs import ProblemDetails, problems  # noqa: F401  (re-exported)
from commsvc.extensions import config as _config
from commsvc.fields import (
    BOOKING_ID,
    BodySchema,
    JsonBool,
    Phone,
    QueryArguments,
    QueryLimit,
    UtcDateTime,
)
from commsvc.paging import CURSOR_DESCRIPTION, DEFAULT_LIMIT, MAX_LIMIT
from commsvc.sessions.service import MIN_TTL_SECONDS, participant_errors, ttl_problem

MODES = ("sms", "voice", "sms_and_voice")
STATUSES = ("open", "closed", "expired")


class StrictSchema(BodySchema):
    class Meta:
        unknown = RAISE


class ParticipantIn(StrictSchema):
    phone = Phone(required=True, metadata={"example": "+14155550101"})


NOT_A_JSON_NUMBER = 'must be a number of seconds written as a JSON number (3600, not "3600")'


class Seconds(fields.Float):
    """A session length in seconds, a JSON number: not a string, not a boolean, not NaN or
    infinity. "3600" is refused saying that a JSON number is wanted (it is a number of
    seconds, written as a string); NaN, infinity and an integer past a float's range
    (marshmallow's "Number too large.") with the range a length must be in."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(NOT_A_JSON_NUMBER)
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            raise ValidationError(ttl_problem(math.inf, _config().max_session_ttl_seconds)) \
                from None


class SessionLength(validate.Range):
    """Any positive number of seconds (down to a microsecond) up to MAX_SESSION_TTL_SECONDS,
    refused with the service's own message (the cap is configuration, read when validating);
    the OpenAPI document shows its minimum."""

    def __init__(self):
        super().__init__(min=MIN_TTL_SECONDS)

    def __call__(self, value):
        if why := ttl_problem(value, _config().max_session_ttl_seconds):
            raise ValidationError(why)
        return value


class ExpiryFields(StrictSchema):
    ttl_seconds = Seconds(validate=SessionLength(), metadata={
        "description": "any positive number of seconds from now (fractions too, down to a"
                       " microsecond), at most MAX_SESSION_TTL_SECONDS"})
    expires_at = UtcDateTime(metadata={"description": "a future time (UTC)"})

    @validates_schema
    def _one_expiry(self, data, **_kwargs):
        if "ttl_seconds" in data and "expires_at" in data:
            raise ValidationError("give ttl_seconds or expires_at, not both", "expires_at")


class CreateSession(ExpiryFields):
    booking_id = fields.String(required=True, validate=BOOKING_ID)
    requester = fields.Nested(ParticipantIn, required=True)
    pro = fields.Nested(ParticipantIn, required=True)
    mode = fields.String(load_default="sms_and_voice", validate=validate.OneOf(MODES))
    record_calls = JsonBool(load_default=False)

    # skip_on_field_errors=False: judged with the fields' own errors, so one 422 names them all
    # (`data` holds only the fields that loaded).
    @validates_schema(skip_on_field_errors=False)
    def _participants(self, data, **_kwargs):
        if errors := participant_errors(data.get("requester", {}).get("phone"),
                                        data.get("pro", {}).get("phone")):
            raise ValidationError(errors)


class ExtendSession(ExpiryFields):
    @validates_schema
    def _some_expiry(self, data, **_kwargs):
        if "ttl_seconds" not in data and "expires_at" not in data:
            raise ValidationError("give ttl_seconds or expires_at", "ttl_seconds")


class ListQuery(QueryArguments):
    class Meta:
        unknown = RAISE

    limit = QueryLimit(load_default=DEFAULT_LIMIT,
                           validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(metadata={"description": CURSOR_DESCRIPTION})


class ListSessionsQuery(ListQuery):
    booking_id = fields.String(validate=BOOKING_ID)
    status = fields.String(validate=validate.OneOf(STATUSES))


class ParticipantOut(Schema):
    phone = fields.String(required=True, allow_none=True, metadata={
        "description": "the real number: full for booking keys, else masked unless a reason "
                       "is given; null once the number was erased (POST /v1/subjects/{phone}"
                       "/erase)"})
    proxy_number = fields.String(required=True, metadata={
        "description": "the pool number: full for booking and admin keys, and for privacy keys "
                       "that give a reason; masked for ops and privacy"})


class SessionOut(Schema):
    id = fields.String(required=True)
    booking_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    closed_reason = fields.String(required=True, allow_none=True, metadata={
        "description": "closed (POST /v1/sessions/{id}/close) or erased (a participant's"
                       " number was erased); null while open or once expired"})
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    record_calls = fields.Boolean(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    expires_at = fields.String(required=True, metadata={"format": "date-time"})
    requester = fields.Nested(ParticipantOut, required=True)
    pro = fields.Nested(ParticipantOut, required=True)


class SessionPage(Schema):
    data = fields.List(fields.Nested(SessionOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
