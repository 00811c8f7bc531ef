"""The one cursor codec of every list: opaque keyset cursors, stable while rows arrive.

A cursor carries the name of its list and the sort key of the last row of a page (ints, strings
and aware datetimes, the latter as microseconds since the epoch) as versioned JSON in URL-safe
base64. The list decides its order and compares against the key; clients only ever pass
`next_cursor` back. Anything that is not a cursor of this list (another list's too, whose key
may have the same shape: a numbers cursor given to the calls log) is a 422 on `cursor`, and so
is a key no column of both databases could hold (an int past signed 64 bits, a datetime past
year 1..9999, a string with NUL or a lone surrogate): it was edited, and must not reach the
query as a 500.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from commsvc.clock import EPOCH, MICROSECOND, epoch_microseconds
from commsvc.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 200
_VERSION = 2  # 1: no list name
_INT64 = range(-(2**63), 2**63)
_NOT_STORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL), lone surrogates


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows in the list's order, and the cursor for the next one (None at the end)."""

    rows: list[T]
    next_cursor: str | None


def _encode_value(value):
    if isinstance(value, dt.datetime):
        return epoch_microseconds(value)
    return value


def _decode_value(value, kind: type):
    """The key value as `kind`, or None when it is not one that a database column could hold."""
    if type(value) is int and value not in _INT64:
        return None
    if type(value) is str and _NOT_STORABLE_TEXT.search(value):
        return None
    if kind is dt.datetime:
        if type(value) is not int:
            return None
        try:
            return EPOCH + value * MICROSECOND
        except OverflowError:
            return None
    return value if type(value) is kind else None


def encode_cursor(*key, of: str) -> str:
    """The position in the list `of` after a row, given its sort key (ints, strings, aware
    datetimes)."""
    raw = json.dumps([_VERSION, of, *map(_encode_value, key)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *types: type, of: str) -> tuple:
    """The sort key a cursor of the list `of` carries, checked against the expected types;
    422 otherwise."""
    data = None
    if isinstance(cursor, str) and 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            data = None
    key = None
    if (isinstance(data, list) and len(data) == len(types) + 2 and data[0] == _VERSION
            and data[1] == of):
        key = tuple(_decode_value(v, kind) for v, kind in zip(data[2:], types, strict=True))
    if key is None or any(value is None for value in key):
        raise ValidationFailed(errors={"cursor": ["not a cursor this list gave out"]})
    return key


def page_of(rows: list[T], limit: int, key, *, of: str) -> Page[T]:
    """Cut rows of the list `of` fetched with limit + 1 into a page; key(row) is the row's sort
    key tuple."""
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor(*key(rows[-1]), of=of))
