"""Giving each participant a proxy number, and freeing numbers when sessions expire.

Invariants:
- The routing rule is the database's: the partial unique index uq_participants_active_route on
  (phone, proxy_number) WHERE active. Allocation only chooses well; the index decides, so two
  concurrent creations can never pair one real number with one proxy number twice. On a unique
  violation the insert is retried inside a SAVEPOINT with a fresh choice.
- A session whose expires_at has passed frees its numbers at that instant: before allocating for
  two phones, their overdue sessions are marked expired in the same transaction.
- Retired numbers are never given. Capabilities must fit the session's mode.
- Preference: the participant's own country, then own area code, then numbers not in cool-off
  (used by this phone with a different counterpart within cooloff_seconds), then a random pick
  among the best tier. Random rather than "fewest open sessions": it needs no aggregate over
  every open session and no hot counter row, and concurrent creations for one phone rarely
  choose the same number, so retries stay rare.
- Participants are inserted in order of phone number so that concurrent creations take the
  index's row locks in one order and cannot deadlock.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from commsvc.errors import PoolExhausted
from commsvc.phones import locality
from commsvc.pool.models import ProxyNumber
from commsvc.sessions.models import Participant, Session

MAX_ATTEMPTS = 10
SWEEP_BATCH_SIZE = 1000

MODE_CAPABILITIES = {
    "sms": ("sms",),
    "voice": ("voice",),
    "sms_and_voice": ("sms", "voice"),
}


def _overdue(now: dt.datetime):
    return and_(Session.status == "open", Session.expires_at <= now)


def _end_sessions(db: DbSession, session_ids: list[str], *, status: str, now: dt.datetime,
                  closed_reason: str | None = None) -> None:
    """Mark sessions ended and their participants inactive (frees their numbers)."""
    if not session_ids:
        return
    ended = now if status == "closed" else Session.expires_at
    db.execute(
        update(Session)
        .where(Session.id.in_(session_ids), Session.status == "open")
        .values(status=status, closed_reason=closed_reason, closed_at=ended)
        .execution_options(synchronize_session=False)
    )
    # Expired participants ended when their session expired: cool-off counts from then.
    ended_at = (now if status == "closed" else
                select(Session.expires_at).where(Session.id == Participant.session_id)
                .scalar_subquery())
    db.execute(
        update(Participant)
        .where(Participant.session_id.in_(session_ids), Participant.active.is_(True))
        .values(active=False, ended_at=ended_at)
        .execution_options(synchronize_session=False)
    )
    ended_ids = set(session_ids)
    for obj in list(db.identity_map.values()):
        if (isinstance(obj, Session) and obj.id in ended_ids) or (
                isinstance(obj, Participant) and obj.session_id in ended_ids):
            db.expire(obj)


def end_session(db: DbSession, session: Session, *, now: dt.datetime) -> None:
    """Close one open session now (closed_reason `closed`) and free its numbers."""
    _end_sessions(db, [session.id], status="closed", closed_reason="closed", now=now)


def expire_overdue_for(db: DbSession, *, phones: list[str], booking_id: str,
                       now: dt.datetime) -> int:
    """Expire the overdue open sessions of these phones and of this booking; how many."""
    # Uses index: uq_participants_active_route (phone, ...) WHERE active; uq_sessions_open_booking
    of_phones = select(Participant.session_id).where(
        Participant.phone.in_(phones), Participant.active.is_(True))
    ids = list(db.scalars(
        select(Session.id)
        .where(_overdue(now))
        .where((Session.booking_id == booking_id) | Session.id.in_(of_phones))
        .order_by(Session.id)
        .with_for_update()
    ))
    _end_sessions(db, ids, status="expired", now=now)
    return len(ids)


def sweep_expired(db: DbSession, now: dt.datetime, batch_size: int = SWEEP_BATCH_SIZE) -> int:
    """Mark up to batch_size overdue sessions expired (the caller commits); how many.

    Routing and allocation already treat them as expired; this only catches the columns up.
    Rows another transaction holds are skipped: that transaction is expiring or closing them.
    """
    # Uses index: ix_sessions_status_expires_at (status, expires_at)
    ids = list(db.scalars(
        select(Session.id).where(_overdue(now)).order_by(Session.expires_at, Session.id)
        .limit(batch_size).with_for_update(skip_locked=True)
    ))
    _end_sessions(db, ids, status="expired", now=now)
    return len(ids)


def proxy_query(*, phone: str, counterpart: str, mode: str, now: dt.datetime,
                cooloff_seconds: int, exclude: frozenset[str] = frozenset()):
    """The SELECT of the best proxy number for `phone` in a session with `counterpart`."""
    where = locality(phone)
    # Uses index: uq_participants_active_route (phone, proxy_number) WHERE active
    paired = exists().where(
        Participant.phone == phone,
        Participant.proxy_number == ProxyNumber.phone_number,
        Participant.active.is_(True),
    )
    # Uses index: ix_participants_phone_proxy (phone, proxy_number, ended_at)
    cooling = select(Participant.proxy_number).where(
        Participant.phone == phone,
        Participant.counterpart_phone != counterpart,
        Participant.ended_at >= now - dt.timedelta(seconds=cooloff_seconds),
    )
    same_country = ProxyNumber.country_code == where.country_code
    query = (
        select(ProxyNumber.phone_number)
        .where(ProxyNumber.status == "active")
        .where(~paired)
        .order_by(
            case((same_country, 0), else_=1),
            case((and_(same_country, ProxyNumber.area_code == where.area_code), 0), else_=1),
            case((ProxyNumber.phone_number.in_(cooling), 1), else_=0),
            func.random(),
        )
        .limit(1)
    )
    for capability in MODE_CAPABILITIES[mode]:
        query = query.where(getattr(ProxyNumber, capability).is_(True))
    if exclude:
        query = query.where(ProxyNumber.phone_number.not_in(exclude))
    return query


def choose_proxy(db: DbSession, *, phone: str, counterpart: str, mode: str, now: dt.datetime,
                 cooloff_seconds: int, exclude: frozenset[str] = frozenset()) -> str | None:
    """The best proxy number for `phone` in a session with `counterpart`, or None."""
    return db.scalar(proxy_query(phone=phone, counterpart=counterpart, mode=mode, now=now,
                                 cooloff_seconds=cooloff_seconds, exclude=exclude))


def allocate(db: DbSession, session: Session, *, role: str, phone: str, counterpart: str,
             now: dt.datetime, cooloff_seconds: int) -> Participant:
    """Insert the participant with a proxy number that keeps the routing rule, or 503."""
    tried: set[str] = set()
    for _ in range(MAX_ATTEMPTS):
        proxy = choose_proxy(db, phone=phone, counterpart=counterpart, mode=session.mode,
                             now=now, cooloff_seconds=cooloff_seconds, exclude=frozenset(tried))
        if proxy is None:
            break
        participant = Participant(
            session_id=session.id, role=role, phone=phone, proxy_number=proxy,
            counterpart_phone=counterpart, active=True, created_at=now,
        )
        try:
            with db.begin_nested():
                db.add(participant)
        except IntegrityError:
            # A concurrent session took this pair first: choose again.
            tried.add(proxy)
            continue
        return participant
    raise PoolExhausted("No proxy number is free for one of the participants; add numbers to "
                        "the pool.")
