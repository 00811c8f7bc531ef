"""Sessions: create (idempotent per booking), read, list, extend and close.

A session is open until closed or until expires_at passes; from that instant it is expired in
every answer and routes nothing, whether or not a sweep has caught its columns up.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from commsvc.errors import Conflict, NotFound, PoolExhausted, ValidationFailed
from commsvc.paging import Page, decode_cursor, page_of
from commsvc.sessions.allocation import allocate, end_session, expire_overdue_for
from commsvc.sessions.models import Session

MODES = ("sms", "voice", "sms_and_voice")
SESSION_ID = re.compile(r"ses_[0-9a-f]{1,36}")


def new_session_id() -> str:
    return "ses_" + secrets.token_hex(12)


def resolve_expiry(*, now: dt.datetime, max_ttl: int, ttl_seconds: int | None = None,
                   expires_at: dt.datetime | None = None,
                   default_ttl: int | None = None) -> dt.datetime:
    """When a session ends: ttl_seconds from now or an explicit future time, never past the cap."""
    if ttl_seconds is not None and expires_at is not None:
        raise ValidationFailed(errors={"expires_at": ["give ttl_seconds or expires_at, not both"]})
    if expires_at is None:
        ttl = default_ttl if ttl_seconds is None else ttl_seconds
        if ttl is None:
            raise ValidationFailed(errors={"ttl_seconds": ["give ttl_seconds or expires_at"]})
        if ttl <= 0 or ttl > max_ttl:
            raise ValidationFailed(errors={"ttl_seconds": [f"must be 1 to {max_ttl} seconds"]})
        return now + dt.timedelta(seconds=ttl)
    if expires_at <= now:
        raise ValidationFailed(errors={"expires_at": ["must be in the future"]})
    if expires_at > now + dt.timedelta(seconds=max_ttl):
        raise ValidationFailed(errors={"expires_at": [f"must be within {max_ttl} seconds"]})
    return expires_at


def get_session(db: DbSession, session_id: str, *, lock: bool = False) -> Session:
    """The session, or 404; `lock` holds its row until commit (PostgreSQL) while it changes."""
    session = (db.get(Session, session_id, with_for_update=lock)
               if SESSION_ID.fullmatch(session_id) else None)
    if session is None:
        raise NotFound(f"no session {session_id}")
    return session


def _open_for_booking(db: DbSession, booking_id: str, now: dt.datetime) -> Session | None:
    # Uses index: uq_sessions_open_booking (booking_id) WHERE status = 'open'
    return db.scalar(select(Session).where(
        Session.booking_id == booking_id, Session.status == "open", Session.expires_at > now))


def _same_phones_or_conflict(session: Session, requester_phone: str, pro_phone: str) -> Session:
    """A retry of the create (same two phones) gets the open session; other phones are a 409."""
    if (session.participant("requester").phone == requester_phone
            and session.participant("pro").phone == pro_phone):
        return session
    raise Conflict("This booking already has an open session with other phones; close it first.")


def _store(db: DbSession, session: Session, sides, *, now: dt.datetime,
           cooloff_seconds: int) -> bool:
    """Insert the session and both participants, all or nothing; False if the booking has one."""
    try:
        with db.begin_nested():
            db.add(session)
    except IntegrityError:
        # uq_sessions_open_booking: a concurrent create for this booking committed first.
        return False
    try:
        with db.begin_nested():
            # In phone order, so concurrent creations take the route index's locks in one order.
            for role, phone, counterpart in sorted(sides, key=lambda side: side[1]):
                allocate(db, session, role=role, phone=phone, counterpart=counterpart, now=now,
                         cooloff_seconds=cooloff_seconds)
    except PoolExhausted:
        db.delete(session)
        db.flush()
        raise
    db.expire(session, ["participants"])
    return True


def create_session(db: DbSession, *, booking_id: str, requester_phone: str, pro_phone: str,
                   mode: str, expires_at: dt.datetime, record_calls: bool, now: dt.datetime,
                   cooloff_seconds: int) -> tuple[Session, bool]:
    """The booking's open session: (new session, True), or (the existing one, False) on a retry."""
    if requester_phone == pro_phone:
        raise ValidationFailed(errors={"pro": {"phone": ["must differ from the requester's"]}})
    if mode not in MODES:
        raise ValidationFailed(errors={"mode": [f"must be one of {', '.join(MODES)}"]})
    expire_overdue_for(db, phones=[requester_phone, pro_phone], booking_id=booking_id, now=now)
    existing = _open_for_booking(db, booking_id, now)
    if existing is not None:
        return _same_phones_or_conflict(existing, requester_phone, pro_phone), False
    session = Session(id=new_session_id(), booking_id=booking_id, status="open", mode=mode,
                      record_calls=record_calls, created_at=now, expires_at=expires_at)
    sides = [("requester", requester_phone, pro_phone), ("pro", pro_phone, requester_phone)]
    if _store(db, session, sides, now=now, cooloff_seconds=cooloff_seconds):
        return session, True
    existing = _open_for_booking(db, booking_id, now)
    if existing is None:
        raise Conflict("Another request for this booking changed it meanwhile; retry.")
    return _same_phones_or_conflict(existing, requester_phone, pro_phone), False


def extend_session(db: DbSession, session_id: str, *, expires_at: dt.datetime,
                   now: dt.datetime) -> Session:
    """Move an open session's end (the caller resolved it with resolve_expiry); 409 if ended."""
    session = get_session(db, session_id, lock=True)
    if session.effective_status(now) != "open":
        raise Conflict(f"The session is {session.effective_status(now)}; it cannot be extended.")
    session.expires_at = expires_at
    db.flush()
    return session


def close_session(db: DbSession, session_id: str, *, now: dt.datetime) -> Session:
    """Close an open session and free its numbers; an ended session is returned unchanged."""
    session = get_session(db, session_id)
    if session.effective_status(now) == "open":
        end_session(db, session, now=now)
        db.refresh(session)
    return session


def _status_filter(status: str, now: dt.datetime):
    """The effective status in SQL: an open session past expires_at is expired."""
    if status == "open":
        return and_(Session.status == "open", Session.expires_at > now)
    if status == "expired":
        return or_(Session.status == "expired",
                   and_(Session.status == "open", Session.expires_at <= now))
    return Session.status == status


def list_sessions(db: DbSession, *, now: dt.datetime, booking_id: str | None = None,
                  status: str | None = None, limit: int = 50,
                  cursor: str | None = None) -> Page[Session]:
    """One page of sessions, newest first; the cursor continues after the page's last one."""
    # Uses index: ix_sessions_booking_id (booking_id, created_at) or ix_sessions_created_at_id
    query = select(Session).order_by(Session.created_at.desc(), Session.id.desc()).limit(limit + 1)
    if booking_id is not None:
        query = query.where(Session.booking_id == booking_id)
    if status is not None:
        query = query.where(_status_filter(status, now))
    if cursor is not None:
        created_at, session_id = decode_cursor(cursor, dt.datetime, str)
        query = query.where(or_(Session.created_at < created_at,
                                and_(Session.created_at == created_at, Session.id < session_id)))
    return page_of(list(db.scalars(query)), limit, lambda s: (s.created_at, s.id))

