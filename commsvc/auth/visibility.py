"""Who sees which numbers: one rule for real phone numbers, one for the platform's pool numbers."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from commsvc.auth.roles import POOL_NUMBER_ROLES
from commsvc.auth.service import Principal
from commsvc.log_masking.phone_numbers import masked_integer
from commsvc.log_masking.text import mask_text
from commsvc.log_masking.words import mask_word
from commsvc.phones import TOMBSTONE_PREFIX, mask
from commsvc.records import audit


def present_phone(principal: Principal, e164: str | None) -> str | None:
    """The number as this caller may see it: full, or +1******0101; None once erased."""
    return present_number(e164, full=principal.sees_full_numbers)


def present_number(e164: str | None, *, full: bool) -> str | None:
    """The number in full or masked as +1******0101; None once erased (a tombstone)."""
    if e164 and e164.startswith(TOMBSTONE_PREFIX):
        return None
    return e164 if full else mask(e164)


def present_text(principal: Principal, value):
    """Text our clients wrote (a hold's reason, consent evidence) as this caller may see it.

    Any phone number written in it is masked, in every string of a JSON value (object keys
    too, at any depth), unless the caller sees full numbers: the same rule as present_phone.
    """
    return value if principal.sees_full_numbers else masked_throughout(value, words=True)


def masked_throughout(value, keep: frozenset[str] = frozenset(), *, words: bool = False):
    """A JSON value with every phone number written in it masked: in its strings and keys,
    and integers written as phone numbers (14155550101). Numbers written in E.164 that are in
    `keep` stay (an export keeps its subject's own and the platform's numbers). `words`: the
    strings are a person's words, so a number glued to letters ("ph4155550101") is masked too
    (log_masking.words.mask_word); not for a document of our own ids, such as an export."""
    if isinstance(value, str):
        return mask_word(value, keep) if words else mask_text(value, keep)
    if isinstance(value, int) and not isinstance(value, bool):
        return masked_integer(value, keep)
    if isinstance(value, dict):
        return {masked_throughout(k, keep, words=words): masked_throughout(v, keep, words=words)
                for k, v in value.items()}
    if isinstance(value, list):
        return [masked_throughout(v, keep, words=words) for v in value]
    return value


def present_pool_number(principal: Principal, e164: str | None) -> str | None:
    """A pool (proxy) number as this caller may see it: full, or +1******0001.

    Full for booking (it tells its users which number to text) and admin (it manages the pool);
    for privacy only with X-Access-Reason, and then the caller audits the read like any
    reasoned read (audit_reasoned_read). Masked for ops and for privacy without a reason.
    """
    if principal.role in POOL_NUMBER_ROLES or principal.reason is not None:
        return e164
    return mask(e164)


def audit_reasoned_read(
    db: Session, principal: Principal, *, resource: str, query: dict, count: int,
    now: dt.datetime, ids: list | None = None,
) -> None:
    """A privacy/admin read with X-Access-Reason is audited in the same transaction as the read.

    `query` must hold IDs and masked numbers only (mask phones before passing them); `ids`, of
    a list read, name the records it disclosed, so that each page read says which it was.
    """
    if principal.reason is None:
        return
    details = {"records": count} if ids is None else {"records": count, "ids": ids}
    audit.record(
        db, actor=principal.actor, action="pii.read", now=now, reason=principal.reason,
        target={"resource": resource, **query}, details=details,
    )
