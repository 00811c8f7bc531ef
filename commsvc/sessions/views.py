"""/v1/sessions: parse -> one service call -> commit -> render (real numbers per role)."""
from __future__ import annotations

from flask import g

from commsvc.api_docs import LOCATION, Blueprint, location
from commsvc.auth.guard import require
from commsvc.auth.visibility import audit_reasoned_read, present_phone, present_pool_number
from commsvc.clock import isoformat
from commsvc.db.session import close_db, get_db
from commsvc.errors import NotFound
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.records.retention_passes import past_retention, row_past_retention
from commsvc.sessions import service
from commsvc.sessions.models import Session
from commsvc.sessions.schemas import (
    CreateSession,
    ExtendSession,
    ListSessionsQuery,
    SessionOut,
    SessionPage,
    problems,
)

blp = Blueprint("sessions_views", __name__, description="Masked sessions of bookings")


def render(session: Session, now) -> dict:
    """The session as the caller may see it: real numbers and proxy numbers each by their rule."""
    principal = g.principal

    def side(role: str) -> dict:
        participant = session.participant(role)
        return {"phone": present_phone(principal, participant.phone),
                "proxy_number": present_pool_number(principal, participant.proxy_number)}

    return {
        "id": session.id,
        "booking_id": session.booking_id,
        "status": session.effective_status(now),
        "closed_reason": session.closed_reason,
        "mode": session.mode,
        "record_calls": session.record_calls,
        "created_at": isoformat(session.created_at),
        "expires_at": isoformat(session.expires_at),
        "requester": side("requester"),
        "pro": side("pro"),
    }


def _audited(db, sessions: list[Session], query: dict, now) -> None:
    """A reasoned read (privacy/admin with X-Access-Reason) is audited with the read."""
    audit_reasoned_read(db, g.principal, resource="sessions", query=query, count=len(sessions),
                        ids=[session.id for session in sessions], now=now)


@blp.route("/v1/sessions", methods=["POST"])
@require("sessions:write", one_statement=True)
@blp.arguments(CreateSession)
@blp.response(201, SessionOut, description="A new session", headers=LOCATION)
@blp.alt_response(200, schema=SessionOut, success=True, headers=LOCATION,
                  description="The booking's open session (a retry with the same phones)")
@problems(blp, 400, 401, 403, 409, 422, 503)
def create_session(body):
    """Open the masked session of a booking (safe to retry).

    200: the booking's open session, for a retry with the same two phones in the same roles
    (the retry's mode, ttl_seconds and record_calls change nothing). 409: the booking has an
    open session with other phones (close it first). 422: each field that fails its check,
    named in `errors`: a phone that is not a dialable number, requester and pro with the same
    number, a pool number as a phone, both ttl_seconds and expires_at, an expires_at not in
    the future, an end past MAX_SESSION_TTL_SECONDS from now, an unknown field. 503 with type
    `pool-exhausted`: no proxy number can be given without breaking the routing rule; nothing
    is stored.
    """
    db, now, config = get_db(), _now(), _config()
    expires_at = service.resolve_expiry(
        now=now, max_ttl=config.max_session_ttl_seconds, ttl_seconds=body.get("ttl_seconds"),
        expires_at=body.get("expires_at"), default_ttl=config.session_ttl_seconds)
    arguments = dict(
        booking_id=body["booking_id"], requester_phone=body["requester"]["phone"],
        pro_phone=body["pro"]["phone"], mode=body["mode"], expires_at=expires_at,
        record_calls=body["record_calls"], now=now, cooloff_seconds=config.cooloff_seconds)
    answer = service.create_session(db, **arguments)
    if answer is None:  # not done in one statement (autocommit): again in a transaction
        close_db()
        db = get_db()
        answer = service.create_session(db, **arguments)
    session, created = answer
    _audited(db, [session], {"session_id": session.id}, now)
    db.commit()
    return (render(session, now), 201 if created else 200,
            location("sessions_views.get_session", session_id=session.id))


# Sessions past RETENTION_CLOSED_SESSIONS_DAYS (and not held) are gone for every read, as in
# the logs and the export, whether or not the retention job has run.
def _shown(db, session_id: str, now) -> Session:
    """The session, or 404 (unknown, or past its retention period)."""
    session = service.get_session(db, session_id)
    if row_past_retention(db, ("sessions",), session.id, retention=_config().retention,
                          now=now)[0]:
        raise NotFound.no("session", session.id)
    return session


@blp.route("/v1/sessions", methods=["GET"])
@require("sessions:read", reads_only=True)
@blp.arguments(ListSessionsQuery, location="query")
@blp.response(200, SessionPage)
@problems(blp, 401, 403, 422)
def list_sessions(query):
    """Sessions, newest first, by booking and effective status."""
    db, now = get_db(), _now()
    page = service.list_sessions(
        db, now=now, booking_id=query.get("booking_id"), status=query.get("status"),
        limit=query["limit"], cursor=query.get("cursor"),
        hidden=past_retention("sessions", _config().retention, now))
    filters = {k: query[k] for k in ("booking_id", "status") if k in query}
    _audited(db, page.rows, filters, now)
    db.commit()
    return {"data": [render(s, now) for s in page.rows], "next_cursor": page.next_cursor}


@blp.route("/v1/sessions/<session_id>", methods=["GET"])
@require("sessions:read", reads_only=True)
@blp.response(200, SessionOut)
@problems(blp, 401, 403, 404)
def get_session(session_id: str):
    """One session."""
    db, now = get_db(), _now()
    session = _shown(db, session_id, now)
    _audited(db, [session], {"session_id": session.id}, now)
    db.commit()
    return render(session, now)


@blp.route("/v1/sessions/<session_id>", methods=["PATCH"])
@require("sessions:write")
@blp.arguments(ExtendSession)
@blp.response(200, SessionOut)
@problems(blp, 400, 401, 403, 404, 409, 422)
def extend_session(body, session_id: str):
    """Move an open session's end later: `ttl_seconds` from now or a future `expires_at`.

    409: the session is closed or expired, whether or not a sweep has marked it (an expired
    session is not reopened: open a new one for the booking). 422: both fields or neither, a
    time before the session's current end (PATCH only extends; close the session to end it
    sooner), or past MAX_SESSION_TTL_SECONDS from now.
    """
    db, now = get_db(), _now()
    _shown(db, session_id, now)
    expires_at = service.resolve_expiry(
        now=now, max_ttl=_config().max_session_ttl_seconds, ttl_seconds=body.get("ttl_seconds"),
        expires_at=body.get("expires_at"))
    session = service.extend_session(
        db, session_id, expires_at=expires_at, now=now,
        field="ttl_seconds" if "ttl_seconds" in body else "expires_at")
    _audited(db, [session], {"session_id": session.id}, now)
    db.commit()
    return render(session, now)


@blp.route("/v1/sessions/<session_id>/close", methods=["POST"])
@require("sessions:write")
@blp.response(200, SessionOut)
@problems(blp, 401, 403, 404)
def close_session(session_id: str):
    """Close a session now and free its numbers (idempotent).

    A closed session is answered as it is, and so is an expired one (`status: expired`,
    `closed_reason` null).
    """
    db, now = get_db(), _now()
    _shown(db, session_id, now)  # before closing: a session past retention is not touched
    session = service.close_session(db, session_id, now=now)
    _audited(db, [session], {"session_id": session.id}, now)
    db.commit()
    return render(session, now)
