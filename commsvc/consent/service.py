"""Consent: append events to the ledger, keep the derived state in step, answer checks.

Invariants:
- `consent_events` rows are only ever inserted (PostgreSQL refuses UPDATE/DELETE by trigger).
- `consent_state` holds, per (phone, channel, purpose), the outcome of the event with the
  highest id; `since` is when that outcome began (a repeated revocation does not move it).
  It is upserted in the caller's transaction, so state and ledger never disagree.
- No row in `consent_state` means no event yet: relay and transactional are allowed by default,
  marketing only when `marketing_requires_grant` is off.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, case, func, literal, select
from sqlalchemy.orm import Session

from commsvc.consent.models import ALL, CHANNELS, PURPOSES, ConsentEvent, ConsentState
from commsvc.crypto import phone_hmac
from commsvc.db.inserts import insert_for, insert_or_replay
from commsvc.db.locks import named_lock
from commsvc.errors import Conflict, ValidationFailed
from commsvc.paging import MAX_LIMIT, Page, decode_cursor, page_of
from commsvc.twilio_gateway import UNSUBSCRIBED

ACTIONS = ("grant", "revoke")
# Room for a full inbound SMS (1,600 characters of up to 4 UTF-8 bytes) plus its SIDs.
MAX_EVIDENCE_BYTES = 8192
MAX_EVIDENCE_DEPTH = 5
MAX_HISTORY_LIMIT = MAX_LIMIT
SOURCE_RE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,31}")
# The evidence key under which commsvc records how an API decision reached it (key id, IP); the
# caller's own keys are kept as given beside it.
RECEIVED = "received"
# Sources commsvc records itself; an API caller may not claim them.
SYSTEM_SOURCES = frozenset({"sms_keyword", "twilio_opt_out", "twilio_21610", "erasure"})

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


def _expand(value: str, choices: tuple[str, ...], field: str) -> tuple[str, ...]:
    if value == ALL:
        return choices
    if value not in choices:
        raise ValidationFailed(errors={field: [f"must be one of {', '.join(choices)} or all"]})
    return (value,)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


# Python's JSON parser reads NaN, Infinity and 1e400 (infinity), which JSON does not have.
NOT_PLAIN_JSON = "must be plain JSON: no NaN or Infinity (a number such as 1e400 reads as one)"


def validate_evidence(evidence: object) -> dict:
    """Evidence is a JSON object of bounded size and nesting (it is kept forever).

    The size bounds what the caller sent: RECEIVED, which commsvc adds to an API decision (key
    id, IP, a proxy's X-Forwarded-For), is bounded by commsvc and not counted, or how much a
    caller may send would depend on its address and proxies."""
    if not isinstance(evidence, dict):
        raise ValidationFailed(errors={"evidence": ["must be an object"]})
    sent = {k: v for k, v in evidence.items() if k != RECEIVED}
    try:
        size = len(json.dumps(sent, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False).encode())
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationFailed(errors={"evidence": [NOT_PLAIN_JSON]}) from exc
    if size > MAX_EVIDENCE_BYTES:
        raise ValidationFailed(errors={"evidence": [f"at most {MAX_EVIDENCE_BYTES} bytes"]})
    if _depth(evidence) > MAX_EVIDENCE_DEPTH:
        raise ValidationFailed(errors={"evidence": [f"at most {MAX_EVIDENCE_DEPTH} levels deep"]})
    return evidence


def _validate(action: str, source: str) -> None:
    errors: dict[str, list[str]] = {}
    if action not in ACTIONS:
        errors["action"] = ["must be grant or revoke"]
    if not isinstance(source, str) or not SOURCE_RE.fullmatch(source):
        errors["source"] = ["1-32 characters: lower-case letters, digits, _ . : -"]
    if errors:
        raise ValidationFailed(errors=errors)


def _apply_to_state(db: Session, events: list[ConsentEvent]) -> None:
    """Upsert the state rows of these events: the highest event id wins, since kept on repeats.

    An event for "all" channels or purposes sets the row of each one it covers.
    """
    insert = insert_for(db)
    stmt = insert(ConsentState).values([
        {"phone": e.phone, "channel": channel, "purpose": purpose,
         "allowed": e.action == "grant", "event_id": e.id, "since": e.created_at}
        for e in events
        for channel in _expand(e.channel, CHANNELS, "channel")
        for purpose in _expand(e.purpose, PURPOSES, "purpose")
    ])
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["phone", "channel", "purpose"],
        set_={
            "since": case(
                (ConsentState.allowed == excluded.allowed, ConsentState.since),
                else_=excluded.since,
            ),
            "allowed": excluded.allowed,
            "event_id": excluded.event_id,
        },
        # Concurrent writers: the state always follows the ledger's latest event.
        where=ConsentState.event_id < excluded.event_id,
    )
    db.execute(stmt)


def record_event(
    db: Session, *, phone: str, channel: str, purpose: str, action: str, source: str,
    evidence: dict, now: dt.datetime, requested_by: str | None = None,
    idempotency_key: str | None = None,
) -> ConsentEvent:
    """Append one event (channel and purpose may be "all": it covers each) and update the state."""
    _expand(channel, CHANNELS, "channel")
    _expand(purpose, PURPOSES, "purpose")
    return _append(db, [(channel, purpose)], phone=phone, action=action, source=source,
                   evidence=evidence, now=now, requested_by=requested_by,
                   idempotency_key=idempotency_key)[0]


def record_request(db: Session, *, requested_by: str, idempotency_key: str | None,
                   now: dt.datetime, **decision) -> ConsentEvent:
    """POST /v1/consent/{phone}: one new event, or, for a retry under the same Idempotency-Key,
    the event the first request recorded. A retried grant whose first answer was lost must not
    be recorded again after the person's STOP, overruling it. The same key with another
    decision is a 409."""
    if idempotency_key is None:
        return record_event(db, now=now, requested_by=requested_by, **decision)
    existing = _replay(db, requested_by, idempotency_key, decision)
    if existing is not None:
        return existing
    return insert_or_replay(
        db, lambda: record_event(db, now=now, requested_by=requested_by,
                                 idempotency_key=idempotency_key, **decision),
        lambda: _replay(db, requested_by, idempotency_key, decision))


def _replay(db: Session, requested_by: str, idempotency_key: str,
            decision: dict) -> ConsentEvent | None:
    """The event this caller recorded under this Idempotency-Key, if any."""
    # Uses index: uq_consent_events_requested_by_idempotency_key
    existing = db.scalar(select(ConsentEvent).where(
        ConsentEvent.requested_by == requested_by,
        ConsentEvent.idempotency_key == idempotency_key))
    if existing is None:
        return None
    recorded = {field: getattr(existing, field) for field in _DECIDED}
    if _as_requested(recorded) != _as_requested(decision):
        raise Conflict("This Idempotency-Key was already used for a different consent event.")
    return existing


_DECIDED = ("phone", "channel", "purpose", "action", "source", "evidence")


def _as_requested(decision: dict) -> dict:
    """What a caller decided, without how it reached us (the evidence's RECEIVED: key, IP)."""
    evidence = {k: v for k, v in (decision["evidence"] or {}).items() if k != RECEIVED}
    return {**{field: decision[field] for field in _DECIDED}, "evidence": evidence}


def record_carrier_opt_out(db: Session, *, phone: str, evidence: dict, now: dt.datetime,
                           sent_at: dt.datetime | None = None) -> list[ConsentEvent]:
    """Twilio refused a text with 21610 (the recipient replied STOP at the carrier): revoke
    sms for every purpose, with what Twilio said as evidence. For the send gate's texts and
    relayed ones alike.

    `sent_at`: when the refused text went to Twilio, for a refusal that comes later (a status
    callback). A purpose the person granted texts for since then (their START reached us
    before Twilio's callback) keeps that grant: the refusal is older news. A START that
    repeats an earlier grant counts too: the grant in force is dated by its latest event, not
    by `since` (when it began, which a repeat keeps). Nothing is recorded when that leaves no
    purpose.

    The grants are read under the phone's consent lock, which every grant takes (_append): a
    START being recorded meanwhile is waited for and read, not overruled by revocations
    appended after it on a read that could not see it.
    """
    evidence = {"error_code": UNSUBSCRIBED, **evidence}
    granted_since: set[str] = set()
    if sent_at is not None:
        lock_phone(db, phone)
        granted_since = set(db.scalars(
            # Uses index: pk_consent_state, then pk_consent_events per row
            select(ConsentState.purpose)
            .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
            .where(ConsentState.phone == phone, ConsentState.channel == "sms",
                   ConsentState.allowed.is_(True), ConsentEvent.created_at > sent_at)))
    if not granted_since:
        return [record_event(db, phone=phone, channel="sms", purpose=ALL, action="revoke",
                             source="twilio_21610", evidence=evidence, now=now)]
    stale = tuple(purpose for purpose in PURPOSES if purpose not in granted_since)
    if not stale:
        return []
    return record_events(db, phone=phone, channels=("sms",), purposes=stale, action="revoke",
                         source="twilio_21610", evidence=evidence, now=now)


def revoke_marketing_grant(db: Session, *, phone: str, evidence: dict, now: dt.datetime,
                           requested_by: str | None = None) -> ConsentEvent | None:
    """An erasure: revoke marketing on every channel (source `erasure`) when a grant of it is
    in force on one, so no marketing reaches a person whose data was erased until they grant it
    again; None (nothing appended) when none is. Relay and transactional stay as they are."""
    lock_phone(db, phone)  # a grant being recorded meanwhile is read, not left in force
    # Uses index: pk_consent_state
    granted = db.scalar(select(func.count()).select_from(ConsentState).where(
        ConsentState.phone == phone, ConsentState.purpose == "marketing",
        ConsentState.allowed.is_(True)))
    if not granted:
        return None
    return record_event(db, phone=phone, channel=ALL, purpose="marketing", action="revoke",
                        source="erasure", evidence=evidence, now=now,
                        requested_by=requested_by)


def lock_phone(db: Session, phone: str) -> None:
    """Serialise consent decisions about one phone until the transaction ends (PostgreSQL).

    A keyword reads the sender's state, then records events: two STOPs arriving together
    would both read "not opted out" and both be recorded as the opt-out. Holding this lock from
    before the read makes the second wait, read the first one's revocation and be recorded as
    a repeat. Every event takes it too (_append), so that a late carrier refusal
    (record_carrier_opt_out) reads a grant being recorded only once it is committed, and a
    phone's events are recorded one at a time, in the order of their ids. (SQLite's
    BEGIN IMMEDIATE already serialises the whole unit of work.)
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(named_lock("consent:" + phone))


def record_events(
    db: Session, *, phone: str, channels: tuple[str, ...], purposes: tuple[str, ...],
    action: str, source: str, evidence: dict, now: dt.datetime,
) -> list[ConsentEvent]:
    """Append one event per channel x purpose of the given (concrete) lists; update the state."""
    if not channels or not set(channels) <= set(CHANNELS):
        raise ValidationFailed(errors={"channel": [f"must be among {', '.join(CHANNELS)}"]})
    if not purposes or not set(purposes) <= set(PURPOSES):
        raise ValidationFailed(errors={"purpose": [f"must be among {', '.join(PURPOSES)}"]})
    return _append(db, [(c, p) for c in channels for p in purposes], phone=phone,
                   action=action, source=source, evidence=evidence, now=now)


def _append(db: Session, pairs: list[tuple[str, str]], *, phone: str, action: str, source: str,
            evidence: dict, now: dt.datetime, requested_by: str | None = None,
            idempotency_key: str | None = None) -> list[ConsentEvent]:
    _validate(action, source)
    evidence = validate_evidence(evidence)
    # Every event of a phone under its lock: a late carrier refusal (record_carrier_opt_out)
    # reads the grants made since its text under it (it waits for one being recorded rather
    # than revoke over it), and a phone's events take one order, of ids and times alike. Two
    # requests racing (a grant and a revocation sent together) are recorded one after the
    # other, and the second may have begun first: it is dated no earlier than the event it
    # follows, or the history (oldest first) would go back in time and the event in force,
    # the last, would read as older than the one it overruled.
    lock_phone(db, phone)
    now = max(now, _last_recorded_at(db, phone) or now)
    events = [
        ConsentEvent(phone=phone, channel=channel, purpose=purpose, action=action,
                     source=source, evidence=evidence, created_at=now,
                     requested_by=requested_by, idempotency_key=idempotency_key)
        for channel, purpose in pairs
    ]
    db.add_all(events)
    db.flush()
    _apply_to_state(db, events)
    if action == "revoke":
        _block_waiting_texts(db, phone, pairs, now)
    return events


def _block_waiting_texts(db: Session, phone: str, pairs: list[tuple[str, str]],
                         now: dt.datetime) -> None:
    """A revocation of texts stops the platform texts still waiting to go to the phone, from
    every path that records one (STOP, the API, a carrier's 21610)."""
    from commsvc.sending.service import block_on_revocation  # it imports this module

    purposes = {purpose for channel, stated in pairs
                if "sms" in _expand(channel, CHANNELS, "channel")
                for purpose in _expand(stated, PURPOSES, "purpose")}
    if purposes:
        block_on_revocation(db, to_phone=phone, purposes=purposes, now=now)


def _last_recorded_at(db: Session, phone: str) -> dt.datetime | None:
    """When the phone's latest event was recorded (None: it has none)."""
    # Uses index: ix_consent_events_phone_id (its last entry)
    return db.scalar(select(ConsentEvent.created_at).where(ConsentEvent.phone == phone)
                     .order_by(ConsentEvent.id.desc()).limit(1))


def _allowed_without_events(purpose: str, marketing_requires_grant: bool) -> bool:
    return purpose in DEFAULT_ALLOWED_PURPOSES or not marketing_requires_grant


def _decide(purpose: str, allowed: bool | None, marketing_requires_grant: bool) -> Decision:
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
    allowed = db.connection().execute(
        _STATE, {"phone": phone, "channel": channel, "purpose": purpose}).scalar()
    return _decide(purpose, allowed, marketing_requires_grant)


# Built once: the consent check runs it on every call. Uses index: pk_consent_state
_STATE = select(ConsentState.allowed).where(
    ConsentState.phone == bindparam("phone"), ConsentState.channel == bindparam("channel"),
    ConsentState.purpose == bindparam("purpose"),
)


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
            decision = _decide(purpose, row.allowed if row else None, marketing_requires_grant)
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
