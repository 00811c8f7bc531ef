"""Storing a new session: the INSERTs of its row and of its two participants, all or nothing.

PostgreSQL inserts the session and both participants' first choices in one statement; SQLite
inserts the session, then each participant. Each INSERT is ON CONFLICT DO NOTHING: nothing
back means the booking has an open session (uq_sessions_open_booking), a phone is one of our
numbers, or a concurrent session took a participant's first choice (allocate tries again); a
creation's first INSERT also inserts nothing while a phone has an overdue session.
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    literal_column,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased, make_transient_to_detached

from commsvc.db.driver import DriverStatement
from commsvc.db.inserts import INSERTS
from commsvc.db.session import is_transactional
from commsvc.errors import PoolExhausted, ValidationFailed
from commsvc.pool import service as pool_service
from commsvc.pool.models import ProxyNumber
from commsvc.sessions.allocation import (
    BOTH_SIDES_GIVEN,
    INCOMPLETE,
    MODE_CAPABILITIES,
    allocate,
    both_sides_values,
    take_both,
)
from commsvc.sessions.models import Participant, Session


def _refuse_pool_numbers(db: DbSession, **phones: str) -> None:
    """422 naming each participant whose phone is one of our numbers (active or retired)."""
    ours = pool_service.pool_numbers_among(db, phones.values())
    if ours:
        raise ValidationFailed(errors={
            role: {"phone": [pool_service.NOT_A_PERSON]}
            for role, phone in phones.items() if phone in ours})


SESSIONS = Session.__table__
SESSION_COLUMNS = ("id", "booking_id", "status", "closed_reason", "mode", "record_calls",
                   "created_at", "expires_at", "closed_at")
# What every new session's row says, written into its INSERT rather than sent (the statement
# that inserts both participants too must stay under psycopg's 4 kB, see allocation._NUMBER).
NEW_SESSION = {"status": "open", "closed_reason": None, "closed_at": None}
# The session's row, unless a phone is one of our numbers (a pool number is no one's phone):
# checked in the INSERT itself, so a new session pays no extra round trip for it; only when
# nothing was inserted is the pool asked which phone it was (else the booking had a session).
# Uses index: uq_proxy_numbers_phone_number
NOT_OURS = ~exists().where(ProxyNumber.phone_number.in_([bindparam("requester"),
                                                         bindparam("pro")]))
# The booking's open session and the overdue sessions of the two phones (their numbers are not
# free until they are marked expired): what a creation must see before it inserts.
# Uses index: uq_sessions_open_booking (booking_id) WHERE status = 'open';
# ix_sessions_status_expires_at (status, expires_at); uq_participants_active_route
# (Short aliases and the status written into the SQL: the statement that inserts a session
# and both participants must stay under psycopg's 4 kB, see allocation._NUMBER.)
_OPEN, _ACTIVE = aliased(Session, name="o"), aliased(Participant, name="a")
OPEN_OR_OVERDUE = and_(
    _OPEN.status == literal_column("'open'"),
    or_(_OPEN.booking_id == bindparam("booking_id"),
        and_(_OPEN.expires_at <= bindparam("now"),
             _OPEN.id.in_(select(_ACTIVE.session_id).where(
                 _ACTIVE.phone.in_([bindparam("requester"), bindparam("pro")]),
                 _ACTIVE.active)))))
# A creation's first INSERT also inserts nothing while a phone has an overdue session (the
# booking's open one, overdue or not, stops it at uq_sessions_open_booking already): only then
# does it read them (one round trip fewer for every new session); once it has expired the
# overdue ones it inserts without that condition. Asked from the phones' active participants,
# not with OPEN_OR_OVERDUE's OR: PostgreSQL estimates this one cheap without the values too, so
# the prepared statement settles on its generic plan; with the OR it planned the whole
# statement again at every creation (2 ms of PostgreSQL's CPU each).
# Uses index: uq_participants_active_route (phone, ...) WHERE active; pk_sessions
_NO_OVERDUE_PHONE = ~exists().where(
    _ACTIVE.phone.in_([bindparam("requester"), bindparam("pro")]), _ACTIVE.active,
    _OPEN.id == _ACTIVE.session_id, _OPEN.status == literal_column("'open'"),
    _OPEN.expires_at <= bindparam("now"))
# The same sessions read, when the first INSERT inserted nothing. Built once, executed with
# parameters.
OPEN_OR_OVERDUE_SESSIONS = select(_OPEN).where(OPEN_OR_OVERDUE)


class SessionInserts(NamedTuple):
    """A session's INSERT statements, run on the driver (db.driver): `open` inserts the session
    alone (SQLite, which inserts each participant after it), `all` with both participants'
    first choices by mode (PostgreSQL: INSERTs in WITH); `first_open` and `first_all` the
    same, inserting nothing while the booking has an open session or a phone an overdue one;
    `at_once` as `first_all`, failing rather than inserting a session without both
    participants (PostgreSQL, in autocommit: it commits alone)."""

    open: dict[str, DriverStatement]
    all: dict[str, DriverStatement]
    first_open: dict[str, DriverStatement]
    first_all: dict[str, DriverStatement]
    at_once: dict[str, DriverStatement]


def _value(column: str):
    if column not in NEW_SESSION:
        return bindparam(column, type_=SESSIONS.c[column].type)
    return null() if NEW_SESSION[column] is None else literal_column(f"'{NEW_SESSION[column]}'")


def session_inserts(not_ours=NOT_OURS) -> SessionInserts:
    """The statements, built once, with `not_ours` as the pool check."""
    def insert_open(insert, *conditions):
        return (insert(SESSIONS)
                .from_select(SESSION_COLUMNS, select(*(_value(column)
                                                       for column in SESSION_COLUMNS))
                             .where(*conditions))
                .on_conflict_do_nothing(index_elements=["booking_id"],
                                        index_where=text("status = 'open'"))
                .returning(SESSIONS.c.id))

    def built(*conditions, given, whole=False):
        # PostgreSQL inserts the session and both participants' first choices in one
        # statement (two round trips fewer than one INSERT each: a sixth of a session
        # creation's CPU); SQLite, which has no INSERT in WITH, inserts the session, then
        # each participant.
        alone = {name: DriverStatement(insert_open(insert, *conditions), given)
                 for name, insert in INSERTS.items()}
        session_cte = insert_open(INSERTS["postgresql"], *conditions).cte("s")
        both = {mode: DriverStatement(take_both(mode, session_cte, whole=whole),
                                      given + BOTH_SIDES_GIVEN)
                for mode in MODE_CAPABILITIES}
        return alone, both

    given = (*(c for c in SESSION_COLUMNS if c not in NEW_SESSION), "requester", "pro")
    alone, both = built(not_ours, given=given)
    first_alone, first_both = built(not_ours, _NO_OVERDUE_PHONE, given=(*given, "now"))
    _, at_once = built(not_ours, _NO_OVERDUE_PHONE, given=(*given, "now"), whole=True)
    return SessionInserts(alone, both, first_alone, first_both, at_once)


_INSERTS = session_inserts()


class _Taken(NamedTuple):
    id: int
    proxy_number: str


def _first_tries(db: DbSession, row: dict, phones: dict, sides, *, first: bool,
                 **preference) -> dict[str, _Taken] | None:
    """Insert the session, and on PostgreSQL both participants' first choices: None if no
    session was inserted, else what the participants were given, by role (none yet: left
    out). `first`: the creation's first try, which inserts nothing while the booking has an
    open session or a phone an overdue one."""
    values = {**row, **phones, "now": preference["now"]}
    dialect = db.get_bind().dialect.name
    if dialect != "postgresql":
        statements = _INSERTS.first_open if first else _INSERTS.open
        return None if statements[dialect].first(db, values) is None else {}
    values.update(both_sides_values(sides, **preference))
    if not is_transactional(db):
        return _at_once(db, row["mode"], values, sides)
    statements = _INSERTS.first_all if first else _INSERTS.all
    inserted = statements[row["mode"]].first(db, values)
    return None if inserted is None else _taken(inserted, sides)


def _taken(inserted: tuple, sides) -> dict[str, _Taken]:
    """What take_both's row says the participants were given, by role (none yet: left out)."""
    _session_id, first_id, first_proxy, second_id, second_proxy = inserted
    (first_role, *_), (second_role, *_) = sides
    return {role: _Taken(taken_id, proxy) for role, taken_id, proxy in (
        (first_role, first_id, first_proxy), (second_role, second_id, second_proxy))
        if taken_id is not None}


class Undone(Exception):
    """The one statement of an autocommit unit of work inserted the session but not both
    participants (a first choice taken meanwhile, no number free), so PostgreSQL undid all of
    it: nothing is stored, and the booking had no open session nor a phone an overdue one."""


def _at_once(db: DbSession, mode: str, values: dict, sides) -> dict[str, _Taken] | None:
    """The first try, whole or not at all, in an autocommit unit of work: what both
    participants were given; None when it inserted nothing (as _first_tries); Undone when it
    was undone (the caller goes on in a transaction)."""
    try:
        inserted = _INSERTS.at_once[mode].first(db, values)
    except DataError as error:
        if INCOMPLETE not in str(error.orig):
            raise
        raise Undone from None
    return None if inserted is None else _taken(inserted, sides)


def store(db: DbSession, row: dict, sides, *, now: dt.datetime, cooloff_seconds: int,
          first: bool = False) -> Session | None:
    """Insert the session and both participants, all or nothing; None if the booking has one.

    Core INSERTs with ON CONFLICT DO NOTHING, no SAVEPOINT; the answer is built from what was
    inserted, so nothing is read back. `first`: None also while the booking has an open
    session or a phone an overdue one (OPEN_OR_OVERDUE: the caller reads them then), and
    without asking the pool; in an autocommit unit of work, Undone when its one statement
    could not store the session whole.
    """
    phones = {role: phone for role, phone, _counterpart in sides}
    # In phone order, so concurrent creations take the route index's locks in one order.
    sides = sorted(sides, key=lambda side: side[1])
    taken = _first_tries(db, row, phones, sides, first=first, now=now,
                         cooloff_seconds=cooloff_seconds)
    if taken is None:
        if not first:
            _refuse_pool_numbers(db, **phones)
        # uq_sessions_open_booking: a concurrent create for this booking committed first.
        return None
    session = Session(**row)
    try:
        participants = [
            allocate(db, session, role=role, phone=phone, counterpart=counterpart, now=now,
                     cooloff_seconds=cooloff_seconds, taken=taken.get(role))
            for role, phone, counterpart in sides]
    except PoolExhausted:
        # Its participant rows go with it (ON DELETE CASCADE).
        db.execute(delete(SESSIONS).where(SESSIONS.c.id == session.id))
        raise
    session.participants = sorted(participants, key=lambda participant: participant.id)
    # As loaded from the database: in the unit of work, with nothing left to flush.
    for obj in (*participants, session):
        make_transient_to_detached(obj)
    db.add(session)
    return session
