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

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from commsvc.consent.evidence import (
    RECEIVED,
    expand,
    validate,
    validate_evidence,
)
from commsvc.consent.models import (
    ALL,
    CHANNELS,
    PURPOSES,
    ConsentEvent,
    ConsentState,
)
from commsvc.db.inserts import insert_for, insert_or_replay
from commsvc.db.locks import named_lock
from commsvc.errors import Conflict, ValidationFailed
from commsvc.twilio_gateway import UNSUBSCRIBED


def _apply_to_state(db: Session, events: list[ConsentEvent]) -> None:
    """Upsert the state rows of these events: the highest event id wins, since kept on repeats.

    An event for "all" channels or purposes sets the row of each one it covers.
    """
    insert = insert_for(db)
    stmt = insert(ConsentState).values([
        {"phone": e.phone, "channel": channel, "purpose": purpose,
         "allowed": e.action == "grant", "event_id": e.id, "since": e.created_at}
        for e in events
        for channel in expand(e.channel, CHANNELS, "channel")
        for purpose in expand(e.purpose, PURPOSES, "purpose")
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
    expand(channel, CHANNELS, "channel")
    expand(purpose, PURPOSES, "purpose")
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
    validate(action, source)
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
                if "sms" in expand(channel, CHANNELS, "channel")
                for purpose in expand(stated, PURPOSES, "purpose")}
    if purposes:
        block_on_revocation(db, to_phone=phone, purposes=purposes, now=now)


def _last_recorded_at(db: Session, phone: str) -> dt.datetime | None:
    """When the phone's latest event was recorded (None: it has none)."""
    # Uses index: ix_consent_events_phone_id (its last entry)
    return db.scalar(select(ConsentEvent.created_at).where(ConsentEvent.phone == phone)
                     .order_by(ConsentEvent.id.desc()).limit(1))
