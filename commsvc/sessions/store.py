"""Storing a new session: the INSERTs of its row and of its two participants, all or nothing.

PostgreSQL inserts the session and both participants' first choices in one statement; SQLite
inserts the session, then each participant. Each INSERT is ON CONFLICT DO NOTHING: nothing
back means the booking has an open session (uq_sessions_open_booking), a phone is one of our
numbers, or a concurrent session took a participant's first choice (allocate tries again).
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import bindparam, delete, exists, select, text
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import make_transient_to_detached

from commsvc.db.inserts import INSERTS
from commsvc.errors import PoolExhausted, ValidationFailed
from commsvc.pool import service as pool_service
from commsvc.pool.models import ProxyNumber
from commsvc.sessions.allocation import (
    MODE_CAPABILITIES,
    allocate,
    both_sides_values,
    take_both,
)
from commsvc.sessions.models import Session


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
# The session's row, unless a phone is one of our numbers (a pool number is no one's phone):
# checked in the INSERT itself, so a new session pays no extra round trip for it; only when
# nothing was inserted is the pool asked which phone it was (else the booking had a session).
# Uses index: uq_proxy_numbers_phone_number
_NOT_OURS = ~exists().where(ProxyNumber.phone_number.in_([bindparam("requester"),
                                                          bindparam("pro")]))
_INSERT_OPEN = {
    name: insert(SESSIONS)
    .from_select(SESSION_COLUMNS, select(*(
        bindparam(column, type_=SESSIONS.c[column].type) for column in SESSION_COLUMNS))
        .where(_NOT_OURS))
    .on_conflict_do_nothing(index_elements=["booking_id"], index_where=text("status = 'open'"))
    .returning(SESSIONS.c.id)
    for name, insert in INSERTS.items()}
# PostgreSQL inserts the session and both participants' first choices in one statement (two
# round trips fewer than one INSERT each: a sixth of a session creation's CPU); SQLite, which
# has no INSERT in WITH, inserts the session, then each participant.
_INSERT_ALL = {mode: take_both(mode, _INSERT_OPEN["postgresql"].cte("new_session"))
               for mode in MODE_CAPABILITIES}


class _Taken(NamedTuple):
    id: int
    proxy_number: str


def _first_tries(db: DbSession, row: dict, phones: dict, sides,
                 **preference) -> dict[str, _Taken] | None:
    """Insert the session, and on PostgreSQL both participants' first choices: None if no
    session was inserted, else what the participants were given, by role (none yet: left
    out)."""
    dialect = db.get_bind().dialect.name
    if dialect != "postgresql":
        inserted = db.execute(_INSERT_OPEN[dialect], {**row, **phones}).first()
        return None if inserted is None else {}
    values = both_sides_values(sides, **preference)
    inserted = db.execute(_INSERT_ALL[row["mode"]], {**row, **phones, **values}).first()
    if inserted is None:
        return None
    (first, *_), (second, *_) = sides
    return {role: _Taken(taken_id, proxy) for role, taken_id, proxy in (
        (first, inserted.first_id, inserted.first_proxy),
        (second, inserted.second_id, inserted.second_proxy)) if taken_id is not None}


def store(db: DbSession, row: dict, sides, *, now: dt.datetime,
          cooloff_seconds: int) -> Session | None:
    """Insert the session and both participants, all or nothing; None if the booking has one.

    Core INSERTs with ON CONFLICT DO NOTHING, no SAVEPOINT; the answer is built from what was
    inserted, so nothing is read back.
    """
    phones = {role: phone for role, phone, _counterpart in sides}
    # In phone order, so concurrent creations take the route index's locks in one order.
    sides = sorted(sides, key=lambda side: side[1])
    taken = _first_tries(db, row, phones, sides, now=now, cooloff_seconds=cooloff_seconds)
    if taken is None:
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
