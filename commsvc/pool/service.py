"""The number pool: add (or bring back), list and retire the platform's proxy numbers.

Who sees a pool number in full is decided at the edge by auth.visibility.present_pool_number.
Every change is audited in the caller's transaction.
A number is never both: a pool number is refused as a participant's phone (sessions.store),
and the phone of a participant in an open session is refused as a pool number (here), even
when the two are asked at once (_hold_session_creation); so is a phone the platform texts
(POST /v1/messages) and a pool number as its `to` (_hold_text_acceptance).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, select, text, update
from sqlalchemy.orm import Session as DbSession

from commsvc.clock import isoformat
from commsvc.config.settings import Retention
from commsvc.db.inserts import insert_for
from commsvc.db.locks import lock_or_unavailable, named_lock
from commsvc.errors import Conflict, NotFound, ValidationFailed
from commsvc.paging import Page, decode_cursor, page_of
from commsvc.phones import COSTLY_NUMBER, is_costly, locality
from commsvc.pool.models import ProxyNumber
from commsvc.records import audit
from commsvc.sessions.allocation import MODE_CAPABILITIES
from commsvc.sessions.ending import sessions_of
from commsvc.sessions.models import Participant, Session

CAPABILITIES = ("sms", "mms", "voice")
DEFAULT_CAPABILITIES = ("sms", "voice")
STATUSES = ("active", "retired")
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


class AlreadyInPool(Conflict):
    """The number is in the pool and active (a retired one is brought back instead)."""


@dataclass(frozen=True)
class Added:
    """A number add_number put in the pool: new, or a retired one brought back."""

    number: ProxyNumber
    reactivated: bool


@dataclass(frozen=True)
class NumberRow:
    """A pool number and how many open (unexpired) sessions use it."""

    number: ProxyNumber
    open_sessions: int


def check_capabilities(capabilities) -> tuple[str, ...]:
    """The capabilities as a tuple, or 422 for an empty list, an unknown name, or a list no
    session can use (mms alone: allocation would never give the number out)."""
    wanted = tuple(dict.fromkeys(capabilities))
    unknown = [c for c in wanted if c not in CAPABILITIES]
    if unknown or not wanted:
        raise ValidationFailed(errors={"capabilities": [
            f"must be a non-empty list of {', '.join(CAPABILITIES)}"]})
    if not any(set(needs) <= set(wanted) for needs in MODE_CAPABILITIES.values()):
        raise ValidationFailed(errors={"capabilities": [
            "must include sms or voice: a number with mms alone serves no session"]})
    return wanted


def get_number(db: DbSession, phone_number: str) -> ProxyNumber:
    number = None
    if E164.fullmatch(phone_number):
        number = db.scalar(select(ProxyNumber).where(ProxyNumber.phone_number == phone_number))
    if number is None:
        raise NotFound.no("number", phone_number, " in the pool")
    return number


SESSION_LOCK_WAIT = "1s"  # the longest a pool add holds session creation back

# Why one of our numbers is refused where a person's phone is expected.
NOT_A_PERSON = "is one of the service's own numbers, not a person's"


def pool_numbers_among(db: DbSession, phones, *, active_only: bool = False) -> set[str]:
    """Which of these numbers are pool numbers (active or retired; only active ones)."""
    wanted = [p for p in dict.fromkeys(phones) if p]
    if not wanted:
        return set()
    found = db.connection().execute(_POOL_NUMBERS_AMONG, {"phones": wanted}).all()
    return {number for number, status in found if status == "active" or not active_only}


def refuse_active_pool_number(db: DbSession, phone: str, why: str = "") -> None:
    """422 on `phone` for one of our active numbers: it is no one's, so it has no consent to
    record and no data of its own. (A retired one may have been, or become, a person's phone.)"""
    if pool_numbers_among(db, [phone], active_only=True):
        raise ValidationFailed(errors={"phone": [NOT_A_PERSON + why]})


# Built once: every session creation and platform send runs it (building the select and going
# through the ORM's scalars cost about 400 Python calls, a tenth of a session creation).
# Uses index: uq_proxy_numbers_phone_number
_POOL_NUMBERS_AMONG = select(ProxyNumber.phone_number, ProxyNumber.status).where(
    ProxyNumber.phone_number.in_(bindparam("phones", expanding=True)))


def _in_open_session(db: DbSession, phone: str, now: dt.datetime) -> bool:
    """Whether `phone` is the real phone of a participant in an open, unexpired session."""
    # Uses index: uq_participants_active_route (phone, ...) WHERE active; pk_sessions
    return bool(db.scalar(select(exists().where(
        Session.id.in_(sessions_of([phone])), Session.status == "open",
        Session.expires_at > now))))


def _hold_session_creation(db: DbSession) -> None:
    """Until this transaction ends, no session is created, nor one being created left behind.

    The check that a new pool number is no participant's phone (here) and session creation's
    check that neither phone is a pool number each read what the other writes: under READ
    COMMITTED two at once would both pass, and a customer's own number would be handed out. A
    SHARE lock on sessions waits for the sessions being created to commit, and holds new ones
    back until this number is in, so each check sees the other's row. Pool changes are rare;
    a session creation waits for one at most, and a pool add waits at most SESSION_LOCK_WAIT
    for the session writes in flight (503 after that). (SQLite runs one writer at a time.)
    """
    if db.get_bind().dialect.name != "postgresql":
        return
    # Queued for the lock, this add holds back every later session write too: wait at most
    # SESSION_LOCK_WAIT for the ones in flight (a long erasure may hold sessions much longer).
    lock_or_unavailable(db, text(f"LOCK TABLE {Session.__tablename__} IN SHARE MODE"),
                        wait=SESSION_LOCK_WAIT,
                        busy="Sessions are being written at length (an erasure, an expiry"
                             " sweep); this number was not added: try again shortly.")


def _text_or_add_lock(phone_number: str, *, shared: bool = False):
    """The lock a text's acceptance to this E.164 number takes (shared: texts do not wait on
    each other) and a pool add of it (alone); one per number, so a pool add holds back only
    texts to the number it adds. Not a lock on the outbox table: an erasure writes the outbox
    and sessions in either order, and a pool add holding one while it waited for the other
    could deadlock it."""
    return named_lock(f"pool-add-or-text:{phone_number}", shared=shared)


def _hold_text_acceptance(db: DbSession, phone_number: str) -> None:
    """Until this transaction ends, no platform text to this number is accepted (POST
    /v1/messages), nor one being accepted left behind: as _hold_session_creation for
    sessions, so that this add's check that the number is no phone the platform texts, and a
    text's check that its `to` is no pool number, each see the other's row
    (hold_off_pool_adds). PostgreSQL only."""
    if db.get_bind().dialect.name != "postgresql":
        return
    lock_or_unavailable(db, _text_or_add_lock(phone_number), wait=SESSION_LOCK_WAIT,
                        busy="Texts to this number are being accepted at length; it was not"
                             " added: try again shortly.")


def hold_off_pool_adds(db: DbSession, to: str) -> None:
    """Before a text's acceptance checks that `to` is no pool number: a pool add of it in
    flight is waited for, and then seen; one that comes later waits for this text, and sees
    it (_hold_text_acceptance). PostgreSQL only (SQLite runs one writer at a time)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(_text_or_add_lock(to, shared=True))


def _reactivate(db: DbSession, phone_number: str, wanted: tuple[str, ...]) -> ProxyNumber | None:
    """Bring a retired number back with these capabilities; None if it is not retired.

    One conditional UPDATE: of two concurrent re-adds, one brings it back and the other finds
    it active (409), as two concurrent adds of a new number give one row and a 409.
    """
    return db.scalar(
        update(ProxyNumber)
        .where(ProxyNumber.phone_number == phone_number, ProxyNumber.status == "retired")
        .values(status="active", retired_at=None, **{c: c in wanted for c in CAPABILITIES})
        .returning(ProxyNumber)
        .execution_options(populate_existing=True))


def _already_in_pool(db: DbSession, phone_number: str, reactivate: bool) -> str:
    """Why adding a number the pool has is a 409, and what to do about it."""
    retired = db.scalar(select(ProxyNumber.retired_at).where(
        ProxyNumber.phone_number == phone_number, ProxyNumber.status == "retired"))
    if retired is None or reactivate:
        return f"{phone_number} is already in the pool"
    return (f"{phone_number} is already in the pool, retired since {isoformat(retired)}: send"
            ' "reactivate": true to bring it back')


def add_number(db: DbSession, *, phone_number: str, capabilities, actor: str,
               now: dt.datetime, retention: Retention, reactivate: bool = False,
               reason: str | None = None) -> Added:
    """Add an E.164 number to the pool; with `reactivate`, bring a retired one back with these
    capabilities.

    409 (AlreadyInPool) when it is in the pool already (API.md: "the same number again"),
    active, or retired and not asked to be reactivated; 409 when it is the real phone of a
    participant in an open session (the allocator would hand a customer's own number out), or
    a person's with data an export shows (a session, texts, calls, outbox texts): as one of
    our numbers it would be no one's to export or erase. What is past `retention` does not
    count: the export no longer shows it, and the retention job deletes it.
    """
    # Not at the top: records imports this module.
    from commsvc.records.subject_scope import data_on_record

    wanted = check_capabilities(capabilities)
    if is_costly(phone_number):  # customers would text and call it at premium rates
        raise ValidationFailed(errors={"phone_number": [COSTLY_NUMBER]})
    _hold_session_creation(db)
    _hold_text_acceptance(db, phone_number)
    # (An open session is a session on record: asked below.)
    in_session, other_data = data_on_record(db, phone_number, retention=retention, now=now)
    if in_session or other_data:
        if pool_numbers_among(db, [phone_number], active_only=True):
            # Serving already (one pooled before ended sessions' phones were refused too): the
            # refusals below are for a number that would start serving, and their way out, an
            # erasure, refuses a pool number. (Any other number serving already is refused by
            # the unique index below, with the same 409.)
            raise AlreadyInPool(_already_in_pool(db, phone_number, reactivate))
        if in_session and _in_open_session(db, phone_number, now):
            raise Conflict(f"{phone_number} is the phone of a participant in an open session, "
                           "so it cannot be a proxy number.")
        # As one of our numbers, that person's data could no longer be exported or erased.
        whose = ("the phone of a participant in a session on record, so it is a person's"
                 if in_session else "a person's, with texts or calls on record")
        raise Conflict(f"{phone_number} is {whose}, whose data as a proxy number could no"
                       " longer be exported or erased: if the number changed hands, erase that"
                       f" data first (POST /v1/subjects/{phone_number}/erase).")
    number = _insert_new(db, phone_number, wanted, now)
    reactivated = number is None
    if number is None:  # in the pool already
        number = _reactivate(db, phone_number, wanted) if reactivate else None
        if number is None:
            raise AlreadyInPool(_already_in_pool(db, phone_number, reactivate))
    audit.record(db, actor=actor, action="number.added", now=now, reason=reason,
                 target={"phone_number": phone_number},
                 details={"capabilities": number.capabilities,
                          **({"reactivated": True} if reactivated else {})})
    return Added(number, reactivated)


def _insert_new(db: DbSession, phone_number: str, wanted: tuple[str, ...],
                now: dt.datetime) -> ProxyNumber | None:
    """The number put in the pool; None when the pool has it (active or retired). The unique
    index decides, so two concurrent adds of one number give one row and a 409; ON CONFLICT
    DO NOTHING, so a number added again is no statement the database refuses (each wrote an
    ERROR line in PostgreSQL's own log)."""
    where = locality(phone_number)
    # Uses index: uq_proxy_numbers_phone_number
    return db.scalar(
        insert_for(db)(ProxyNumber)
        .values(phone_number=phone_number, country_code=where.country_code,
                area_code=where.area_code, status="active", created_at=now,
                **{c: c in wanted for c in CAPABILITIES})
        .on_conflict_do_nothing(index_elements=["phone_number"])
        .returning(ProxyNumber))


def retire_number(db: DbSession, phone_number: str, *, actor: str,
                  now: dt.datetime, reason: str | None = None) -> ProxyNumber:
    """Retire a number: no new session gets it; open sessions keep it. Idempotent.

    One conditional UPDATE: of two concurrent retires, one retires it (audited once) and the
    other finds it retired and answers it as that one left it, as _reactivate does for re-adds.
    """
    number = get_number(db, phone_number)
    if number.status == "retired":
        return number
    retired = db.scalar(
        update(ProxyNumber)
        .where(ProxyNumber.id == number.id, ProxyNumber.status == "active")
        .values(status="retired", retired_at=now)
        .returning(ProxyNumber)
        .execution_options(populate_existing=True))
    if retired is None:  # a concurrent retire committed first
        db.refresh(number)
        return number
    audit.record(db, actor=actor, action="number.retired", now=now, reason=reason,
                 target={"phone_number": phone_number})
    return retired


def open_session_counts(db: DbSession, phone_numbers: list[str],
                        now: dt.datetime) -> dict[str, int]:
    """How many open, unexpired sessions use each of these proxy numbers."""
    if not phone_numbers:
        return {}
    # Uses index: ix_participants_proxy_active (proxy_number, active)
    rows = db.execute(
        select(Participant.proxy_number, func.count(func.distinct(Participant.session_id)))
        .join(Session, Session.id == Participant.session_id)
        .where(Participant.proxy_number.in_(phone_numbers))
        .where(Participant.active)
        .where(Session.status == "open")
        .where(Session.expires_at > now)
        .group_by(Participant.proxy_number)
    ).all()
    return dict(rows)


def list_numbers(db: DbSession, *, now: dt.datetime, status: str | None = None,
                 limit: int = 50, cursor: str | None = None) -> Page[NumberRow]:
    """One page of the pool in the order numbers were added, with their open sessions."""
    # Uses index: the primary key (keyset on id, so the cursor carries no number).
    query = select(ProxyNumber).order_by(ProxyNumber.id).limit(limit + 1)
    if status is not None:
        query = query.where(ProxyNumber.status == status)
    filters = {"status": status}
    if cursor is not None:
        query = query.where(ProxyNumber.id > decode_cursor(cursor, int, of="numbers",
                                                           filters=filters)[0])
    page = page_of(list(db.scalars(query)), limit, lambda number: (number.id,), of="numbers",
                   filters=filters)
    counts = open_session_counts(db, [n.phone_number for n in page.rows], now)
    rows = [NumberRow(n, counts.get(n.phone_number, 0)) for n in page.rows]
    return Page(rows, page.next_cursor)
