"""A pooled connection the database dropped (pg_terminate_backend, a PgBouncer restart, a
failover) while the database itself still serves: Twilio's webhooks are served, not lost.

Twilio does not retry a webhook answered 503, so a text that met a dead pooled connection was
never stored nor relayed, and a delivery status never recorded, though the next request
worked. A webhook is safe to run again (the SID claim), so it is, once, on a fresh connection.
"""
from __future__ import annotations

import dataclasses
import time

import pytest
import sqlalchemy as sa

from commsvc.db import engine as db_engine
from commsvc.relay import service as relay
from commsvc.sending import service as sending
from tests.conftest import AUTH_TOKEN, BASE_URL, TEST_KEY
from tests.faults import app_on
from tests.twilio_signing import TwilioPoster


def _stranger_sms(n: int) -> dict:
    return {"From": f"+1415555{n:04d}", "To": "+16465550777", "Body": "hello?",
            "NumMedia": "0", "MessageSid": f"SM{n:032d}"}


@pytest.fixture
def dropping_app(engine, config, clock, twilio, monkeypatch):
    """The app on its own connections, and a function that terminates every one of them at
    the server, as an operator's pg_terminate_backend does, leaving them in the app's pools."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    # A busy service: its pooled connections are always back within the idle ping's second.
    monkeypatch.setattr(db_engine, "IDLE_PING_SECONDS", 3600.0)
    with app_on(engine, engine.url, config, clock, twilio) as app:
        pids: set[int] = set()
        for app_engine in app.extensions["db"].engines:
            sa.event.listen(app_engine, "connect",
                            lambda dbapi, _record: pids.add(dbapi.info.backend_pid))

        def drop_connections() -> None:
            # Autocommit: pg_stat_activity is read once per transaction, so polling it in one
            # transaction saw the terminated backends forever (the loop was a 0.5 s sleep).
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                     " WHERE pid = ANY(:pids)"), {"pids": list(pids)})
                deadline = time.monotonic() + 30  # gone at once, well within the idle ping
                while conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity"
                                          " WHERE pid = ANY(:pids)"), {"pids": list(pids)}):
                    assert time.monotonic() < deadline, "the app's connections outlived 30 s"
                    time.sleep(0.005)
            pids.clear()

        yield app, drop_connections


def _stored(engine, table: str, where: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT * FROM {table} WHERE {where}"), params).all()


@pytest.mark.pg_only
def test_a_text_arriving_on_a_dropped_connection_is_stored_and_answered(dropping_app, engine):
    app, drop_connections = dropping_app
    post = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
    assert post("/webhooks/twilio/sms", _stranger_sms(1)).status_code == 200

    drop_connections()
    response = post("/webhooks/twilio/sms", _stranger_sms(2))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert b"<Message" in response.data  # the stranger is told, as any other
    sid = _stranger_sms(2)["MessageSid"]
    assert len(_stored(engine, "messages", "twilio_sid = :s", s=sid)) == 1


@pytest.mark.pg_only
def test_a_delivery_status_arriving_on_a_dropped_connection_is_recorded(dropping_app, engine,
                                                                        clock):
    app, drop_connections = dropping_app
    config = dataclasses.replace(app.extensions["config"], sender_number="+16465550000")
    with app.extensions["db"].sessionmaker() as db:
        ids = [sending.accept(db, to="+12125550100", body=f"notice {n}",
                              purpose="transactional", booking_id=None, requested_by="t",
                              config=config, now=clock()).message.id
               for n in range(2)]
        db.commit()
    post = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)

    def delivered(n: int):
        path = f"/webhooks/twilio/message-status?o={ids[n]}"
        return post(path, {"MessageSid": f"SM{n:032d}", "MessageStatus": "delivered"})

    assert delivered(0).status_code == 200
    drop_connections()
    response = delivered(1)

    assert response.status_code == 200, response.get_data(as_text=True)
    [row] = _stored(engine, "outbound_messages", "id = :i", i=ids[1])
    assert (row.status, row.twilio_sid) == ("delivered", f"SM{1:032d}")


@pytest.mark.pg_only
def test_a_connection_dropped_under_the_notice_lock_runs_the_text_again(dropping_app, engine,
                                                                        monkeypatch):
    """A text to a number with no conversation holds the notice lock in a short transaction of
    its own; its connection dropped there (a failover mid-request) was a 500, the ROLLBACK on
    the dead connection raising in place of the disconnect, and the text was lost."""
    app, _drop_connections = dropping_app
    told_lately, runs = relay.told_lately, []

    def dropped_on_the_first_run(db, *args, **kwargs):
        runs.append(1)
        if len(runs) == 1:  # the database ends this very connection, as a failover does
            db.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return told_lately(db, *args, **kwargs)

    monkeypatch.setattr(relay, "told_lately", dropped_on_the_first_run)
    post = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
    response = post("/webhooks/twilio/sms", _stranger_sms(3))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert b"<Message" in response.data and len(runs) == 2
    sid = _stranger_sms(3)["MessageSid"]
    assert len(_stored(engine, "messages", "twilio_sid = :s", s=sid)) == 1


@pytest.mark.pg_only
def test_a_retention_run_whose_connections_the_database_dropped_between_batches_completes(
        dropping_app, engine, clock):
    """A failover or a PgBouncer restart between two batches of a retention run: the next
    batch met a dead pooled connection and the run died with it (CLI exit 1, the clock's
    day not done), its committed batches never audited: no event said what it had removed.
    A batch is safe to run again (processed rows leave its query), so it is, once; so are the
    run's Twilio deletions claim and its audit event. Dropped at every point where the run
    checks for a stop, each run does the whole work and is audited once."""
    from commsvc.records import retention
    from tests.records.test_retention import DAY, make_message

    app, drop_connections = dropping_app

    def run_dropping_at(drop_at: int | None) -> tuple[int, retention.RetentionReport]:
        with app.extensions["db"].sessionmaker() as db:
            for _ in range(6):
                make_message(db, created_at=clock() - 100 * DAY)
            db.commit()
        checks = []

        def stopping() -> bool:
            checks.append(1)
            if len(checks) == drop_at:
                drop_connections()
            return False

        report = retention.run(app.extensions["db"], retention=app.extensions["config"].retention,
                               now=clock(), gateway=app.extensions["twilio"], chunk_size=2,
                               should_stop=stopping)
        return len(checks), report

    checks, _ = run_dropping_at(None)
    for drop_at in range(1, checks + 1):
        _, report = run_dropping_at(drop_at)
        assert report.counts["message_bodies"] == 6, drop_at
        assert report.remote == {"simulated": 12}, drop_at
        assert len(_stored(engine, "messages", "body IS NOT NULL")) == 0, drop_at
    events = _stored(engine, "audit_events", "action = 'retention.run'")
    assert [e.details["counts"]["message_bodies"] for e in events] == [6] * (checks + 1)


@pytest.mark.pg_only
def test_a_key_rotation_whose_connections_the_database_dropped_completes_and_is_audited(
        dropping_app, engine, clock, monkeypatch):
    """`commsvc encryption rotate` met a connection the database dropped (a failover during
    the long rotation of a big table) and died with 'the database is not answering': the
    batches it had rewritten were in no audit event. A batch is a compare-and-set on the old
    token, safe to run again, and so is the audit event: each runs once more."""
    from commsvc.records import rotation
    from tests.records.test_retention import DAY, make_message
    from tests.records.test_rotation import NEW_KEY, use_keys

    app, drop_connections = dropping_app
    with app.extensions["db"].sessionmaker() as db:
        for _ in range(4):
            make_message(db, created_at=clock() - DAY)
        db.commit()
    use_keys(monkeypatch, NEW_KEY, TEST_KEY)
    rotate, checks = rotation.rotate, []

    def stopping() -> bool:
        checks.append(1)
        if len(checks) == 3:  # after the first batches of messages.body
            drop_connections()
        return False

    def rotate_then_drop(database, **kwargs):
        report = rotate(database, **{**kwargs, "should_stop": stopping})
        drop_connections()  # before the audit event
        return report

    monkeypatch.setattr(rotation, "rotate", rotate_then_drop)
    result = app.test_cli_runner().invoke(args=["encryption", "rotate", "--batch-size", "1"])

    assert result.exit_code == 0, result.output
    assert len(checks) > 3
    [event] = _stored(engine, "audit_events", "action = 'encryption.rotated'")
    assert event.details["messages.body"]["rotated"] == 4


@pytest.fixture
def audit_commit_answer_lost(dropping_app, monkeypatch):
    """The app, with the commit of its next audit event going through at the server and its
    answer lost: the connection dies right after (a failover, a PgBouncer restart then)."""
    from commsvc.records import audit

    app, _drop_connections = dropping_app
    record, armed = audit.record, []

    def record_then_arm(*args, **kwargs):
        event = record(*args, **kwargs)
        armed.append(len(armed) == 0)  # the first event only
        return event

    for app_engine in app.extensions["db"].engines:
        do_commit = app_engine.dialect.do_commit

        def committed_then_dropped(dbapi_connection, do_commit=do_commit):
            do_commit(dbapi_connection)
            if armed and armed[-1]:
                armed[-1] = False
                dbapi_connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")

        monkeypatch.setattr(app_engine.dialect, "do_commit", committed_then_dropped)
    monkeypatch.setattr(audit, "record", record_then_arm)
    return app


@pytest.mark.pg_only
def test_a_retention_run_whose_audit_event_commit_answer_was_lost_is_audited_once(
        audit_commit_answer_lost, engine, clock):
    """The run's event committed, its answer lost on a dropped connection: the event was
    written again on a fresh one, two retention.run events for one run in the audit log."""
    from commsvc.records import retention

    app = audit_commit_answer_lost
    report = retention.run(app.extensions["db"], retention=app.extensions["config"].retention,
                           now=clock(), gateway=app.extensions["twilio"])

    assert report is not None
    assert len(_stored(engine, "audit_events", "action = 'retention.run'")) == 1


@pytest.mark.pg_only
def test_a_key_rotation_whose_audit_event_commit_answer_was_lost_is_audited_once(
        audit_commit_answer_lost, engine, monkeypatch):
    from tests.records.test_rotation import NEW_KEY, use_keys

    app = audit_commit_answer_lost
    use_keys(monkeypatch, NEW_KEY, TEST_KEY)  # one key alone is refused: nothing to rotate to
    result = app.test_cli_runner().invoke(args=["encryption", "rotate"])

    assert result.exit_code == 0, result.output
    assert len(_stored(engine, "audit_events", "action = 'encryption.rotated'")) == 1


@pytest.fixture
def slow_audit_commit(engine):
    """Every commit that wrote an audit event takes half a second at the server (a synchronous
    standby slow to confirm, a slow disk): its event is not yet visible meanwhile."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE FUNCTION review5_slow_commit() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$"))
        conn.execute(sa.text(
            "CREATE CONSTRAINT TRIGGER review5_slow_commit AFTER INSERT ON audit_events"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION review5_slow_commit()"))
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER review5_slow_commit ON audit_events"))
        conn.execute(sa.text("DROP FUNCTION review5_slow_commit()"))


@pytest.mark.pg_only
def test_an_audit_event_whose_commit_was_still_under_way_when_its_connection_dropped_is_written_once(  # noqa: E501
        dropping_app, slow_audit_commit, engine, clock, monkeypatch):
    """Found by a review of 88e8047: the COMMIT reached the server, then the connection broke
    while the server was still committing. The second run looked for the first run's event
    before taking the chain's lock: not visible yet, then it waited for that lock, held by the
    first run's transaction until its commit ended, and chained a second event onto it."""
    from commsvc.records import audit

    app, _drop_connections = dropping_app
    database = app.extensions["db"]
    armed = [True]
    for app_engine in database.engines:
        do_commit = app_engine.dialect.do_commit
        error = app_engine.dialect.dbapi.OperationalError

        def commit_then_lose_the_connection(dbapi_connection, do_commit=do_commit, error=error):
            if not armed[0]:
                return do_commit(dbapi_connection)
            armed[0] = False
            raw = dbapi_connection.dbapi_connection  # psycopg's, under the pool's proxy
            raw.pgconn.send_query(b"COMMIT")  # sent; its answer never read
            raw.pgconn.flush()
            raw.close()
            raise error("server closed the connection unexpectedly")

        monkeypatch.setattr(app_engine.dialect, "do_commit", commit_then_lose_the_connection)

    audit.record_alone(database, what="test event", actor="cli:test", action="review5.test",
                       now=clock())

    assert len(_stored(engine, "audit_events", "action = 'review5.test'")) == 1
