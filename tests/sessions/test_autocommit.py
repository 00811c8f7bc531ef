"""On PostgreSQL a new session is one statement without a transaction: the key lookup, then the
INSERTs of the session and both participants, which store the whole session or nothing. All
else (a phone's overdue session to expire, a number taken meanwhile, no number free, a phone
that is ours) is done again in a transaction; a retry is answered from two reads. Checked on
the DBAPI connection each statement runs on, with real commits."""
from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from commsvc.auth import service as key_service
from commsvc.config.settings import Retention
from commsvc.pool import service as pool_service
from commsvc.sessions.models import Participant, Session
from tests.conftest import pool_and_booking_key
from tests.sessions.conftest import PRO, REQUESTER
from tests.transactions import session_begins, statement_modes

pytestmark = pytest.mark.pg_only

FIRST_NUMBER = 14155559000


@pytest.fixture
def statements(committed_app):
    with statement_modes(committed_app) as seen:
        yield seen


@pytest.fixture
def begun():
    with session_begins() as seen:
        yield seen


def _post(app, headers, booking_id="bk_1", requester=REQUESTER, pro=PRO, **extra):
    return app.test_client().post("/v1/sessions", headers=headers, json={
        "booking_id": booking_id, "requester": {"phone": requester}, "pro": {"phone": pro},
        **extra})


def _count(app, sql: str, **values) -> int:
    with app.extensions["db"].engine.connect() as conn:
        return conn.scalar(sa.text(sql), values)


def test_a_new_session_is_one_statement_without_a_transaction(committed_app, clock,
                                                              statements, begun):
    headers = pool_and_booking_key(committed_app, clock, 3, first=FIRST_NUMBER)
    del statements[:], begun[:]
    response = _post(committed_app, headers)

    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"] == f"/v1/sessions/{response.get_json()['id']}"
    # The key, then the session with both participants: each commits alone (no BEGIN, no
    # COMMIT), outside the ORM Session's bookkeeping.
    assert statements == [("SELECT", True), ("WITH", True)]
    assert begun == []
    assert _count(committed_app, "SELECT count(*) FROM sessions") == 1
    assert _count(committed_app, "SELECT count(*) FROM session_participants WHERE active") == 2


def test_psycopg_keeps_the_one_statement_of_a_new_session_parsed(committed_app, clock,
                                                                 reparsed_statements):
    headers = pool_and_booking_key(committed_app, clock, 3, first=FIRST_NUMBER)
    for n, mode in enumerate(("sms", "voice", "sms_and_voice")):
        with reparsed_statements as seen:
            response = _post(committed_app, headers, booking_id=f"bk_{n}", mode=mode,
                             requester=f"+1415555{1000 + n}")
        assert response.status_code == 201, response.get_json()
        assert seen == []


def test_a_retry_is_answered_without_a_transaction(committed_app, clock, statements):
    headers = pool_and_booking_key(committed_app, clock, 3, first=FIRST_NUMBER)
    first = _post(committed_app, headers).get_json()
    del statements[:]
    again = _post(committed_app, headers)

    assert again.status_code == 200 and again.get_json() == first
    # The INSERT that inserts nothing, the open session and its participants.
    assert statements == [("SELECT", True), ("WITH", True), ("SELECT", True), ("SELECT", True)]
    assert _post(committed_app, headers, pro="+14155550303").status_code == 409


def test_no_number_free_stores_nothing_and_is_the_503_of_a_transaction(committed_app, clock,
                                                                       statements):
    # One number, and the requester already holds it: the pro would get it, the requester
    # nothing. The one statement inserted the session and the pro, then failed: all undone.
    headers = pool_and_booking_key(committed_app, clock, 1, first=FIRST_NUMBER)
    assert _post(committed_app, headers, pro="+14155550303").status_code == 201
    del statements[:]
    response = _post(committed_app, headers, booking_id="bk_2")

    assert response.status_code == 503 and response.get_json()["type"].endswith(
        "pool-exhausted")
    # The key, the statement, the read that finds no open or overdue session; then the
    # transaction.
    assert statements[:3] == [("SELECT", True), ("WITH", True), ("SELECT", True)]
    assert statements[3:] and not any(autocommit for _, autocommit in statements[3:])
    assert _count(committed_app, "SELECT count(*) FROM sessions") == 1
    assert _count(committed_app, "SELECT count(*) FROM session_participants") == 2


def test_a_first_choice_taken_meanwhile_undoes_the_statement_and_a_transaction_allocates_again(
        committed_app, clock, statements):
    # The pro's own area code makes SF the pro's first choice; another transaction holds the
    # pair (PRO, SF) uncommitted, so the statement's snapshot does not see it: the pro's INSERT
    # waits for it, and once it commits inserts nothing. The statement fails (the session and
    # the requester inserted before it are undone) and a transaction gives the pro NYC.
    sf, nyc = "+14155559001", "+12125559001"
    headers = pool_and_booking_key(committed_app, clock, 0, first=FIRST_NUMBER)
    with committed_app.extensions["db"].sessionmaker() as db:
        for number in (sf, nyc):
            pool_service.add_number(db, phone_number=number, capabilities=("sms", "voice"),
                                    actor="test", now=clock(), retention=Retention())
        db.commit()
    engine = committed_app.extensions["db"].engine
    holder = engine.connect()
    holder.execute(sa.text(
        "INSERT INTO sessions (id, booking_id, status, mode, record_calls, created_at,"
        " expires_at) VALUES ('ses_0', 'bk_0', 'open', 'sms', false, :now, :end)"),
        {"now": clock(), "end": clock() + dt.timedelta(days=1)})
    holder.execute(sa.text(
        "INSERT INTO session_participants (session_id, role, phone, proxy_number,"
        " counterpart_phone, active, created_at) VALUES ('ses_0', 'pro', :pro, :sf,"
        " '+14155550909', true, :now)"), {"pro": PRO, "sf": sf, "now": clock()})
    del statements[:]
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(_post, committed_app, headers)
        _wait_until_a_statement_waits_for_a_lock(engine)
        holder.commit()
        holder.close()
        response = answer.result()

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["requester"]["proxy_number"] == sf and body["pro"]["proxy_number"] == nyc
    # The one statement, then the same INSERTs in a transaction.
    assert [seen for seen in statements if seen[0] == "WITH"] == [("WITH", True), ("WITH", False)]
    assert _count(committed_app, "SELECT count(*) FROM sessions") == 2
    assert _count(committed_app, "SELECT count(*) FROM session_participants") == 3


def _wait_until_a_statement_waits_for_a_lock(engine) -> None:
    with engine.connect() as conn:
        for _ in range(500):
            if conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE"
                                   " wait_event_type = 'Lock' AND datname = current_database()")):
                return
            conn.rollback()
            time.sleep(0.01)
    raise AssertionError("the creation never waited for the pair held")


def test_a_phones_overdue_session_is_expired_in_a_transaction_then_its_number_given(
        committed_app, clock, statements):
    headers = pool_and_booking_key(committed_app, clock, 1, first=FIRST_NUMBER)
    old = _post(committed_app, headers, ttl_seconds=60).get_json()
    clock.advance(seconds=61)
    del statements[:]
    response = _post(committed_app, headers, booking_id="bk_2", pro="+14155550303")

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["requester"]["proxy_number"] == old["requester"]["proxy_number"]
    assert not all(autocommit for _, autocommit in statements)
    with committed_app.extensions["db"].sessionmaker() as db:
        assert db.get(Session, old["id"]).status == "expired"
        assert db.scalar(sa.select(sa.func.count()).select_from(Participant)
                         .where(Participant.active)) == 2


def test_a_pool_number_as_a_phone_is_422_and_stores_nothing(committed_app, clock):
    headers = pool_and_booking_key(committed_app, clock, 3, first=FIRST_NUMBER)
    response = _post(committed_app, headers, pro=f"+{FIRST_NUMBER + 2}")

    assert response.status_code == 422 and "pro.phone" in response.get_json()["errors"]
    assert _count(committed_app, "SELECT count(*) FROM sessions") == 0


def test_a_reasoned_creation_keeps_its_transaction_and_is_audited(committed_app, clock,
                                                                  statements):
    pool_and_booking_key(committed_app, clock, 3, first=FIRST_NUMBER)
    with committed_app.extensions["db"].sessionmaker() as db:
        _, raw = key_service.create_key(db, name="admin", role="admin", now=clock())
        db.commit()
    del statements[:]
    response = _post(committed_app, {"Authorization": f"Bearer {raw}",
                                     "X-Access-Reason": "ticket 4411"})

    assert response.status_code == 201, response.get_json()
    assert statements and not any(autocommit for _, autocommit in statements)
    assert _count(committed_app,
                  "SELECT count(*) FROM audit_events WHERE action = 'pii.read'") == 1
