"""marshmallow fields shared by the API's schemas."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

from flask import has_request_context, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from commsvc.clock import MICROSECOND, OUTSIDE_UTC, as_utc
from commsvc.errors import ValidationFailed
from commsvc.extensions import config
from commsvc.phones import InvalidPhone, normalise, normalise_recorded

MAX_BOOKING_ID = 128
# The booking app's own id: printable (a NUL or control character is refused here, not by the
# database), and no space at either end: " bk_1 " and "bk_1" would be two bookings, so a retry
# that trims would open a second session; "   " names none.
# Invisible characters are refused too: "\ufeffbk_1" is not "bk_1" either.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
# Fillers and blanks that show as nothing, and the variation selectors.
_BLANKS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0") | frozenset(
    map(chr, range(0xFE00, 0xFE10)))


def _visible_id(value: str) -> bool:
    """No control, format (zero-width, bidi, tag), private-use or unassigned character, no
    filler that shows as nothing, and no space at either end."""
    if value != value.strip():  # "" is refused by its length, with one message
        raise ValidationError("must be printable, without spaces at either end")
    if any(c in _BLANKS or unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in value):
        raise ValidationError("must be printable, without invisible characters")
    return True


BOOKING_ID = [validate.Length(min=1, max=MAX_BOOKING_ID), _visible_id]


def shows_nothing(text: str) -> bool:
    """Whether a text would show as nothing: only spaces, control and format characters
    (zero-width, bidi, a byte-order mark) and the fillers that show as nothing."""
    return all(c.isspace() or c in _BLANKS or unicodedata.category(c) in ("Cc", "Cf")
               for c in text)



def states_why(reason: str | None) -> bool:
    """Whether a stated reason (X-Access-Reason, --reason, a hold's) says anything: a letter or
    a digit 0-9, not only spaces, punctuation or a symbol ("", ".", "-", "²")."""
    return reason is not None and any(
        character.isalpha() or character in "0123456789" for character in reason)


MAX_REASON_LENGTH = 500
NO_ACCESS_REASON = "must state why the access is needed"
# Control characters but tab and line breaks (\n, \r\n), and the bidirectional controls: an
# escape sequence, a lone \r or a right-to-left override in the audit trail would act on, or
# disguise what shows on, the terminal of whoever reads it.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f"
                      "\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


def reason_problem(reason: str, *, empty: str) -> str | None:
    """What is wrong with a stated reason (already stripped), for every place that takes one
    (X-Access-Reason, --reason, a hold's): `empty` when it says nothing, else a control
    character or more than MAX_REASON_LENGTH characters; None when it will do."""
    if not states_why(reason):
        return empty
    try:
        reason.encode("utf-8")
    except UnicodeEncodeError:  # a shell argument's bytes that are not UTF-8 (surrogates)
        return "must be UTF-8 text"
    if _CONTROL.search(reason):
        return ("must not hold control characters (line breaks and tabs may be used) or"
                " bidirectional overrides")
    if len(reason) > MAX_REASON_LENGTH:
        return f"at most {MAX_REASON_LENGTH} characters"
    return None


# The digits of a time's seconds past the sixth (Go's RFC3339Nano writes nine).
_PAST_MICROSECONDS = re.compile(r"[T ]\d\d(?::?\d\d){0,2}[.,]\d{6}(\d+)")


# ISO 8601 times no Python datetime holds, each named for what it is rather than "not an ISO
# 8601 time", which they are: a leap second (RFC 3339 too), the hour 24 ending a day, and the
# years 0000 and 10000 on (written with a sign). Each with what a time could hold in its place.
_NO_SUCH_YEAR = (re.compile(r"^(?:0000|[+-]\d{5,})-"), "2000-")
_LEAP_SECOND = (re.compile(r"(\d[T ]\d\d:?\d\d:?)60(?![0-9])"), r"\g<1>59")
_HOUR_24 = (re.compile(r"(\d[T ])24((?::?00){0,2}(?:[.,]0+)?(?:Z|[+-]|$))"), r"\g<1>23\g<2>")
_HELD_BY_NO_TIME = (
    (_NO_SUCH_YEAR, OUTSIDE_UTC),
    (_LEAP_SECOND, "has second 60 (a leap second), which a time here cannot hold: give 59, or 00"
                   " of the next minute"),
    (_HOUR_24, "has hour 24, which a time here cannot hold: give 00:00 of the next day"),
)


def _held_by_no_time(value, parses: Callable[[str], object]) -> str | None:
    """Why an ISO 8601 time cannot be held here, or None (it is not one such): what it holds
    (its year, a second 60, hour 24), once only that is given as a time could hold it, makes
    a time `parses` reads; else it is not an ISO 8601 time at all (February 30th at 23:59:60,
    25:59:60 or a month 13 at hour 24 are not made valid by giving second 59 or 00:00)."""
    if not isinstance(value, str):
        return None
    reasons, holdable = [], value
    for (pattern, instead), why in _HELD_BY_NO_TIME:
        holdable, found = pattern.subn(instead, holdable, count=1)
        if found:
            reasons.append(why)
    if not reasons:
        return None
    try:
        parses(holdable)
    except ValidationError:
        return None
    return reasons[0]


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 / RFC 3339 time, returned in UTC. Without a zone it is read as UTC (the
    contract writes times in UTC with a Z); `t` and `z` may be lower case (RFC 3339 allows
    it); a time that UTC cannot hold is a 422, not an overflow further in. A time between two
    microseconds (times are kept to the microsecond) is the next one: Python drops the digits
    past the sixth, which put `since=...01.2500001Z` before a row of 01.250000 and
    `until=...01.2500001Z` at it; rounded up, both compare as the time given."""

    # marshmallow's "Not a valid datetime." did not say which form is wanted.
    default_error_messages = {"invalid": "not an ISO 8601 time, such as 2026-06-01T12:00:00Z"}

    def __init__(self, **kwargs):
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.upper()
        try:
            parsed = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            if why := _held_by_no_time(value, lambda holdable: super(UtcDateTime, self)
                                       ._deserialize(holdable, attr, data, **kwargs)):
                raise ValidationError(why) from None
            raise
        past = _PAST_MICROSECONDS.search(value) if isinstance(value, str) else None
        try:
            parsed = as_utc(parsed)
            return parsed + MICROSECOND if past and past[1].strip("0") else parsed
        except ValueError as error:
            raise ValidationError(str(error)) from None
        except OverflowError:  # 9999-12-31T23:59:59.9999999Z
            raise ValidationError(OUTSIDE_UTC) from None


def _as_written(attr: str) -> bytes:
    """The query argument `attr` as the client wrote it, still encoded ("" if none): a `+`
    there arrived decoded as a space, while a space sent as %20 is still "%20"."""
    if not has_request_context():
        return b""
    written = re.search(rb"(?:^|&)" + re.escape(attr.encode()) + rb"=([^&]*)",
                        request.query_string)
    return written[1] if written else b""


# A time whose offset lost its "+": "2026-11-23T09:00:00 05:00".
_OFFSET_AFTER_SPACE = re.compile(r"(.*\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?) (\d\d(?::?\d\d)?)")


class JsonBool(fields.Boolean):
    """A JSON true or false, nothing else: marshmallow's Boolean also takes 1, "yes" and "on",
    and with truthy={True} still 1 and 1.0 (equal to True in Python)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be true or false (a JSON boolean)")
        return value


class QueryUtcDateTime(UtcDateTime):
    """UtcDateTime in a query string, where `since=2026-11-23T09:00:00+05:00` sent unencoded
    arrives with a space for its `+`: the offset is read back as the plus it was."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and (match := _OFFSET_AFTER_SPACE.fullmatch(value)) \
                and b"+" in _as_written(attr):
            value = f"{match[1]}+{match[2]}"
        return super()._deserialize(value, attr, data, **kwargs)


IDEMPOTENCY_KEY = "Idempotency-Key"
KEY_RULE = "1-100 printable ASCII characters, no space or comma, sent once"


def idempotency_key_header(description: str) -> fields.String:
    """The optional Idempotency-Key header of a POST that records something: a retry with the
    same key finds what the first request made."""
    return fields.String(
        data_key=IDEMPOTENCY_KEY, load_default=None,
        # No comma: the server joins a header sent twice with one ("a,b"), which must not
        # pass for a key of its own.
        validate=[validate.Length(1, 100),
                  validate.Regexp(r"^[\x21-\x2b\x2d-\x7e]+$", error=KEY_RULE)],
        metadata={"description": "Optional. " + description})


# marshmallow's own words for a body, or an object within one, that is not a JSON object
# ("Invalid input type.") name no type: a client that sent "requester": "+1415..." or a list
# could not tell what was wanted.
NOT_A_JSON_OBJECT = "must be a JSON object"


class BodySchema(Schema):
    """A JSON object of a request body, or one within it (a session's requester): anything
    else there ([], "x", 5) is refused saying that an object is wanted (a required nested one
    given as null says only that it may not be null).

    An optional field given as null is one not given (its default applies): many JSON
    libraries write null for every unset optional member. A required one given as null is
    still refused, named. The OpenAPI document shows the optional ones as nullable."""

    error_messages = {"type": NOT_A_JSON_OBJECT}

    def on_bind_field(self, field_name, field_obj):
        if not field_obj.required:
            field_obj.allow_none = True  # what the document says; the value never reaches it

    @pre_load
    def _null_is_not_given(self, data, **_kwargs):
        if not isinstance(data, dict) or None not in data.values():
            return data
        optional = {field.data_key or name for name, field in self.load_fields.items()
                    if not field.required}
        return {name: value for name, value in data.items()
                if not (value is None and name in optional)}


class _NeverNull(Schema):
    """Query arguments and headers: text that cannot carry a JSON null, so none is documented
    nullable (marshmallow makes a field with load_default=None nullable)."""

    def on_bind_field(self, field_name, field_obj):
        field_obj.allow_none = False


class RequestHeaders(_NeverNull):
    class Meta:
        unknown = EXCLUDE  # every other header is not ours to judge


def phone_in(raw: str, *, recorded: bool = False) -> str:
    """A phone from request input in E.164 (national format of DEFAULT_REGION accepted), or a
    marshmallow ValidationError saying why not. `recorded`: a lookup of what is stored, which
    may hold an E.164 number phonenumbers does not know as valid (phones.normalise_recorded)."""
    try:
        return (normalise_recorded if recorded else normalise)(raw, config().default_region)
    except InvalidPhone as exc:
        raise ValidationError(str(exc)) from None


def phone_input(raw: str, field: str = "phone", *, recorded: bool = False) -> str:
    """phone_in for a number outside a schema (a path's): a 422 naming `field` instead."""
    try:
        return phone_in(raw, recorded=recorded)
    except ValidationError as exc:
        raise ValidationFailed(errors={field: exc.messages}) from None


class Phone(fields.String):
    """A phone number, loaded as E.164 (phone_in). Checked with the request's other fields, so
    that one 422 names it with every other wrong one, not in a second pass after them."""

    def __init__(self, *, recorded: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.recorded = recorded

    def _deserialize(self, value, attr, data, **kwargs):
        return phone_in(super()._deserialize(value, attr, data, **kwargs),
                        recorded=self.recorded)


class QueryPhone(Phone):
    """A phone number in a query string. There a `+` is a space unless encoded as %2B, and
    `curl -G -d phone=+4792345678` does not encode it: the value arrives as " 4792345678",
    which read as a national number named someone else. Where the query string itself has
    `phone=+` and a digit, the space is the plus it was; a space sent as %20 stays a space."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value[:1] == " " and value[1:2].isdigit():
            written = _as_written(attr)
            if written[:1] == b"+" and written[1:2].isdigit():
                value = "+" + value[1:]
        return super()._deserialize(value, attr, data, **kwargs)


class QueryLimit(fields.Integer):
    """A page size in a query string: ASCII digits and nothing else. marshmallow's Integer
    reads with int(), which also takes "1_0" (10), " 5" and "5 " (a `+` arrives as a space)
    and other scripts' digits ("\u0665", "\uff15"): each named a page size the client did not
    write, answered 200 with that many rows instead of a 422 on `limit`. A minus sign is read,
    so that -1 is told the range, as 0 is, rather than that it is no integer."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not _ASCII_WHOLE_NUMBER.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


_ASCII_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class QueryArguments(_NeverNull):
    """A query string's arguments. One of them given empty (`?booking_id=&status=`) is one not
    given, as a client that fills in only some of its filters sends the others; an argument
    the operation does not take, or one given twice, is refused all the same. (The CLI
    refuses an empty option: there it is a shell variable that was not set.)"""

    @pre_load
    def _empty_is_not_given(self, data, **_kwargs):
        empty = [name for name in data if data[name] == ""]
        if not empty:
            return data
        taken = {field.data_key or name for name, field in self.load_fields.items()}
        return {name: data[name] for name in data if not (name in taken and name in empty)}
