"""The erasure ledger's questions for the code that sends: was this number erased since? Was
this Idempotency-Key's text erased? And for the code that erases again: which of these numbers
were erased since?

The outbound worker asks the first before every attempt, the relay before it answers a repeated
webhook with a text or call stored before the erasure (a legal hold may keep such a record,
but it must not reach the person). POST /v1/messages asks the second of a key it finds no text
for: a retry whose text the erasure removed must not send it again. A replay after a restore
and a lifted hold ask the third (erased_among). The ledger itself is written by
records.subjects.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Text, cast, exists, func, select
from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.crypto import phone_hmac
from commsvc.phones import TOMBSTONE_PREFIX
from commsvc.pool import service as pool_service
from commsvc.records.models import Erasure

TOMBSTONE_HEX = 9  # "erased:" + 9 hex = 16 characters, the width of every phone column


def tombstone(hmac_key: str, phone: str) -> str:
    """What replaces an erased number where a row must stay (participants, lifted holds)."""
    return TOMBSTONE_PREFIX + phone_hmac(hmac_key, phone)[:TOMBSTONE_HEX]


def last_erasure(db: Session, phone: str, config: Config) -> dt.datetime | None:
    """When the number was last erased (None: never)."""
    # Uses index: ix_erasures_subject_hmac
    return db.scalar(select(func.max(Erasure.created_at)).where(
        Erasure.subject_hmac == phone_hmac(config.hmac_key, phone)))


def erased_since(db: Session, phone: str, since: dt.datetime, config: Config) -> bool:
    """Whether the number was erased at or after `since` (when a text or call was accepted, a
    hold placed)."""
    erased_at = last_erasure(db, phone, config)
    return erased_at is not None and erased_at >= since


def idempotency_mark(config: Config, requested_by: str | None, idempotency_key: str) -> str:
    """How the ledger names a text's Idempotency-Key (of its API key): a keyed hash, as a
    key may say whom the text was for (`bk_1001-arrival`)."""
    return phone_hmac(config.hmac_key, f"idempotency-key {requested_by} {idempotency_key}")


def idempotency_marks(config: Config, keyed: Iterable[tuple[str | None, str | None]]) -> list[str]:
    """The marks of these (requested_by, idempotency_key) pairs that have a key, sorted."""
    return sorted({idempotency_mark(config, requested_by, key)
                   for requested_by, key in keyed if key is not None})


def erased_idempotency_key(db: Session, *, to: str, requested_by: str | None,
                           idempotency_key: str, config: Config) -> bool:
    """Whether an erasure of `to` removed (or blocked under a hold) a text accepted under this
    key from this API key."""
    mark = idempotency_mark(config, requested_by, idempotency_key)
    # The database looks for the one mark: an erasure of a number texted for years holds
    # thousands (10,000: 680 kB), read and parsed here on every keyed POST to it otherwise. A
    # mark is hex, so in the ledger's JSON text it is found quoted only as a whole string.
    # Uses index: ix_erasures_subject_hmac
    return db.scalar(select(exists().where(
        Erasure.subject_hmac == phone_hmac(config.hmac_key, to),
        cast(Erasure.result, Text).contains(f'"{mark}"')))) or False


@dataclass
class ErasedAmong:
    """What erased_among found: the ledger's subjects since the time, the numbers it hashed,
    and which of them were erased, each with its last erasure."""

    subjects: int = 0  # ledger subjects erased since (none: the numbers were not read)
    checked: int = 0  # real numbers hashed (no NULL, no tombstone)
    found: dict[str, dt.datetime] = field(default_factory=dict)  # number: its last erasure


def erased_among(db: Session, numbers, *, since: dt.datetime | None,
                 config: Config) -> ErasedAmong:
    """Which of these numbers (a one-column select) were erased at or after `since` (None:
    ever), each with its last erasure: hashed and matched against the ledger, tombstones
    skipped, and never one of the platform's active pool numbers (erased before it became
    ours: it is no one's now)."""
    # Uses index: ix_erasures_subject_hmac
    query = (select(Erasure.subject_hmac, func.max(Erasure.created_at))
             .group_by(Erasure.subject_hmac))
    if since is not None:
        query = query.where(Erasure.created_at >= since)
    erased = dict(db.execute(query).all())
    result = ErasedAmong(subjects=len(erased))
    if not erased:
        return result
    for (phone,) in db.execute(numbers):
        if not phone or not phone.startswith("+"):
            continue  # NULL forward_to, or a tombstone
        result.checked += 1
        erased_at = erased.get(phone_hmac(config.hmac_key, phone))
        if erased_at is not None:
            result.found[phone] = erased_at
    ours = pool_service.pool_numbers_among(db, result.found, active_only=True)
    result.found = {phone: erased_at for phone, erased_at in result.found.items()
                    if phone not in ours}
    return result
