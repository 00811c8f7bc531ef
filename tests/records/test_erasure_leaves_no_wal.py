"""On a SQLite file, what an erasure or a retention run deleted (and the tokens a key rotation
replaced) is gone from the -wal file as soon as it answers. Found by a data-map audit on
`make run`: after an erasure the -wal file still held the person's rows (number, session,
encrypted body) until SQLite's automatic checkpoint, 1,000 pages of writes later, however
long that took."""
from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from commsvc import crypto, migrate
from commsvc.app import create_app
from commsvc.auth import service as keys
from commsvc.records import erasure_replay, retention, rotation, subjects
from commsvc.relay.models import Message
from tests.conftest import AUTH_TOKEN, BASE_URL, TEST_KEY, pool_and_booking_key
from tests.records.test_rotation import NEW_KEY, use_keys
from tests.twilio_signing import TwilioPoster

REQUESTER = "+14155550101"
PRO = "+14155550202"


@pytest.fixture
def file_app(backend, config, clock, twilio, tmp_path):
    """The app on its own migrated SQLite file, whose -wal file the test reads."""
    if backend != "sqlite":
        pytest.skip("SQLite's -wal file")
    url = f"sqlite:///{tmp_path / 'erase.db'}"
    migrate.upgrade(url)
    app = create_app(dataclasses.replace(config, database_url=url), clock=clock, twilio=twilio)
    yield app
    app.extensions["db"].dispose()


def _on_disk(tmp_path: Path) -> dict[str, bool]:
    """Whether each file of the database holds the requester's number."""
    return {path.name: REQUESTER.encode() in path.read_bytes()
            for path in sorted(tmp_path.glob("erase.db*"))}


def test_an_erasure_leaves_nothing_of_the_person_in_the_wal_file(file_app, clock, tmp_path):
    client = file_app.test_client()
    booking = pool_and_booking_key(file_app, clock, 2, first=16465550001)
    with file_app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    session = client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER}, "pro": {"phone": PRO}}).get_json()
    text = TwilioPoster(client, AUTH_TOKEN, BASE_URL)("/webhooks/twilio/sms", {
        "From": REQUESTER, "To": session["requester"]["proxy_number"],
        "Body": "the gate code is 4321", "MessageSid": "SM" + "a" * 32, "NumMedia": "0"})
    assert text.status_code == 200
    assert _on_disk(tmp_path)["erase.db-wal"]  # the check below can see the number

    erased = client.post(f"/v1/subjects/{REQUESTER}/erase", headers={
        "Authorization": f"Bearer {raw}", "X-Access-Reason": "DSAR ticket 1"})

    assert erased.status_code == 200
    assert erased.get_json()["removed"]["messages"] == 1
    assert not any(_on_disk(tmp_path).values())


def test_a_retention_run_leaves_no_deleted_row_in_the_wal_file(file_app, clock, tmp_path):
    database = file_app.extensions["db"]
    old = clock() - dt.timedelta(days=800)
    with database.sessionmaker() as db:
        db.add(Message(direction="inbound", from_phone=REQUESTER, to_phone="+16465550001",
                       body="the gate code is 4321", media_count=0, twilio_sid="SM" + "b" * 32,
                       outcome="no_session", status="received", created_at=old, updated_at=old))
        db.commit()
    assert _on_disk(tmp_path)["erase.db-wal"]

    report = retention.run(database, retention=file_app.extensions["config"].retention,
                           now=clock())

    assert report.counts["messages"] == 1
    assert not any(_on_disk(tmp_path).values())


def test_a_key_rotation_leaves_no_token_under_the_old_key_in_the_wal_file(
        file_app, clock, tmp_path, monkeypatch):
    # Rotating out a key that leaked: its tokens stayed readable in the -wal file.
    database = file_app.extensions["db"]
    with database.sessionmaker() as db:
        db.add(Message(direction="inbound", from_phone=REQUESTER, to_phone="+16465550001",
                       body="the gate code is 4321", media_count=0, twilio_sid="SM" + "c" * 32,
                       outcome="no_session", status="received", created_at=clock(),
                       updated_at=clock()))
        db.commit()
    with database.engine.connect() as conn:
        old_token = conn.exec_driver_sql("SELECT body FROM messages").scalar().encode()
    assert old_token in (tmp_path / "erase.db-wal").read_bytes()
    use_keys(monkeypatch, NEW_KEY, TEST_KEY)

    report = rotation.rotate(database, keyring=crypto.keyring())

    assert report["messages.body"].rotated == 1
    assert not any(old_token in path.read_bytes() for path in tmp_path.glob("erase.db*"))


def test_an_erasure_whose_checkpoint_fails_still_answers_what_it_removed(
        file_app, clock, monkeypatch, caplog):
    # Found on gunicorn under `ulimit -f` (the database file could not grow): the erasure
    # committed and was audited, then the checkpoint's "disk I/O error" made it a 500, and so
    # did every retry.
    client, erasing = _a_session_and_a_privacy_key(file_app, clock)
    engine = file_app.extensions["db"].engine
    connect = engine.raw_connection

    def disk_full_at_checkpoint():
        connection = connect()
        cursor = connection.cursor

        def failing_cursor():
            real = cursor()

            class Cursor:
                def __getattr__(self, name):
                    return getattr(real, name)

                def execute(self, sql, *args):
                    if sql.startswith("PRAGMA wal_checkpoint"):
                        raise engine.dialect.loaded_dbapi.OperationalError("disk I/O error")
                    return real.execute(sql, *args)
            return Cursor()
        connection.cursor = failing_cursor
        return connection
    monkeypatch.setattr(engine, "raw_connection", disk_full_at_checkpoint)

    erased = client.post(f"/v1/subjects/{REQUESTER}/erase", headers=erasing)

    assert erased.status_code == 200
    assert erased.get_json()["removed"]["sessions"] == 1
    assert "the checkpoint failed: disk I/O error" in caplog.text


def test_an_erasure_under_a_long_reader_holds_other_writers_back_no_longer_than_its_short_wait(
        file_app, clock, tmp_path, caplog):
    # Found by load on gunicorn (4 workers) with one read transaction open (as audit verify's
    # walk, a backup or a sqlite3 shell keep one): the checkpoint waited the 5 s busy_timeout
    # for that reader while holding the write lock, so every write of every process waited
    # with it (503s), and the erasure took 5 s, for a checkpoint that then gave up anyway.
    client, erasing = _a_session_and_a_privacy_key(file_app, clock)
    path = tmp_path / "erase.db"
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM sessions").fetchone()  # a snapshot older than the erasure
    answers = []
    erasure = threading.Thread(target=lambda: answers.append(client.post(
        f"/v1/subjects/{REQUESTER}/erase", headers=erasing)))
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer = sqlite3.connect(path, isolation_level=None, timeout=2)  # a write's wait, cut short
    erasure.start()
    try:
        while erasure.is_alive():  # until the erasure (or its checkpoint) holds the write lock
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                writer.execute("BEGIN IMMEDIATE")  # "database is locked" when held back 2 s
                writer.execute("COMMIT")
                break
            probe.execute("ROLLBACK")
    finally:
        erasure.join()
        reader.execute("COMMIT")
        for connection in (reader, probe, writer):
            connection.close()

    assert answers[0].status_code == 200
    assert "another connection was using the database" in caplog.text


def test_a_replay_stopped_halfway_leaves_nothing_of_whom_it_erased_in_the_wal_file(
        file_app, clock, tmp_path, monkeypatch):
    # Found by a review of 9790f19: a replay stopped by a database error returned before its
    # checkpoint, so the rows of the subjects it had erased stayed in the -wal file.
    client, erasing = _a_session_and_a_privacy_key(file_app, clock)
    for phone in (REQUESTER, PRO):
        assert client.post(f"/v1/subjects/{phone}/erase", headers=erasing).status_code == 200
    database = file_app.extensions["db"]
    restored = clock() - dt.timedelta(days=9)  # a backup restored: a text of each is back
    with database.sessionmaker() as db:
        db.add_all(Message(direction="inbound", from_phone=phone, to_phone="+16465550001",
                           body="restored", media_count=0, twilio_sid="SM" + letter * 32,
                           outcome="no_session", status="received", created_at=restored,
                           updated_at=restored) for letter, phone in (("d", REQUESTER), ("e", PRO)))
        db.commit()
    erase, erased = subjects.erase_subject, []

    def the_second_fails(db, phone, **kwargs):
        if erased:
            raise OperationalError("DELETE", {}, Exception("server closed the connection"))
        erased.append(phone)
        return erase(db, phone, **kwargs)
    monkeypatch.setattr(erasure_replay, "erase_subject", the_second_fails)

    result = erasure_replay.replay_erasures(database, config=file_app.extensions["config"],
                                      now=clock(), actor="test")

    assert result.stopped_at is not None and result.matched == 1
    assert not any(erased[0].encode() in path.read_bytes() for path in tmp_path.glob("erase.db*"))


def test_a_key_rotation_stopped_by_a_database_error_leaves_no_token_it_replaced_in_the_wal_file(
        file_app, clock, tmp_path, monkeypatch):
    # Found by a review of 8ef1d30 after fedc227: a rotation stopped by a database error (not a
    # lock timeout) raised before its checkpoint, so the tokens under the old key that its
    # committed batches had replaced stayed readable in the -wal file.
    database = file_app.extensions["db"]
    with database.sessionmaker() as db:
        db.add_all(Message(direction="inbound", from_phone=REQUESTER, to_phone="+16465550001",
                           body="the gate code is 4321", media_count=0,
                           twilio_sid="SM" + letter * 32, outcome="no_session",
                           status="received", created_at=clock(), updated_at=clock())
                   for letter in "fg")
        db.commit()
    with database.engine.connect() as conn:
        first_token = conn.exec_driver_sql(
            "SELECT body FROM messages ORDER BY id LIMIT 1").scalar().encode()
    assert first_token in (tmp_path / "erase.db-wal").read_bytes()
    use_keys(monkeypatch, NEW_KEY, TEST_KEY)
    batch, batches = rotation._committed_batch, []

    def the_second_fails(*args, **kwargs):
        if batches:
            raise OperationalError("UPDATE", {}, Exception("disk I/O error"))
        batches.append(1)
        return batch(*args, **kwargs)
    monkeypatch.setattr(rotation, "_committed_batch", the_second_fails)

    with pytest.raises(OperationalError):
        rotation.rotate(database, batch_size=1, keyring=crypto.keyring())

    with database.engine.connect() as conn:  # the first batch committed: rotated
        assert conn.exec_driver_sql(
            "SELECT body FROM messages ORDER BY id LIMIT 1").scalar().encode() != first_token
    assert not any(first_token in path.read_bytes() for path in tmp_path.glob("erase.db*"))


def _a_session_and_a_privacy_key(app, clock):
    """A test client, after a session between REQUESTER and PRO; the headers of an erasure."""
    client = app.test_client()
    booking = pool_and_booking_key(app, clock, 2, first=16465550001)
    with app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    assert client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER},
        "pro": {"phone": PRO}}).status_code == 201
    return client, {"Authorization": f"Bearer {raw}", "X-Access-Reason": "DSAR ticket 1"}
