"""Sessions: create (idempotent per booking), read, list, extend and close.

A session is open until closed or until expires_at passes; from that instant it is expired in
every answer and routes nothing, whether or not a sweep has caught its columns up.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session as DbSession

from commsvc.clock import isoformat
from commsvc.db.session import is_transactional
from commsvc.errors import Conflict, NotFound, ValidationFailed
from commsvc.paging import Page, decode_cursor, page_of
from commsvc.phones import COSTLY_NUMBER, is_costly
from commsvc.sessions.ending import end_session, expire_overdue_for
from commsvc.sessions.models import Session
from commsvc.sessions.store import NEW_SESSION, OPEN_OR_OVERDUE_SESSIONS, Undone, store

MODES = ("sms", "voice", "sms_and_voice")
SESSION_ID = re.compile(r"ses_[0-9a-f]{1,36}")
# API.md: "any positive number of seconds". Times are kept to the microsecond, so a shorter
# one would end the instant it begins (born expired).
MIN_TTL_SECONDS = 0.000001


def new_session_id() -> str:
    return "ses_" + secrets.token_hex(12)


def ttl_problem(ttl: float, max_ttl: int) -> str | None:
    """Why a session length of `ttl` seconds is refused, or None (the schema asks this too)."""
    if not MIN_TTL_SECONDS <= ttl <= max_ttl:
        return f"must be a positive number of seconds (0.000001 or more) up to {max_ttl}"
    return None


def resolve_expiry(*, now: dt.datetime, max_ttl: int, ttl_seconds: float | None = None,
                   expires_at: dt.datetime | None = None,
                   default_ttl: int | None = None) -> dt.datetime:
    """When a session ends: ttl_seconds from now or an explicit future time, never past the cap."""
    if ttl_seconds is not None and expires_at is not None:
        raise ValidationFailed(errors={"expires_at": ["give ttl_seconds or expires_at, not both"]})
    if expires_at is None:
        ttl = default_ttl if ttl_seconds is None else ttl_seconds
        if ttl is None:
            raise ValidationFailed(errors={"ttl_seconds": ["give ttl_seconds or expires_at"]})
        if why := ttl_problem(ttl, max_ttl):
            raise ValidationFailed(errors={"ttl_seconds": [why]})
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
        raise NotFound.no("session", session_id)
    return session


def _open_for_booking(db: DbSession, booking_id: str, now: dt.datetime) -> Session | None:
    # Uses index: uq_sessions_open_booking (booking_id) WHERE status = 'open'
    return db.scalar(select(Session).where(
        Session.booking_id == booking_id, Session.status == "open", Session.expires_at > now))


def open_or_overdue_query(booking_id: str, phones: list[str], now: dt.datetime):
    """The SELECT of the booking's open session and of the phones' overdue ones (not free yet)."""
    requester, pro = phones
    return OPEN_OR_OVERDUE_SESSIONS.params(booking_id=booking_id, now=now, requester=requester,
                                           pro=pro)


def _same_phones_or_conflict(session: Session, requester_phone: str, pro_phone: str) -> Session:
    """A retry of the create (same two phones) gets the open session; other phones are a 409."""
    if (session.participant("requester").phone == requester_phone
            and session.participant("pro").phone == pro_phone):
        return session
    raise Conflict("This booking already has an open session with other phones; close it first.")


def participant_errors(requester_phone: str | None, pro_phone: str | None) -> dict:
    """Every problem of a session's two numbers (E.164; None: not judged) at once: one that
    costs to text or call, or the pro's the same as the requester's."""
    errors: dict = {role: {"phone": [COSTLY_NUMBER]} for role, phone in
                    (("requester", requester_phone), ("pro", pro_phone))
                    if phone is not None and is_costly(phone)}
    if requester_phone is not None and requester_phone == pro_phone:
        errors["pro"] = {"phone": ["must differ from the requester's"]}
    return errors


def create_session(db: DbSession, *, booking_id: str, requester_phone: str, pro_phone: str,
                   mode: str, expires_at: dt.datetime, record_calls: bool, now: dt.datetime,
                   cooloff_seconds: int) -> tuple[Session, bool] | None:
    """The booking's open session: (new session, True), or (the existing one, False) on a retry.

    A new session costs one statement on PostgreSQL (three on SQLite): the INSERTs of the
    session and of its two participants, which insert nothing while the booking has an open
    session or a phone an overdue one, or when a phone is one of our numbers. Only then are
    those read: the open session is answered (a retry; its phones passed the pool check when
    it was created), the overdue ones are locked and expired (which frees their numbers) and
    the INSERTs run again, and a phone that is ours is a 422.

    In an autocommit unit of work (PostgreSQL) that one statement stores the whole session or
    nothing, and a retry is answered; anything else writes more than one statement: None,
    nothing stored, for the caller to ask again in a transaction.
    """
    errors = participant_errors(requester_phone, pro_phone)
    if mode not in MODES:
        errors["mode"] = [f"must be one of {', '.join(MODES)}"]
    if errors:
        raise ValidationFailed(errors=errors)
    row = dict(id=new_session_id(), booking_id=booking_id, mode=mode, record_calls=record_calls,
               created_at=now, expires_at=expires_at, **NEW_SESSION)
    sides = [("requester", requester_phone, pro_phone), ("pro", pro_phone, requester_phone)]
    try:
        session = store(db, row, sides, now=now, cooloff_seconds=cooloff_seconds, first=True)
    except Undone:  # inserted, so nothing to read first: the transaction allocates again
        return None
    if session is not None:
        return session, True
    found = list(db.scalars(OPEN_OR_OVERDUE_SESSIONS, {
        "booking_id": booking_id, "now": now, "requester": requester_phone, "pro": pro_phone}))
    existing = next((s for s in found if s.booking_id == booking_id
                     and s.effective_status(now) == "open"), None)
    if existing is not None:
        return _same_phones_or_conflict(existing, requester_phone, pro_phone), False
    if not is_transactional(db):
        return None
    if found:  # all overdue: free their numbers (and the booking) now
        expire_overdue_for(db, phones=[requester_phone, pro_phone], booking_id=booking_id,
                           now=now)
    session = store(db, row, sides, now=now, cooloff_seconds=cooloff_seconds)
    if session is not None:
        return session, True
    existing = _open_for_booking(db, booking_id, now)
    if existing is None:
        raise Conflict("Another request for this booking changed it meanwhile; retry.")
    return _same_phones_or_conflict(existing, requester_phone, pro_phone), False


def extend_session(db: DbSession, session_id: str, *, expires_at: dt.datetime,
                   now: dt.datetime, field: str = "expires_at") -> Session:
    """Move an open session's end later (the caller resolved it with resolve_expiry); 409 if
    ended, 422 naming `field` if earlier than its current end: API.md's PATCH extends, and a
    booking app sending `ttl_seconds: 86400` for "one more day" must hear it would cut a week."""
    session = get_session(db, session_id, lock=True)
    if session.effective_status(now) != "open":
        raise Conflict(f"The session is {session.effective_status(now)}; it cannot be extended.")
    if expires_at < session.expires_at:
        raise ValidationFailed(errors={field: [
            f"would end the session at {isoformat(expires_at)}, before its current end "
            f"{isoformat(session.expires_at)}; PATCH only extends (close the session to end it)"]})
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
                  status: str | None = None, limit: int = 50, cursor: str | None = None,
                  hidden=None) -> Page[Session]:
    """One page of sessions, newest first; the cursor continues after the page's last one.
    `hidden`: a condition on the sessions no read may show (past their retention period)."""
    # Uses index: ix_sessions_booking_id (booking_id, created_at) or ix_sessions_created_at_id
    query = select(Session).order_by(Session.created_at.desc(), Session.id.desc()).limit(limit + 1)
    if hidden is not None:
        query = query.where(~hidden)
    if booking_id is not None:
        query = query.where(Session.booking_id == booking_id)
    if status is not None:
        query = query.where(_status_filter(status, now))
    filters = {"booking_id": booking_id, "status": status}
    if cursor is not None:
        created_at, session_id = decode_cursor(cursor, dt.datetime, str, of="sessions",
                                               filters=filters)
        query = query.where(or_(Session.created_at < created_at,
                                and_(Session.created_at == created_at, Session.id < session_id)))
    return page_of(list(db.scalars(query)), limit, lambda s: (s.created_at, s.id),
                   of="sessions", filters=filters)

