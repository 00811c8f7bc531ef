"""Concurrent creations on PostgreSQL never cross sessions (real commits, many threads)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from commsvc.sessions.models import Participant, Session
from commsvc.sessions.routing import find_route
from tests.conftest import pool_and_booking_key

pytestmark = pytest.mark.pg_only

SHARED = "+14155550101"  # one busy real number in every session


def _setup(app, clock, numbers: int) -> dict[str, str]:
    return pool_and_booking_key(app, clock, numbers, first=14155559000)


def _post_all(app, headers, bodies) -> list[tuple[int, dict]]:
    """POST every body at once from its own thread; (status, json) in order."""
    start = threading.Barrier(len(bodies))

    def post(body):
        client = app.test_client()
        start.wait()
        response = client.post("/v1/sessions", json=body, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def _body(n: int) -> dict:
    other = f"+1415555{1000 + n}"
    # Half the sessions have the shared number as requester, half as pro: the lock order of
    # the route index must still never deadlock.
    requester, pro = (SHARED, other) if n % 2 == 0 else (other, SHARED)
    return {"booking_id": f"bk_{n}", "requester": {"phone": requester}, "pro": {"phone": pro}}


def test_concurrent_sessions_sharing_a_phone_never_share_a_proxy_for_it(committed_app, clock):
    headers = _setup(committed_app, clock, numbers=40)
    results = _post_all(committed_app, headers, [_body(n) for n in range(30)])
    assert [status for status, _ in results] == [201] * 30, results

    with committed_app.extensions["db"].sessionmaker() as db:
        shared_proxies = db.scalars(select(Participant.proxy_number).where(
            Participant.phone == SHARED, Participant.active.is_(True))).all()
        assert len(shared_proxies) == len(set(shared_proxies)) == 30
        for _, body in results:
            for me, other in (("requester", "pro"), ("pro", "requester")):
                route = find_route(db, body[me]["phone"], body[me]["proxy_number"], clock())
                assert route is not None and route.session_id == body["id"]
                assert route.other_phone == body[other]["phone"]
                assert route.other_proxy == body[other]["proxy_number"]


def test_concurrent_creations_beyond_the_pool_store_only_whole_sessions(committed_app, clock):
    headers = _setup(committed_app, clock, numbers=5)
    results = _post_all(committed_app, headers, [_body(n) for n in range(15)])
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 5 + [503] * 10
    assert all(body["type"] == "pool-exhausted" for status, body in results if status == 503)
    with committed_app.extensions["db"].sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Session)) == 5
        assert db.scalar(select(func.count()).select_from(Participant)) == 10


def test_concurrent_identical_creates_for_one_booking_give_one_session(committed_app, clock):
    headers = _setup(committed_app, clock, numbers=10)
    body = {"booking_id": "bk_same", "requester": {"phone": SHARED},
            "pro": {"phone": "+14155550202"}}
    results = _post_all(committed_app, headers, [body] * 20)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 19 + [201]
    assert len({json["id"] for _, json in results}) == 1
    with committed_app.extensions["db"].sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Session)) == 1
        assert db.scalar(select(func.count()).select_from(Participant)) == 2


OTHER = "+14155550202"


def _same_pair(count: int) -> list[dict]:
    """Bookings of SHARED and OTHER, their roles swapped from one booking to the next."""
    return [{"booking_id": f"bk_pair_{n}", "requester": {"phone": (SHARED, OTHER)[n % 2]},
             "pro": {"phone": (OTHER, SHARED)[n % 2]}} for n in range(count)]


def test_concurrent_creations_for_the_same_two_phones_never_cross(committed_app, clock):
    # Every creation wants a number for both phones: conflicts on both sides, each retried
    # before the next phone's insert.
    headers = _setup(committed_app, clock, numbers=30)
    results = _post_all(committed_app, headers, _same_pair(20))
    assert [status for status, _ in results] == [201] * 20, results

    with committed_app.extensions["db"].sessionmaker() as db:
        for phone in (SHARED, OTHER):
            proxies = db.scalars(select(Participant.proxy_number).where(
                Participant.phone == phone, Participant.active.is_(True))).all()
            assert len(proxies) == len(set(proxies)) == 20


def test_opposite_roles_racing_for_one_number_never_deadlock(committed_app, clock):
    # Inserted in role order, A-then-B against B-then-A on the only number would deadlock;
    # in phone order the second waits for the first, then finds the pool exhausted.
    headers = _setup(committed_app, clock, numbers=1)
    results = _post_all(committed_app, headers, _same_pair(16))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [503] * 15, results
    assert all(body["type"] == "pool-exhausted" for status, body in results if status == 503)
