"""Crossed sessions under fire (PostgreSQL, real commits): 50 concurrent creations sharing one
phone while closes race them; a watcher checks the routing rule the whole time, and that no
session is ever seen half-stored (each creation's one statement in autocommit is whole or
undone, its redo in a transaction commits whole)."""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from commsvc.sessions.models import Participant, Session
from commsvc.sessions.routing import find_route
from tests.conftest import pool_and_booking_key

pytestmark = pytest.mark.pg_only

SHARED = "+14155550101"
CREATIONS = 50
POOL = 30  # fewer numbers than creations: only closes racing them free enough numbers


def _crossed_routes(db) -> list:
    """(phone, proxy) pairs held by more than one active participant: must always be empty."""
    return db.execute(
        select(Participant.phone, Participant.proxy_number, func.count())
        .where(Participant.active.is_(True))
        .group_by(Participant.phone, Participant.proxy_number)
        .having(func.count() > 1)
    ).all()


# Sessions without both participants, as one statement sees them: must always be none.
_HALF_STORED = text("SELECT count(*) FROM sessions s WHERE (SELECT count(*) FROM"
                    " session_participants p WHERE p.session_id = s.id) <> 2")


def test_the_routing_rule_holds_at_every_moment_while_creations_and_closes_race(
    committed_app, clock
):
    app = committed_app
    headers = pool_and_booking_key(app, clock, POOL, first=16465557000)
    created: list[str] = []
    created_lock = threading.Lock()
    done = threading.Event()
    violations: list = []
    half_stored: list[int] = []
    checks = 0

    def watch():
        nonlocal checks
        with app.extensions["db"].sessionmaker() as db:
            while not done.is_set():
                crossed = _crossed_routes(db)
                db.rollback()  # a fresh snapshot each time
                half = db.scalar(_HALF_STORED)
                db.rollback()
                checks += 1
                if crossed:
                    violations.append(crossed)
                if half:
                    half_stored.append(half)

    start = threading.Barrier(CREATIONS)

    def create_then_maybe_close(n: int) -> tuple[int, int | None]:
        client = app.test_client()
        body = {"booking_id": f"bk_race_{n}", "requester": {"phone": SHARED},
                "pro": {"phone": f"+1415555{2000 + n}"}}
        if n % 2:
            body = {"booking_id": body["booking_id"], "requester": body["pro"],
                    "pro": {"phone": SHARED}}
        start.wait(timeout=30)
        response = client.post("/v1/sessions", json=body, headers=headers)
        closed = None
        if response.status_code == 201:
            with created_lock:
                created.append(response.get_json()["id"])
                victim = random.Random(n).choice(created) if n % 3 == 0 else None
            if victim:
                closed = client.post(f"/v1/sessions/{victim}/close", headers=headers).status_code
        return response.status_code, closed

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=CREATIONS) as pool:
            results = list(pool.map(create_then_maybe_close, range(CREATIONS)))
    finally:
        done.set()
        watcher.join(timeout=30)

    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 503}, statuses  # 503: pool exhausted, nothing stored
    assert statuses.count(201) >= POOL
    assert all(closed in (None, 200) for _, closed in results)
    assert checks > 0 and violations == [] and half_stored == []

    now = clock()
    with app.extensions["db"].sessionmaker() as db:
        assert _crossed_routes(db) == []
        open_sessions = db.scalars(select(Session).where(Session.status == "open")).all()
        assert open_sessions
        for session in open_sessions:
            for me in session.participants:
                other = next(p for p in session.participants if p is not me)
                route = find_route(db, me.phone, me.proxy_number, now)
                assert route is not None and route.session_id == session.id
                assert route.other_phone == other.phone
        # Nothing half-stored: every session has exactly its two participants.
        assert all(len(s.participants) == 2
                   for s in db.scalars(select(Session)).all())
