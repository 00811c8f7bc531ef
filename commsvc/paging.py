"""The one cursor codec of every list: opaque keyset cursors, stable while rows arrive.

A cursor carries the name of its list, a digest of the filters of the query that gave it out,
and the sort key of the last row of a page (ints, strings and aware datetimes, the latter as
microseconds since the epoch) as versioned JSON in URL-safe base64. The list decides its order
and compares against the key; clients only ever pass `next_cursor` back. Anything that is not a
cursor of this list (another list's too, whose key may have the same shape: a numbers cursor
given to the calls log) is a 422 on `cursor`, and so is a key no column of both databases could
hold (an int past signed 64 bits, a datetime past year 1..9999, a string with NUL or a lone
surrogate): it was edited, and must not reach the query as a 500.

A cursor continues one query: used with other filters it is a 422 on `cursor` telling the
client to start again. A position is only meaningful in the query that reached it, and a list
that pages two sources (the messages log) marks a side it did not read as used up: reused
without `direction=inbound`, such a cursor listed no platform send at all. The filters are
digested as each list normalises them (a phone in E.164, times as instants, unset ones left
out), so the same query written another way keeps its cursor; `limit` is no filter and may
change between pages. The digest is a plain hash: a list whose filters name a person passes a
keyed hash of them (crypto.phone_hmac), never the number, as cursors end up in URLs and logs.
Cursors of version 2 (not bound to their filters), in flight at a deploy, are refused the same
way: whether they are reused with their own filters cannot be known, and a pager that starts
again is better than a list silently missing rows.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from commsvc.clock import EPOCH, MICROSECOND, epoch_microseconds
from commsvc.db.base import NOT_STORABLE_TEXT
from commsvc.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 200
_VERSION = 3  # 1: no list name; 2: not bound to the query's filters
_UNBOUND_VERSION = 2
_DIGEST_BYTES = 9  # 12 characters of base64
NOT_THIS_LISTS = "not a cursor this list gave out"
OTHER_QUERY = ("given out for a query with other filters: start again without a cursor (only"
               " limit may change between pages)")
UNBOUND = ("given out before cursors were bound to their filters: start again without a"
           " cursor")
START_AGAIN = ("This cursor continues another query. Ask for the first page again, without a"
               " cursor, with the filters you want.")
CURSOR_DESCRIPTION = ("next_cursor of the previous page, with the same filters (only limit may"
                      " change); with other filters it is a 422 on cursor: start again without"
                      " it")
_INT64 = range(-(2**63), 2**63)


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
    if type(value) is str and NOT_STORABLE_TEXT.search(value):
        return None
    if kind is dt.datetime:
        if type(value) is not int:
            return None
        try:
            return EPOCH + value * MICROSECOND
        except OverflowError:
            return None
    return value if type(value) is kind else None


def filters_digest(filters: Mapping[str, object]) -> str:
    """A short digest of a query's normalised filters (name: str, int, bool or aware datetime);
    unset (None) filters are left out, so a filter added later keeps the older queries' one."""
    given = {name: _encode_value(value) for name, value in filters.items() if value is not None}
    raw = json.dumps(given, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:_DIGEST_BYTES]).decode()


def encode_cursor(*key, of: str, filters: Mapping[str, object]) -> str:
    """The position after a row in the list `of` queried with `filters`, given the row's sort
    key (ints, strings, aware datetimes)."""
    raw = json.dumps([_VERSION, of, filters_digest(filters), *map(_encode_value, key)],
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refused(problem: str) -> ValidationFailed:
    detail = None if problem == NOT_THIS_LISTS else START_AGAIN
    return ValidationFailed(detail, errors={"cursor": [problem]})


def decode_cursor(cursor: str, *types: type, of: str, filters: Mapping[str, object]) -> tuple:
    """The sort key a cursor of the list `of` queried with `filters` carries, checked against
    the expected types; 422 otherwise, telling the client to start again when the cursor is
    this list's but was given out for other filters (or before cursors were bound to them)."""
    data = None
    if isinstance(cursor, str) and 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            data = None
    if not (isinstance(data, list) and len(data) >= 2 and data[1] == of):
        raise _refused(NOT_THIS_LISTS)
    if data[0] == _UNBOUND_VERSION and len(data) == len(types) + 2:
        raise _refused(UNBOUND)
    key = None
    if data[0] == _VERSION and len(data) == len(types) + 3 and isinstance(data[2], str):
        key = tuple(_decode_value(v, kind) for v, kind in zip(data[3:], types, strict=True))
    if key is None or any(value is None for value in key):
        raise _refused(NOT_THIS_LISTS)
    if data[2] != filters_digest(filters):
        raise _refused(OTHER_QUERY)
    return key


def page_of(rows: list[T], limit: int, key, *, of: str,
            filters: Mapping[str, object]) -> Page[T]:
    """Cut rows of the list `of` queried with `filters`, fetched with limit + 1, into a page;
    key(row) is the row's sort key tuple."""
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor(*key(rows[-1]), of=of, filters=filters))
