"""Consent's answers: whether a phone may be contacted on a channel for a purpose (check,
allowed_sql), its current state and its history (consent.service's invariants)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, func, literal, select
from sqlalchemy.orm import Session

from commsvc.auth.service import live_key_reading
from commsvc.consent.models import CHANNELS, PURPOSES, ConsentEvent, ConsentState
from commsvc.crypto import phone_hmac
from commsvc.db.driver import DriverStatement
from commsvc.errors import ValidationFailed
from commsvc.paging import MAX_LIMIT, Page, decode_cursor, page_of

MAX_HISTORY_LIMIT = MAX_LIMIT

# Reasons `check` gives (short machine words).
GRANTED = "granted"
REVOKED = "revoked"
DEFAULT_ALLOWED = "default_allowed"
NO_GRANT = "no_grant"

# Purposes allowed until revoked; every other purpose needs a recorded grant.
DEFAULT_ALLOWED_PURPOSES = frozenset({"relay", "transactional"})


@dataclass(frozen=True)
class Decision:
    """May this phone be contacted on this channel for this purpose, and why."""

    allowed: bool
    reason: str


def _allowed_without_events(purpose: str, marketing_requires_grant: bool) -> bool:
    return purpose in DEFAULT_ALLOWED_PURPOSES or not marketing_requires_grant


def decide(purpose: str, allowed: bool | None, marketing_requires_grant: bool) -> Decision:
    if allowed is True:
        return Decision(True, GRANTED)
    if allowed is False:
        return Decision(False, REVOKED)
    if _allowed_without_events(purpose, marketing_requires_grant):
        return Decision(True, DEFAULT_ALLOWED)
    return Decision(False, NO_GRANT)


def allowed_sql(phone_column, *, channel: str, purpose: str,
                marketing_requires_grant: bool = True) -> ColumnElement[bool]:
    """check()'s answer as SQL, so a hot-path query can carry it instead of a second read."""
    # Uses index: pk_consent_state (a primary-key lookup per row of the outer query)
    state = (
        select(ConsentState.allowed)
        .where(ConsentState.phone == phone_column, ConsentState.channel == channel,
               ConsentState.purpose == purpose)
        .scalar_subquery()
    )
    return func.coalesce(state, literal(_allowed_without_events(purpose,
                                                                marketing_requires_grant)))


def check(
    db: Session, *, phone: str, channel: str, purpose: str, now: dt.datetime,
    marketing_requires_grant: bool = True,
) -> Decision:
    """May `phone` be contacted on `channel` for `purpose` now (one primary-key read)."""
    if channel not in CHANNELS or purpose not in PURPOSES:
        raise ValidationFailed(errors={"channel/purpose": ["unknown channel or purpose"]})
    row = _STATE.first(db, {"phone": phone, "channel": channel, "purpose": purpose})
    return decide(purpose, row[0] if row else None, marketing_requires_grant)


# The consent check's read: one primary-key lookup (Uses index: pk_consent_state).
_STATE_SELECT = select(ConsentState.allowed).where(
    ConsentState.phone == bindparam("phone"), ConsentState.channel == bindparam("channel"),
    ConsentState.purpose == bindparam("purpose"),
)
_STATE_GIVEN = ("phone", "channel", "purpose")
# Built once, run on the driver's cursor (db.driver): the consent check runs one on every call.
_STATE = DriverStatement(_STATE_SELECT, _STATE_GIVEN)
# The API's check reads it with the caller's key, in the key lookup's one statement.
STATE_WITH_KEY = live_key_reading(_STATE_SELECT.scalar_subquery(), given=_STATE_GIVEN)


def current_state(
    db: Session, phone: str, *, marketing_requires_grant: bool = True,
) -> list[dict]:
    """Every channel x purpose: allowed, reason, since (None for a default), basis."""
    # Uses index: pk_consent_state
    rows = {
        (r.channel, r.purpose): r
        for r in db.execute(
            select(ConsentState.channel, ConsentState.purpose, ConsentState.allowed,
                   ConsentState.since, ConsentState.event_id)
            .where(ConsentState.phone == phone)
        )
    }
    result = []
    for channel in CHANNELS:
        for purpose in PURPOSES:
            row = rows.get((channel, purpose))
            decision = decide(purpose, row.allowed if row else None, marketing_requires_grant)
            result.append({
                "channel": channel, "purpose": purpose, "allowed": decision.allowed,
                "reason": decision.reason, "since": row.since if row else None,
                "basis": "event" if row else "default", "event_id": row.event_id if row else None,
            })
    return result


def history(
    db: Session, phone: str, *, hmac_key: str, cursor: str | None = None, limit: int = 50,
) -> Page[ConsentEvent]:
    """Events of a phone, oldest first, and the cursor of the next page (None at the end);
    `hmac_key` (HMAC_KEY) keys the phone's name in the cursor."""
    limit = max(1, min(limit, MAX_HISTORY_LIMIT))
    # Uses index: ix_consent_events_phone_id
    query = (select(ConsentEvent).where(ConsentEvent.phone == phone)
             .order_by(ConsentEvent.id).limit(limit + 1))
    # Each phone's history is its own list: another phone's cursor is a 422, not an empty
    # page. The cursor names it by a keyed hash, never the number: cursors end up in URLs and
    # logs beside the masked number, and a plain hash of it is undone in a second.
    of = "consent_history:" + phone_hmac(hmac_key, phone)[:12]
    if cursor is not None:
        query = query.where(ConsentEvent.id > decode_cursor(cursor, int, of=of, filters={})[0])
    return page_of(list(db.scalars(query)), limit, lambda event: (event.id,), of=of, filters={})
