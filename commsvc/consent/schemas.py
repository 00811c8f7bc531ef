"""Request and response schemas of the consent API (they validate and they write the OpenAPI)."""
from __future__ import annotations

import re
import unicodedata

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from commsvc.consent.decisions import MAX_HISTORY_LIMIT
from commsvc.consent.evidence import ACTIONS, RECEIVED, SOURCE_RE, SYSTEM_SOURCES
from commsvc.consent.models import ALL, CHANNELS, PURPOSES
from commsvc.fields import (
    BodySchema,
    QueryArguments,
    QueryLimit,
    QueryPhone,
    RequestHeaders,
    idempotency_key_header,
)
from commsvc.paging import CURSOR_DESCRIPTION


def _api_source(value: str) -> None:
    if not SOURCE_RE.fullmatch(value):
        raise ValidationError("1-32 characters: lower-case letters, digits, _ . : -")
    # Nor one that reads as one of them ("sms_keyword.", "sms-keyword:v2"): the ledger's
    # history would show an API event as a keyword opt-out.
    if _WITHOUT_PUNCTUATION.sub("", value).startswith(_SYSTEM_WORDS):
        raise ValidationError(f"{value} reads as a source commsvc records itself, not through"
                              " the API")


_WITHOUT_PUNCTUATION = re.compile(r"[_.:-]")
_SYSTEM_WORDS = tuple(_WITHOUT_PUNCTUATION.sub("", source) for source in sorted(SYSTEM_SOURCES))


def _blank(text: str) -> bool:
    """Only spaces and invisible characters (a zero-width space is no evidence)."""
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc") for c in text)


def _says_something(value) -> bool:
    """Whether evidence holds at least one value that is not empty ({"a": null} does not);
    a walk, not a recursion: the nesting limit is checked later."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif item is not None and not (isinstance(item, str) and _blank(item)):
            return True
    return False


class Evidence(fields.Field):
    """The caller's evidence: a JSON object, or a plain statement kept as {"statement": ...}."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if _blank(value):
                raise ValidationError("must not be empty")
            return {"statement": value}
        if not isinstance(value, dict):
            raise ValidationError("must be an object or a string")
        if not _says_something(value):
            raise ValidationError("must not be empty: say what proves it")
        if RECEIVED in value:
            raise ValidationError(f'"{RECEIVED}" is written by commsvc itself')
        return value


class ConsentWriteSchema(BodySchema):
    channel = fields.String(required=True, validate=validate.OneOf((*CHANNELS, ALL)))
    purpose = fields.String(required=True, validate=validate.OneOf((*PURPOSES, ALL)))
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    source = fields.String(
        required=True, validate=_api_source,
        metadata={"description": "Where the decision was taken, e.g. api, support, signup_form:"
                                 " 1-32 characters, lower-case letters, digits, _ . : -; not"
                                 f" {', '.join(sorted(SYSTEM_SOURCES))} (recorded by commsvc"
                                 " itself), nor one that reads as them without _ . : -",
                  "pattern": f"^{SOURCE_RE.pattern}$", "minLength": 1, "maxLength": 32,
                  "not": {"enum": sorted(SYSTEM_SOURCES)},
                  "example": "signup_form"},
    )
    evidence = Evidence(
        load_default=None,
        metadata={"description": "What proves it: an object (form name and version, the user's"
                                 " IP, ...) or a plain statement; at most 8 KiB. Kept as given;"
                                 f' commsvc adds "{RECEIVED}": the API key id and the IP the'
                                 " request came from. Required for a grant; a revocation is"
                                 " recorded without it (a person's request to stop is honoured"
                                 " however it reached you).",
                  # null is not given (BodySchema); OpenAPI 3.0 reads the field's own
                  # `nullable` only beside a `type`, so one alternative says it.
                  "oneOf": [{"type": "object", "minProperties": 1, "nullable": True},
                            {"type": "string", "minLength": 1}],
                  "example": {"form": "signup", "version": "2026-05"}},
    )

    @validates_schema
    def _a_grant_needs_evidence(self, data, **kwargs):
        if data.get("action") == "grant" and data.get("evidence") is None:
            raise ValidationError({"evidence": ["Missing data for required field (a grant must"
                                                " say what proves it)."]})


class CheckQuerySchema(QueryArguments):
    phone = QueryPhone(required=True, metadata={
        "description": "E.164 (its + encoded as %2B, or left as a +), or national format of"
                       " DEFAULT_REGION", "example": "+14155550101"})
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))


class HistoryQuerySchema(QueryArguments):
    limit = QueryLimit(load_default=50, validate=validate.Range(1, MAX_HISTORY_LIMIT))
    cursor = fields.String(load_default=None, metadata={"description": CURSOR_DESCRIPTION})


class DecisionSchema(Schema):
    allowed = fields.Boolean(required=True)
    reason = fields.String(
        required=True,
        metadata={"description": "granted, revoked, default_allowed or no_grant"},
    )


class StateRowSchema(Schema):
    channel = fields.String()
    purpose = fields.String()
    allowed = fields.Boolean()
    reason = fields.String()
    since = fields.String(allow_none=True, metadata={
        "format": "date-time", "description": "null: the default applies"})
    basis = fields.String(metadata={"description": "event or default"})
    event_id = fields.Integer(allow_none=True)


class ConsentStateSchema(Schema):
    phone = fields.String()
    state = fields.List(fields.Nested(StateRowSchema))


class ConsentEventSchema(Schema):
    id = fields.Integer()
    phone = fields.String()
    channel = fields.String()
    purpose = fields.String()
    action = fields.String()
    source = fields.String()
    evidence = fields.Dict(metadata={
        "description": "As recorded, except for callers who do not see full numbers (ops;"
                       " privacy and admin without X-Access-Reason): for them every phone"
                       " number written in it is masked and the message text and IPs are"
                       " left out."})
    created_at = fields.String(metadata={"format": "date-time"})


class ConsentHistorySchema(Schema):
    data = fields.List(fields.Nested(ConsentEventSchema))
    next_cursor = fields.String(allow_none=True)


class ConsentHeadersSchema(RequestHeaders):
    idempotency_key = idempotency_key_header(
        "A retry with the same key and the same decision gets the event already recorded"
        " (201) and records nothing; the same key with another decision is a 409.")
