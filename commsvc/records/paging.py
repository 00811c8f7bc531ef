"""Opaque keyset cursors for newest-first lists: stable while new rows arrive between pages."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Generic, TypeVar

from commsvc.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_VERSION = 1


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, newest first, and the cursor for the next one (None at the end)."""

    rows: list[T]
    next_cursor: str | None


def encode_cursor(*key) -> str:
    """The position after a row, given its sort key (ints and strings)."""
    raw = json.dumps([_VERSION, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *types: type) -> tuple:
    """The sort key a cursor carries, checked against the expected types; 422 otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        data = None
    valid = (
        isinstance(data, list) and len(data) == len(types) + 1 and data[0] == _VERSION
        and all(type(value) is kind for value, kind in zip(data[1:], types, strict=True))
    )
    if not valid:
        raise ValidationFailed(errors={"cursor": ["not a cursor this list gave out"]})
    return tuple(data[1:])


def page_of(rows: list[T], limit: int, key) -> Page[T]:
    """Cut rows fetched with limit + 1 into a page; key(row) is the row's sort key tuple."""
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor(*key(rows[-1])))
