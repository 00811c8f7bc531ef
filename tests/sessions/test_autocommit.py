"""On PostgreSQL a new session is one statement without a transaction: the key lookup, then the
INSERTs of the session and both participants, which store the whole session or nothing. All
else (a phone's overdue session to expire, a number taken meanwhile, no number free, a phone
that is ours) is done again in a transaction; a retry is answered from two reads. Checked on
the DBAPI connection each statement runs on, with real commits."""
from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from commsvc.auth import service as key_service
from commsvc.config.settings import Retention
from commsvc.errors import Conflict, ServiceUnavailable
from commsvc.pool import service as pool_service
from commsvc.sessions.allocation import INCOMPLETE
from commsvc.sessions.models import Participant, Session
from tests.conftest import pool_and_booking_key
from tests.faults import app_on
from tests.faults.tcp_proxy import CuttableProxy
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
    # The key and the statement; then the transaction. (No read of the booking's open
    # session or the phones' overdue ones before it: a statement that inserted the session
    # met neither, and the transaction reads them if it must.)
    assert statements[:2] == [("SELECT", True), ("WITH", True)]
    assert statements[2:] and not any(autocommit for _, autocommit in statements[2:])
    assert _count(committed_app, "SELECT count(*) FROM sessions") == 1
    assert _count(committed_app, "SELECT count(*) FROM session_participants") == 2


def test_a_statement_undone_on_purpose_is_no_error_of_the_service_and_logs_nothing(
        committed_app, clock, caplog):
    # Its DataError is read, not raised: the client gets the transaction's answer (here the
    # pool-exhausted 503, not a 500), and no log line of ours names it or the phones.
    headers = pool_and_booking_key(committed_app, clock, 1, first=FIRST_NUMBER)
    assert _post(committed_app, headers, pro="+14155550303").status_code == 201
    caplog.set_level(logging.DEBUG, logger="commsvc")
    response = _post(committed_app, headers, booking_id="bk_2")

    assert response.status_code == 503 and response.get_json()["type"].endswith(
        "pool-exhausted")
    assert INCOMPLETE not in response.get_data(as_text=True)
    lines = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert not [line for line in lines
                if INCOMPLETE in line or "bigint" in line or "4155550" in line], lines


def test_a_first_choice_taken_meanwhile_undoes_the_statement_and_a_transaction_allocates_again(
        committed_app, clock, statements):
    # The pro's own area code makes SF the pro's first choice; another transaction holds the
    # pair (PRO, SF) uncommitted, so the statement's snapshot does not see it: the pro's INSERT
    # waits for it, and once it commits inserts nothing. The statement fails (the session and
    # the requester inserted before it are undone) and a transaction gives the pro NYC.
    headers, holder = _sf_and_nyc_with_the_pros_sf_held(committed_app, clock)
    engine = committed_app.extensions["db"].engine
    del statements[:]
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(_post, committed_app, headers)
        _wait_until_a_statement_waits_for_a_lock(engine)
        holder.commit()
        holder.close()
        response = answer.result()

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["requester"]["proxy_number"] == SF and body["pro"]["proxy_number"] == NYC
    # In autocommit the key and the one statement only (no read after it was undone); then
    # the same INSERTs in a transaction. (The waiter's reads are recorded too.)
    assert [seen for seen in statements if seen[1]] == [("SELECT", True), ("WITH", True)]
    assert [seen for seen in statements if seen[0] == "WITH"] == [("WITH", True), ("WITH", False)]
    assert _count(committed_app, "SELECT count(*) FROM sessions") == 2
    assert _count(committed_app, "SELECT count(*) FROM session_participants") == 3


def _wait_until_a_statement_waits_for_a_lock(engine, count: int = 1) -> None:
    """Until `count` statements of this database wait for a lock."""
    with engine.connect() as conn:
        for _ in range(500):
            if conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE"
                                   " wait_event_type = 'Lock' AND datname = current_database()"
                                   )) >= count:
                return
            conn.rollback()
            time.sleep(0.01)
    raise AssertionError(f"fewer than {count} statements ever waited for a lock")


SF, NYC = "+14155559001", "+12125559001"


def _sf_and_nyc_with_the_pros_sf_held(app, clock):
    """The pool SF and NYC, a booking key's headers, and a connection holding (PRO, SF) by an
    uncommitted session: a creation giving the pro SF (the pro's own area code makes it the
    first choice) waits for it mid-statement, and once it commits inserts nothing."""
    headers = pool_and_booking_key(app, clock, 0, first=FIRST_NUMBER)
    with app.extensions["db"].sessionmaker() as db:
        for number in (SF, NYC):
            pool_service.add_number(db, phone_number=number, capabilities=("sms", "voice"),
                                    actor="test", now=clock(), retention=Retention())
        db.commit()
    holder = app.extensions["db"].engine.connect()
    holder.execute(sa.text(
        "INSERT INTO sessions (id, booking_id, status, mode, record_calls, created_at,"
        " expires_at) VALUES ('ses_0', 'bk_0', 'open', 'sms', false, :now, :end)"),
        {"now": clock(), "end": clock() + dt.timedelta(days=1)})
    holder.execute(sa.text(
        "INSERT INTO session_participants (session_id, role, phone, proxy_number,"
        " counterpart_phone, active, created_at) VALUES ('ses_0', 'pro', :pro, :sf,"
        " '+14155550909', true, :now)"), {"pro": PRO, "sf": SF, "now": clock()})
    return headers, holder


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


def test_a_pool_add_of_a_phone_racing_the_one_statement_never_pools_a_live_phone(
        committed_app, clock):
    # The creation's one statement waits mid-way (the pro's first choice held), the pool add
    # of the requester's own phone queues for its SHARE lock on sessions behind it; then the
    # pair's holder commits, the statement is undone, and the add and the creation's
    # transaction settle who wins. Whoever does, the requester's phone is never both a pool
    # number and an active participant's phone.
    headers, holder = _sf_and_nyc_with_the_pros_sf_held(committed_app, clock)
    engine = committed_app.extensions["db"].engine

    def add():
        try:
            with committed_app.extensions["db"].sessionmaker() as db:
                pool_service.add_number(db, phone_number=REQUESTER, capabilities=("sms",),
                                        actor="test", now=clock(), retention=Retention())
                db.commit()
            return "added"
        except (Conflict, ServiceUnavailable) as exc:  # the phone is live, or still held
            return exc.status

    with ThreadPoolExecutor(max_workers=2) as pool:
        creation = pool.submit(_post, committed_app, headers)
        _wait_until_a_statement_waits_for_a_lock(engine)
        adding = pool.submit(add)
        _wait_until_a_statement_waits_for_a_lock(engine, 2)
        holder.commit()
        holder.close()
        response, added = creation.result(timeout=30), adding.result(timeout=30)

    pooled = _count(committed_app, "SELECT count(*) FROM proxy_numbers WHERE phone_number = :p",
                    p=REQUESTER)
    live = _count(committed_app, "SELECT count(*) FROM session_participants WHERE active"
                  " AND phone = :p", p=REQUESTER)
    assert (pooled, live) in ((1, 0), (0, 1)), (response.get_json(), added)
    if pooled:
        assert added == "added" and response.status_code == 422, response.get_json()
        assert "requester.phone" in response.get_json()["errors"]
    else:
        assert response.status_code == 201 and added in (409, 503), added
    # Nothing half-stored either way (but the holder's own session).
    assert _count(committed_app, "SELECT count(*) FROM sessions s WHERE id <> 'ses_0' AND"
                  " (SELECT count(*) FROM session_participants p WHERE p.session_id = s.id)"
                  " <> 2") == 0


@pytest.fixture
def proxied_app(engine, config, clock, twilio):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    proxy = CuttableProxy(engine.url.host or "127.0.0.1", engine.url.port or 5432)
    port = proxy.start()
    with app_on(engine, engine.url.set(port=port), config, clock, twilio) as app:
        yield app, proxy
        proxy.cut()


@pytest.mark.parametrize("when", ["before the one statement", "after it was undone"])
def test_the_database_gone_mid_creation_is_a_fast_503_with_nothing_stored(proxied_app, clock,
                                                                          when):
    # The database goes away as the one statement is sent (the key read in autocommit
    # already), or once that statement was undone (no number free for the requester) and
    # before the transaction that would do it again: a 503 within 2 s, nothing stored; back,
    # the same request is answered as it would have been.
    app, proxy = proxied_app
    headers = pool_and_booking_key(app, clock, 1, first=FIRST_NUMBER)
    if when == "after it was undone":
        assert _post(app, headers, pro="+14155550303").status_code == 201

    def cut_before(_conn, _cursor, statement, *_):
        if statement.startswith("WITH"):
            proxy.cut()

    def cut_after(context):
        if INCOMPLETE in str(context.original_exception):
            proxy.cut()

    engines = app.extensions["db"].engines
    event, cut = (("before_cursor_execute", cut_before) if when == "before the one statement"
                  else ("handle_error", cut_after))
    for engine in engines:
        sa.event.listen(engine, event, cut)
    try:
        started = time.monotonic()
        response = _post(app, headers, booking_id="bk_2")
        elapsed = time.monotonic() - started
    finally:
        for engine in engines:
            sa.event.remove(engine, event, cut)

    assert response.status_code == 503, response.get_json()
    assert response.get_json()["type"].endswith("database-unavailable")
    assert elapsed < 2.0, f"took {elapsed:.2f}s to give up"
    proxy.restore()
    for engine in engines:
        engine.dispose()  # their connections date from before the cut
    assert _count(app, "SELECT count(*) FROM sessions WHERE booking_id = 'bk_2'") == 0
    again = _post(app, headers, booking_id="bk_2")
    assert again.status_code == (201 if when == "before the one statement" else 503)
    assert _count(app, "SELECT count(*) FROM sessions s WHERE (SELECT count(*) FROM"
                  " session_participants p WHERE p.session_id = s.id) <> 2") == 0
