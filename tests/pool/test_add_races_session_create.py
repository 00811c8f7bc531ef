"""A number added to the pool while a session with that phone is being created, or the other way
round (PostgreSQL, real commits): whichever commits first wins, the other is refused. Without
a lock both checks read before the other's commit and both pass, and the allocator could hand
a customer's own phone out as a proxy number."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from commsvc.auth import service as key_service
from commsvc.config.settings import Retention
from commsvc.errors import Conflict, ServiceUnavailable, ValidationFailed
from commsvc.pool import service as pool_service
from commsvc.pool.models import ProxyNumber
from commsvc.sessions import service as session_service
from commsvc.sessions.models import Session

pytestmark = pytest.mark.pg_only

POOL = ("+14155550101", "+14155550102")
PHONE = "+14155559871"  # the customer's own phone, which someone tries to add to the pool
PRO = "+14155559872"
# Long enough for the other side to reach its lock; if it has not, it runs after the commit
# and the outcome is the same.
HEAD_START_SECONDS = 0.3


def _add(db, phone, clock):
    return pool_service.add_number(db, phone_number=phone, capabilities=("sms", "voice"),
                                   actor="test", now=clock(), retention=Retention())


def _create(db, clock, booking_id="bk_race"):
    return session_service.create_session(
        db, booking_id=booking_id, requester_phone=PHONE, pro_phone=PRO, mode="sms_and_voice",
        expires_at=clock() + dt.timedelta(days=1), record_calls=False, now=clock(),
        cooloff_seconds=0)


def _while_uncommitted(holder, work) -> dict:
    """Run work in a thread while `holder` keeps its change uncommitted, then commit it. The
    work's outcome: done, or the error it was refused with, and its status."""
    outcome: dict = {}

    def run():
        try:
            work()
            outcome["result"] = "done"
        except (Conflict, ValidationFailed) as exc:
            outcome["result"] = type(exc).__name__
            outcome["status"] = exc.status

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HEAD_START_SECONDS)
    holder.commit()
    holder.close()
    thread.join(30)
    return outcome


@pytest.fixture
def sessionmaker(committed_app, clock):
    make = committed_app.extensions["db"].sessionmaker
    with make() as db:
        for number in POOL:
            _add(db, number, clock)
        db.commit()
    return make


def test_a_number_added_while_a_session_with_that_phone_is_created_is_409(sessionmaker, clock):
    creating = sessionmaker()
    _create(creating, clock)  # not committed yet

    def add():
        with sessionmaker() as db:
            _add(db, PHONE, clock)
            db.commit()

    assert _while_uncommitted(creating, add) == {"result": "Conflict", "status": 409}
    with sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(ProxyNumber)
                         .where(ProxyNumber.phone_number == PHONE)) == 0


def test_a_session_created_while_its_phone_is_added_to_the_pool_is_422(sessionmaker, clock):
    adding = sessionmaker()
    _add(adding, PHONE, clock)  # not committed yet

    def create():
        with sessionmaker() as db:
            _create(db, clock)
            db.commit()

    assert _while_uncommitted(adding, create) == {"result": "ValidationFailed", "status": 422}
    with sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Session)) == 0


def test_a_pool_add_waits_at_most_a_second_for_session_writes_then_503(sessionmaker, clock):
    """Queued for its lock, a pool add holds every later session write back: behind a long
    writer (an erasure) it gives up instead, and nothing is added."""
    writing = sessionmaker()
    _create(writing, clock)  # in flight, not committed
    try:
        with sessionmaker() as db, pytest.raises(ServiceUnavailable):
            _add(db, "+14155550199", clock)
    finally:
        writing.rollback()
        writing.close()
    with sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(ProxyNumber)) == len(POOL)


def test_the_cli_says_so_in_one_line_when_session_writes_hold_the_lock(
        committed_app, sessionmaker, clock):
    writing = sessionmaker()
    _create(writing, clock)  # in flight, not committed
    try:
        result = committed_app.test_cli_runner().invoke(args=["numbers", "add", "+14155550199"])
    finally:
        writing.rollback()
        writing.close()

    assert result.exit_code == 1
    assert result.output.startswith("Error: nothing added: Sessions are being written")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_numbers_add_commits_each_number_as_it_adds_it(committed_app, sessionmaker, clock):
    """Found by an audit: `commsvc numbers add` (which docs/sessions.md has operators run when
    the pool's headroom runs low, on a live service) added every number in one transaction,
    so its hold on session writes lasted the whole batch: adding 800 numbers on PostgreSQL
    held every session creation back up to 2.3 s (9 ms otherwise). Each number now ends its
    transaction as it is added: while the command waits on its second number (held here by
    an uncommitted row of the same number), the first is in the pool already."""
    first, second = "+14155550191", "+14155550192"
    holder = sessionmaker()
    holder.add(ProxyNumber(phone_number=second, country_code=1, area_code="415", sms=True,
                           voice=True, mms=False, status="active", created_at=clock()))
    holder.flush()  # not committed: the command's insert of `second` waits for it
    seen: list[bool] = []

    def watch_then_release():
        try:
            for _ in range(200):  # up to ~10 s: before the fix `first` shows only at the end
                with sessionmaker() as db:
                    if db.scalar(select(func.count()).select_from(ProxyNumber)
                                 .where(ProxyNumber.phone_number == first)):
                        seen.append(True)
                        return
                threading.Event().wait(0.05)
        finally:
            holder.rollback()
            holder.close()

    watcher = threading.Thread(target=watch_then_release, daemon=True)
    watcher.start()
    result = committed_app.test_cli_runner().invoke(args=["numbers", "add", first, second])
    watcher.join(30)

    assert seen == [True]  # committed while the command was still at work on `second`
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"added {first} (sms,voice)",
                                          f"added {second} (sms,voice)"]


def test_a_pool_add_refused_for_the_lock_tells_the_client_when_to_ask_again(
        committed_app, sessionmaker, clock):
    """Found by an audit: the 503 a POST /v1/numbers gets after waiting out its second for
    session writes said "try again shortly" with no Retry-After, where the database-down 503
    sends one."""
    with committed_app.extensions["db"].sessionmaker() as db:
        _, raw = key_service.create_key(db, name="admin", role="admin", now=clock())
        db.commit()
    writing = sessionmaker()
    try:
        _create(writing, clock)  # in flight, not committed
        answer = committed_app.test_client().post(
            "/v1/numbers", json={"phone_number": "+14155550199", "capabilities": ["sms"]},
            headers={"Authorization": f"Bearer {raw}"})
    finally:
        writing.rollback()
        writing.close()

    assert answer.status_code == 503
    assert answer.get_json()["type"] == "service-unavailable"
    assert answer.headers["Retry-After"] == "2"
    # Not "nothing was added": `numbers add` repeats this after the numbers it did add.
    assert answer.get_json()["detail"].endswith("this number was not added: try again shortly.")
