"""Ending sessions: closing one, expiring the overdue, and the sweep; each frees the numbers.

A session ends with its participants: they turn inactive in the same transaction, which frees
their (phone, proxy_number) routes in uq_participants_active_route for allocation. An expired
participant ended when its session expired (expires_at), so cool-off counts from then.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session as DbSession

from commsvc.sessions.models import Participant, Session

SWEEP_BATCH_SIZE = 1000


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
        .where(Participant.session_id.in_(session_ids), Participant.active)
        .values(active=False, ended_at=ended_at)
        .execution_options(synchronize_session=False)
    )
    ended_ids = set(session_ids)
    for obj in list(db.identity_map.values()):
        if (isinstance(obj, Session) and obj.id in ended_ids) or (
                isinstance(obj, Participant) and obj.session_id in ended_ids):
            db.expire(obj)


def sessions_of(phones: list[str]):
    """The ids of the sessions in which one of these phones is an active participant."""
    # Uses index: uq_participants_active_route (phone, ...) WHERE active
    return select(Participant.session_id).where(
        Participant.phone.in_(phones), Participant.active)


def expire_sessions(db: DbSession, session_ids: list[str], *, now: dt.datetime) -> None:
    """Mark these open sessions past their expires_at expired, as the sweep does (ended then)."""
    _end_sessions(db, session_ids, status="expired", now=now)


def end_session(db: DbSession, session: Session, *, now: dt.datetime,
                closed_reason: str = "closed") -> None:
    """Close one open session now and free its numbers; closed_reason `closed` (POST .../close)
    or `erased` (a participant's number was erased)."""
    _end_sessions(db, [session.id], status="closed", closed_reason=closed_reason, now=now)


def expire_overdue_for(db: DbSession, *, phones: list[str], booking_id: str,
                       now: dt.datetime) -> int:
    """Expire the overdue open sessions of these phones and of this booking; how many."""
    # Uses index: uq_participants_active_route (phone, ...) WHERE active; uq_sessions_open_booking
    ids = list(db.scalars(
        select(Session.id)
        .where(_overdue(now))
        .where((Session.booking_id == booking_id) | Session.id.in_(sessions_of(phones)))
        .order_by(Session.id)
        .with_for_update()
    ))
    expire_sessions(db, ids, now=now)
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
    expire_sessions(db, ids, now=now)
    return len(ids)
