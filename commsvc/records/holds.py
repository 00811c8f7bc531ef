"""Legal holds: what they cover (as SQL conditions), and placing, listing and lifting them.

A hold covers a phone (every message and call where the number is the sender, the recipient or
where it was forwarded to, and every session it took part in with all of that session's texts
and calls, those never forwarded to it included), a session, or a booking. Data
under an active hold survives retention and erasure; lifting a hold makes it eligible again at
the next run. `held(model)` / `not_held(model)` are the one definition of "covered": retention,
erasure, export and the read-side visibility rule all use them.

A hold never comes into force halfway through an erasure or a retention batch, which choose the
rows holds leave free and then delete them: they take `hold_still` (a shared lock) first and
placing a hold takes the same lock exclusively, so a hold is placed either before they choose
(and keeps all it covers) or after they commit (PostgreSQL; SQLite's BEGIN IMMEDIATE already
runs one writer at a time). Lifting one takes it too: an erasure takes the number out of the
holds lifted when it looks, a lift out of its hold when the ledger has the erasure, so a lift
between the two would keep the erased number.
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, union
from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.db.locks import lock_or_unavailable
from commsvc.errors import NotFound, ValidationFailed
from commsvc.fields import BOOKING_ID, reason_problem
from commsvc.log_masking.words import mask_word
from commsvc.paging import Page, decode_cursor, page_of
from commsvc.phones import mask
from commsvc.records import audit, erasure_ledger
from commsvc.records.models import AuditEvent, LegalHold
from commsvc.relay.models import Call, Message
from commsvc.sending.models import OutboundMessage
from commsvc.sessions.models import Participant
from commsvc.sessions.models import Session as ConversationSession
from commsvc.sessions.service import SESSION_ID

SCOPES = ("phone", "session", "booking")
PLACING_LOCK_KEY = 0x686F6C6473  # pg_advisory_xact_lock key: "holds" in ASCII
# The longest a hold waits for the erasures and retention batches running (503 after): while
# it waits, every erasure and batch that starts waits behind it.
PLACING_LOCK_WAIT = "5s"


def hold_still(db: Session) -> None:
    """No hold is placed until this transaction ends (it decides what holds cover and acts on
    it: an erasure, a retention batch)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock_shared(PLACING_LOCK_KEY)))


def _wait_for_erasures(db: Session, not_done: str) -> None:
    """Until this transaction ends, no erasure or retention batch decides what holds keep
    (PostgreSQL: they take hold_still); 503 saying `not_done` after PLACING_LOCK_WAIT."""
    if db.get_bind().dialect.name == "postgresql":
        lock_or_unavailable(db, select(func.pg_advisory_xact_lock(PLACING_LOCK_KEY)),
                            wait=PLACING_LOCK_WAIT,
                            busy="An erasure or a retention batch is deciding what holds keep;"
                                 f" {not_done}: try again shortly.")


def _active() -> ColumnElement[bool]:
    return LegalHold.lifted_at.is_(None)


def _held_values(scope: str, hold_id: str | None):
    # Uses index: ix_legal_holds_scope_value (a small table; PostgreSQL hashes it once).
    values = select(LegalHold.value).where(LegalHold.scope == scope)
    return values.where(_active()) if hold_id is None else values.where(LegalHold.id == hold_id)


def _in_holds(column, scope: str, hold_id: str | None) -> ColumnElement[bool]:
    # The IS NOT NULL guard keeps the result false (never NULL) for a NULL column, so that
    # NOT held(...) stays true for rows with no forward_to / session / booking.
    return and_(column.is_not(None), column.in_(_held_values(scope, hold_id)))


def _in_held_phones_sessions(column, hold_id: str | None) -> ColumnElement[bool]:
    # A held phone keeps its sessions whole (held(Session) below), so also the texts and calls
    # in them that name it nowhere: one addressed to it but never forwarded (it had opted
    # out, the session took only calls) has no forward_to, and went while the session stayed.
    # Uses index: ix_participants_phone_proxy (phone, ...), the held phones a small set.
    sessions = select(Participant.session_id).where(
        Participant.phone.in_(_held_values("phone", hold_id)))
    return and_(column.is_not(None), column.in_(sessions))


def held(model, hold_id: str | None = None) -> ColumnElement[bool]:
    """SQL condition: this Message, Call, OutboundMessage or Session row is under a hold in
    force (`hold_id`: under that one hold, lifted or not)."""
    if model in (Message, Call):
        return or_(
            _in_holds(model.from_phone, "phone", hold_id),
            _in_holds(model.to_phone, "phone", hold_id),
            _in_holds(model.forward_to, "phone", hold_id),
            _in_holds(model.session_id, "session", hold_id),
            _in_holds(model.booking_id, "booking", hold_id),
            _in_held_phones_sessions(model.session_id, hold_id),
        )
    if model is OutboundMessage:
        return or_(_in_holds(model.to_phone, "phone", hold_id),
                   _in_holds(model.from_phone, "phone", hold_id),
                   _in_holds(model.booking_id, "booking", hold_id))
    if model is ConversationSession:
        return or_(
            _in_holds(model.id, "session", hold_id),
            _in_holds(model.booking_id, "booking", hold_id),
            exists().where(
                Participant.session_id == model.id,
                Participant.phone.in_(_held_values("phone", hold_id)),
            ),
        )
    raise TypeError(f"holds do not cover {model!r}")


def numbers_kept_by(hold_id: str):
    """SQL: every number of a person in the rows one hold covers (UNION removes repeats):
    whom a lift may have to erase again."""
    sessions = select(ConversationSession.id).where(held(ConversationSession, hold_id))
    return union(
        select(Participant.phone).where(Participant.session_id.in_(sessions)),
        *(select(column).where(held(model, hold_id)) for model, column in (
            (Message, Message.from_phone), (Message, Message.forward_to),
            (Call, Call.from_phone), (Call, Call.forward_to),
            (OutboundMessage, OutboundMessage.to_phone))))


def kept_since(db: Session, hold: LegalHold) -> dt.datetime:
    """Since when holds have been in force without a break up to this one's lift: what it
    keeps of a person erased since then, it may have taken over from a hold lifted before it
    (placed after the erasure, it kept the rows another still kept), so its lift has every
    erasure since then to look at, not only those since it was placed. A walk over the holds
    (a small table), newest placed first, joining each that was in force when the run began."""
    start = hold.created_at
    # Uses index: none (legal_holds is a small table: a scan of it)
    for created_at, lifted_at in db.execute(
            select(LegalHold.created_at, LegalHold.lifted_at)
            .where(LegalHold.created_at < start).order_by(LegalHold.created_at.desc())):
        if lifted_at is None or lifted_at >= start:
            start = created_at
    return start


def not_held(model) -> ColumnElement[bool]:
    """SQL condition: no active hold covers this row (retention and erasure may touch it)."""
    return ~held(model)


def active_holds(db: Session) -> list[LegalHold]:
    """Every hold in force, oldest first."""
    return list(db.scalars(select(LegalHold).where(_active()).order_by(LegalHold.created_at,
                                                                           LegalHold.id)))


def is_held(
    db: Session, *, phones: tuple[str | None, ...] | list[str | None] = (),
    session_id: str | None = None, booking_id: str | None = None,
) -> bool:
    """Whether an active hold covers any of these phones, this session or this booking."""
    conditions = [and_(LegalHold.scope == "phone", LegalHold.value.in_([p for p in phones if p]))]
    if session_id:
        conditions.append(and_(LegalHold.scope == "session", LegalHold.value == session_id))
    if booking_id:
        conditions.append(and_(LegalHold.scope == "booking", LegalHold.value == booking_id))
    query = select(LegalHold.id).where(_active(), or_(false(), *conditions)).limit(1)
    return db.scalar(query) is not None


def audit_value(scope: str, value: str) -> str:
    """The hold's value as the audit log may hold it (phones masked)."""
    return mask(value) if scope == "phone" else value


def _never_named(scope: str, value: str) -> str | None:
    """Why no session or booking can be called `value` (a hold on it would keep nothing)."""
    if scope == "session" and not SESSION_ID.fullmatch(value):
        return "not a session id (ses_ and hexadecimal digits)"
    if scope == "booking":
        try:
            for rule in BOOKING_ID:
                rule(value)
        except MarshmallowError as error:
            return error.messages[0]
    return None


def hold_errors(scope: str | None, value: str | None, reason: str | None
                ) -> dict[str, list[str]]:
    """Every problem of a hold's scope, value (a phone already E.164) and reason at once, as
    {field: [messages]}; a field given as None is not judged (the edge found it wrong already),
    nor a value whose scope is not known."""
    errors: dict[str, list[str]] = {}
    if scope is not None and scope not in SCOPES:
        errors["scope"] = [f"must be one of {', '.join(SCOPES)}"]
    if value is not None and scope in SCOPES:
        if not value.strip():  # a hold on "" would cover nothing while its officer believed it
            errors["value"] = [f"must name the {scope} to hold"]
        elif (problem := _never_named(scope, value)) is not None:
            errors["value"] = [problem]
    if reason is not None and (
            problem := reason_problem(reason.strip(), empty="must state why the data is held")):
        errors["reason"] = [problem]
    return errors


def place_hold(
    db: Session, *, scope: str, value: str, reason: str, actor: str, now: dt.datetime,
) -> LegalHold:
    """Place a hold (phones already E.164); 422 naming every wrong field (hold_errors).

    A hold may come before the data (a preservation notice for a booking still in progress):
    it covers whatever matches it from then on.
    """
    value, reason = value or "", (reason or "").strip()
    if errors := hold_errors(scope, value, reason):
        raise ValidationFailed(errors=errors)
    # Stored as the audit trail stores reasons: numbers masked, but the held phone's own (the
    # hold names it anyway). A number written in it is someone's data no erasure would find.
    kept = frozenset({value}) if scope == "phone" else frozenset()
    _wait_for_erasures(db, "the hold was not placed")
    hold = LegalHold(id="hold_" + secrets.token_hex(10), scope=scope, value=value,
                     reason=mask_word(reason, keep=kept), created_by=actor, created_at=now)
    db.add(hold)
    db.flush()
    audit.record(db, actor=actor, action="hold.placed", now=now, reason=reason,
                 target={"hold_id": hold.id, "scope": scope, "value": audit_value(scope, value)})
    return hold


def lift_hold(db: Session, hold_id: str, *, actor: str, now: dt.datetime, config: Config,
              reason: str | None = None,
              release: Callable[[LegalHold], dict] | None = None,
              ) -> tuple[LegalHold, bool, dict | None]:
    """Lift a hold (idempotent: lifting a lifted hold changes nothing, but ends a lift that
    stopped before its hold.lifted); the hold, whether this call lifted it (False: it was, and
    nothing was audited), and what `release` did; 404 when unknown.

    `release(hold)`, called once the hold is lifted and before hold.lifted is audited (its
    answer goes in the event's details, and a repeated lift answers it again): erase what the
    hold alone kept of people erased while it was in force (records.subjects.erase_released,
    which imports this module).
    A phone hold on a number erased while it was in force loses the number as it is lifted
    (forget_lifted): the hold was all that kept it, and the person asked to be erased. One
    placed later, on a customer who came back, is about what they made since: it keeps it."""
    hold = db.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound.no("legal hold", hold_id)
    if hold.lifted_at is None:
        # An erasure running now looks for lifted holds before it commits its ledger entry:
        # lifted meanwhile, the hold would be found by neither it nor the ledger check below.
        _wait_for_erasures(db, "the hold was not lifted")
        db.refresh(hold)
    purged, lifted_before = False, hold.lifted_at is not None
    if hold.lifted_at is None:
        hold.lifted_at = now
        hold.lifted_by = actor
        db.flush()
    elif (lifted := _lift_event(db, hold.id)) is not None:
        return hold, False, lifted.get("erased_again")
    else:
        purged = _purged_since(db, hold.lifted_at)
    # Lifted now, or by a lift that stopped before its end: on SQLite release's erasure commits
    # in batches, the lift with the first (subjects.erase_in_batches), so a process killed
    # before the last left the hold lifted and no hold.lifted: this lift ends it. Its
    # hold.lifted may also be gone with audit retention: release again all the same (what a
    # stopped lift left is still erased), but a lift that finds nothing more to erase then was
    # ended long ago, and its event is not written twice.
    value = hold.value  # before release, whose erasure may take it out of the hold
    target = {"hold_id": hold.id, "scope": hold.scope, "value": audit_value(hold.scope, value)}
    released = release(hold) if release is not None else None
    if purged and not (released and released["subjects"]):
        return hold, False, None
    if released is not None and lifted_before:
        # What the stopped lift's batches removed was recorded nowhere: these counts are the
        # rest, and say so.
        released = {**released, "rest_of_a_stopped_lift": True}
    audit.record(db, actor=actor, action="hold.lifted", now=now, reason=reason,
                 target=target, details={"erased_again": released} if released else None)
    erased_at = (erasure_ledger.last_erasure(db, value, config)
                 if hold.scope == "phone" else None)
    if erased_at is not None and erased_at >= hold.created_at:
        # The holds placed by that erasure: one placed since, on the customer who came
        # back, is about what they made after it and keeps the number (lifted already too).
        forget_lifted(db, value, erasure_ledger.tombstone(config.hmac_key, value),
                      before=erased_at)
    return hold, True, released


def _purged_since(db: Session, at: dt.datetime) -> bool:
    """Whether audit retention has purged the events made at `at` (a lift's hold.lifted)."""
    # Uses index: ix_audit_events_action_id
    details = db.scalar(select(AuditEvent.details).where(AuditEvent.action == audit.PURGE_ACTION)
                        .order_by(AuditEvent.id.desc()).limit(1))
    return details is not None and dt.datetime.fromisoformat(details["before"]) > at


def _lift_event(db: Session, hold_id: str) -> dict | None:
    """The details of a lifted hold's hold.lifted event ({} when it has none), so that a
    repeated lift answers what the first erased; None: no such event (a lift stopped before
    its end)."""
    # Uses index: ix_audit_events_action_id (holds are few, their lifts fewer)
    for target, details in db.execute(select(AuditEvent.target, AuditEvent.details)
                                      .where(AuditEvent.action == "hold.lifted")
                                      .order_by(AuditEvent.id.desc())):
        if (target or {}).get("hold_id") == hold_id:
            return details or {}
    return None


def forget_lifted(db: Session, phone: str, stone: str,
                  before: dt.datetime | None = None) -> int:
    """Erasure: the number leaves every lifted hold on it (`stone` for the value, masked in the
    reason, where placing kept it); how many. A lifted hold keeps nothing, so it must not keep
    the number either; an active one keeps it (a hold outlives erasure). `before`: only holds
    placed by then (a replay: a hold placed on a returning customer since is theirs)."""
    # Uses index: ix_legal_holds_scope_value
    query = select(LegalHold).where(
        LegalHold.scope == "phone", LegalHold.value == phone, LegalHold.lifted_at.is_not(None))
    if before is not None:
        query = query.where(LegalHold.created_at <= before)
    lifted = list(db.scalars(query))
    for hold in lifted:
        hold.value, hold.reason = stone, mask_word(hold.reason)
    db.flush()
    return len(lifted)


def list_holds(db: Session, *, limit: int, cursor: str | None = None,
               include_lifted: bool = False) -> Page[LegalHold]:
    """Holds, newest first; only those in force unless include_lifted."""
    query = select(LegalHold)
    if not include_lifted:
        query = query.where(_active())
    filters = {"include_lifted": include_lifted}
    if cursor:
        created_at, hold_id = decode_cursor(cursor, dt.datetime, str, of="holds",
                                            filters=filters)
        query = query.where(or_(LegalHold.created_at < created_at,
                                and_(LegalHold.created_at == created_at, LegalHold.id < hold_id)))
    query = query.order_by(LegalHold.created_at.desc(), LegalHold.id.desc()).limit(limit + 1)
    return page_of(list(db.scalars(query)), limit, lambda hold: (hold.created_at, hold.id),
                   of="holds", filters=filters)
