"""Request and response shapes of the number pool API (unknown fields: 422)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from commsvc.fields import JsonBool, Phone
from commsvc.pool.service import CAPABILITIES, DEFAULT_CAPABILITIES, STATUSES
from commsvc.sessions.schemas import ListQuery, StrictSchema


class AddNumber(StrictSchema):
    phone_number = Phone(required=True, metadata={"example": "+16465550001"})
    capabilities = fields.List(
        fields.String(validate=validate.OneOf(CAPABILITIES)),
        load_default=list(DEFAULT_CAPABILITIES), validate=validate.Length(min=1, max=3),
        metadata={"example": ["sms", "voice"]},
    )
    reactivate = JsonBool(load_default=False, metadata={
        "description": "bring a retired number back (with these capabilities); without it,"
                       " any number already in the pool, retired or not, is a 409"})


class ListNumbersQuery(ListQuery):
    status = fields.String(validate=validate.OneOf(STATUSES))


class NumberOut(Schema):
    phone_number = fields.String(required=True, metadata={
        "description": "full for booking and admin keys, and for privacy keys that send "
                       "X-Access-Reason (audited); masked (+1******0001) for ops and privacy"})
    capabilities = fields.List(fields.String(validate=validate.OneOf(CAPABILITIES)),
                               required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    country_code = fields.Integer(required=True)
    area_code = fields.String(required=True, allow_none=True)
    open_sessions = fields.Integer(required=True, metadata={
        "description": "open, unexpired sessions using this number"})
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    retired_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})


class NumberPage(Schema):
    data = fields.List(fields.Nested(NumberOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
