"""Giving each participant a proxy number, and freeing numbers when sessions expire.

Invariants:
- The routing rule is the database's: the partial unique index uq_participants_active_route on
  (phone, proxy_number) WHERE active. Allocation only chooses well; the index decides, so two
  concurrent creations can never pair one real number with one proxy number twice. The choice
  and the insert are one statement, INSERT ... SELECT ... ON CONFLICT DO NOTHING: on PostgreSQL
  it waits for a concurrent insert of the same pair to end; if that one committed, it inserts
  nothing and the next statement (READ COMMITTED) sees the pair taken and chooses again. No
  SAVEPOINT is needed. (SQLite: BEGIN IMMEDIATE serialises writers.)
- A session whose expires_at has passed frees its numbers at that instant: before allocating for
  two phones, their overdue sessions are marked expired in the same transaction (the creation's
  first INSERT inserts nothing while there are any; only then are they read, locked and
  expired).
- Retired numbers are never given. Capabilities must fit the session's mode. Neither
  participant's own phone is ever given, even where such a number is in the pool.
- Preference: the participant's own country, then own area code, then numbers not in cool-off
  (used by this phone with a different counterpart within cooloff_seconds), then numbers with
  no capability the mode does not use (an sms session leaves the numbers that also call to the
  sessions that need them), then a random pick among the best tier. Random rather than
  "fewest open sessions": it needs no aggregate over every open session and no hot counter
  row, and concurrent creations for one phone rarely choose the same number, so retries stay
  rare.
- Participants are inserted in order of phone number so that concurrent creations take the
  index's row locks in one order and cannot deadlock.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from commsvc.db.inserts import INSERTS
from commsvc.errors import PoolExhausted
from commsvc.phones import locality
from commsvc.pool.models import ProxyNumber
from commsvc.sessions.models import ACTIVE, Participant, Session

MAX_ATTEMPTS = 10

MODE_CAPABILITIES = {
    "sms": ("sms",),
    "voice": ("voice",),
    "sms_and_voice": ("sms", "voice"),
}


# Short aliases and constants written into the SQL: the statement that inserts a session and
# both participants repeats this SELECT twice, and psycopg parses a statement longer than 4 kB
# again on every execution (it caches only shorter ones): 0.2 ms of CPU per session.
_NUMBER = aliased(ProxyNumber, name="n")
_PAIR = aliased(Participant, name="p")
_ZERO, _ONE = literal_column("0"), literal_column("1")


def _best_number(mode: str, side: str = ""):
    """The SELECT of the best proxy number for :phone in a session with :counterpart.

    Built once per mode with bound parameters (see _preference): executing a ready statement
    skips building the expression and its cache key on every request. `side` suffixes the
    parameters' names (:phone_1), for a statement that chooses for both participants.
    """
    phone = bindparam("phone" + side, type_=Participant.phone.type)
    counterpart = bindparam("counterpart" + side, type_=Participant.counterpart_phone.type)
    # Uses index: uq_participants_active_route (phone, proxy_number) WHERE active
    paired = exists().where(
        _PAIR.phone == phone,
        _PAIR.proxy_number == _NUMBER.phone_number,
        _PAIR.active,
    )
    # Uses index: ix_participants_phone_proxy (phone, proxy_number, ended_at)
    cooling = select(_PAIR.proxy_number).where(
        _PAIR.phone == phone,
        _PAIR.counterpart_phone != counterpart,
        _PAIR.ended_at >= bindparam("cooled_since" + side),
    )
    same_country = _NUMBER.country_code == bindparam("country_code" + side)
    same_area = _NUMBER.area_code.is_not_distinct_from(bindparam("area_code" + side))
    # A number that can do what this mode does not (voice for an sms session) is kept for the
    # sessions that need it: else a busy phone's texting sessions could take every number that
    # also calls, and its next sms_and_voice session be refused though the pool could serve all.
    spare = [getattr(_NUMBER, c) for c in ("sms", "voice") if c not in MODE_CAPABILITIES[mode]]
    query = (
        select(_NUMBER.phone_number)
        .where(_NUMBER.status == literal_column("'active'"))
        # Sessions refuse pool numbers as phones and the pool refuses open sessions' phones,
        # but rows from before those checks (or a race between the two) must still never
        # hand a participant their own number, or show them the other side's real one.
        .where(_NUMBER.phone_number != phone, _NUMBER.phone_number != counterpart)
        .where(~paired)
        .order_by(
            case((same_country, _ZERO), else_=_ONE),
            case((and_(same_country, same_area), _ZERO), else_=_ONE),
            case((_NUMBER.phone_number.in_(cooling), _ONE), else_=_ZERO),
            *(case((capable.is_(True), _ONE), else_=_ZERO) for capable in spare),
            func.random(),
        )
        .limit(_ONE)
    )
    for capability in MODE_CAPABILITIES[mode]:
        query = query.where(getattr(_NUMBER, capability).is_(True))
    return query


_BEST = {mode: _best_number(mode) for mode in MODE_CAPABILITIES}


def _preference(*, phone: str, counterpart: str, now: dt.datetime,
                cooloff_seconds: int) -> dict:
    """The values _best_number's parameters take for this participant."""
    where = locality(phone)
    return {"phone": phone, "counterpart": counterpart,
            "cooled_since": now - dt.timedelta(seconds=cooloff_seconds),
            "country_code": where.country_code, "area_code": where.area_code}


def proxy_query(*, phone: str, counterpart: str, mode: str, now: dt.datetime,
                cooloff_seconds: int):
    """The SELECT of the best proxy number for `phone` in a session with `counterpart`."""
    return _BEST[mode].params(_preference(phone=phone, counterpart=counterpart, now=now,
                                          cooloff_seconds=cooloff_seconds))


def choose_proxy(db: DbSession, *, phone: str, counterpart: str, mode: str, now: dt.datetime,
                 cooloff_seconds: int) -> str | None:
    """The best proxy number for `phone` in a session with `counterpart`, or None."""
    return db.scalar(_BEST[mode], _preference(phone=phone, counterpart=counterpart, now=now,
                                              cooloff_seconds=cooloff_seconds))


_PARTICIPANTS = Participant.__table__


def _take_best(insert, mode: str):
    """INSERT the participant with the best number unless a concurrent session took that pair.

    INSERT ... SELECT: the choice and the insert are one statement (built once, like _BEST).
    """
    given = ("session_id", "role", "counterpart_phone", "created_at")
    chosen = _BEST[mode].add_columns(
        *(bindparam(name, type_=_PARTICIPANTS.c[name].type) for name in given),
        bindparam("phone", type_=_PARTICIPANTS.c.phone.type), true())
    return (insert(_PARTICIPANTS)
            .from_select(["proxy_number", *given, "phone", "active"], chosen)
            .on_conflict_do_nothing(index_elements=["phone", "proxy_number"], index_where=ACTIVE)
            .returning(_PARTICIPANTS.c.id, _PARTICIPANTS.c.proxy_number))


_TAKE_BEST = {(name, mode): _take_best(insert, mode)
              for name, insert in INSERTS.items() for mode in MODE_CAPABILITIES}

# The two participants' first tries in the statement that inserts their session (PostgreSQL:
# INSERTs in WITH). Each inserts nothing unless the one before it inserted its row: the first
# after the session, the second after the first, so their order (the route index's lock
# order, see allocate) is the data's, whatever plan PostgreSQL picks.
FIRST_SIDE, SECOND_SIDE = "_1", "_2"


# What makes a statement that inserted a session without both participants fail (whole=True):
# PostgreSQL's log says `invalid input syntax for type bigint: "<this>"`.
INCOMPLETE = "session without both participants: undone"


def take_both(mode: str, session_cte, *, whole: bool = False):
    """The SELECT of (session id, first participant's id and number, second's) after inserting
    both participants in the session `session_cte` inserted (a CTE returning its id), each
    created at the session's :created_at.

    A participant whose first choice a concurrent session took (or for whom no number is free)
    comes back NULL, as does the second then: allocate() tries them again in order. `whole`:
    the statement fails instead (a DataError naming INCOMPLETE), which undoes all of it, for a
    statement that commits alone. (Short CTE names: psycopg keeps a statement parsed only up to
    4 kB, see _NUMBER.)"""
    given = ("role", "counterpart_phone", "phone")

    def take(side: str, after, session_id):
        best = _best_number(mode, side).subquery()
        chosen = (select(best.c.phone_number, session_id,
                         *(bindparam(name + side, type_=_PARTICIPANTS.c[name].type)
                           for name in given),
                         bindparam("created_at", type_=_PARTICIPANTS.c.created_at.type), true())
                  .select_from(after).join(best, true()))
        return (postgresql_insert(_PARTICIPANTS)
                .from_select(["proxy_number", "session_id", *given, "created_at", "active"],
                             chosen)
                .on_conflict_do_nothing(index_elements=["phone", "proxy_number"],
                                        index_where=ACTIVE)
                .returning(_PARTICIPANTS.c.id, _PARTICIPANTS.c.proxy_number,
                           _PARTICIPANTS.c.session_id)
                .cte("p" + side))

    first = take(FIRST_SIDE, session_cte, session_cte.c.id)
    second = take(SECOND_SIDE, first, first.c.session_id)
    second_id = second.c.id
    if whole:  # a row whose second id is NULL: the text INCOMPLETE read as a number
        second_id = cast(func.coalesce(cast(second_id, Text),
                                       literal_column(f"'{INCOMPLETE}'")), BigInteger)
    return (select(session_cte.c.id, first.c.id, first.c.proxy_number, second_id,
                   second.c.proxy_number)
            .select_from(session_cte.outerjoin(first, true()).outerjoin(second, true())))


# take_both's parameters besides the session's own (both_sides_values gives them).
BOTH_SIDES_GIVEN = tuple(
    name + side for side in (FIRST_SIDE, SECOND_SIDE)
    for name in ("phone", "counterpart", "cooled_since", "country_code", "area_code", "role",
                 "counterpart_phone"))


def both_sides_values(sides, *, now: dt.datetime, cooloff_seconds: int) -> dict:
    """take_both's parameters for (role, phone, counterpart) sides in the order they are taken."""
    values = {}
    for side, (role, phone, counterpart) in zip((FIRST_SIDE, SECOND_SIDE), sides, strict=True):
        preference = _preference(phone=phone, counterpart=counterpart, now=now,
                                 cooloff_seconds=cooloff_seconds)
        values.update({name + side: value for name, value in preference.items()})
        values.update({"role" + side: role, "counterpart_phone" + side: counterpart})
    return values


def _participant(session: Session, taken, *, role: str, phone: str, counterpart: str,
                 now: dt.datetime) -> Participant:
    return Participant(id=taken.id, proxy_number=taken.proxy_number, phone=phone, active=True,
                       ended_at=None, session_id=session.id, role=role,
                       counterpart_phone=counterpart, created_at=now)


def allocate(db: DbSession, session: Session, *, role: str, phone: str, counterpart: str,
             now: dt.datetime, cooloff_seconds: int, taken=None) -> Participant:
    """Insert the participant with a proxy number that keeps the routing rule, or 503.

    One statement chooses and inserts. Nothing back: a concurrent session took that pair first
    (the next statement sees it and chooses again), or no number fits (a SELECT tells which).
    `taken`: the (id, proxy_number) a first try already inserted (take_both), if it did.
    """
    if taken is not None:
        return _participant(session, taken, role=role, phone=phone, counterpart=counterpart,
                            now=now)
    preference = _preference(phone=phone, counterpart=counterpart, now=now,
                             cooloff_seconds=cooloff_seconds)
    take = _TAKE_BEST[db.get_bind().dialect.name, session.mode]
    values = dict(session_id=session.id, role=role, counterpart_phone=counterpart, created_at=now)
    for _ in range(MAX_ATTEMPTS):
        taken = db.execute(take, {**preference, **values}).first()
        if taken is not None:
            return _participant(session, taken, role=role, phone=phone,
                                counterpart=counterpart, now=now)
        if db.scalar(_BEST[session.mode], preference) is None:
            break
    raise PoolExhausted("No proxy number is free for one of the participants; add numbers to "
                        "the pool.")
