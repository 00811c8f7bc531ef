"""On a SQLite file, what an erasure or a retention run deleted (and the tokens a key rotation
replaced) is gone from the -wal file as soon as it answers. Found by a data-map audit on
`make run`: after an erasure the -wal file still held the person's rows (number, session,
encrypted body) until SQLite's automatic checkpoint, 1,000 pages of writes later, however
long that took."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from commsvc import crypto, migrate
from commsvc.app import create_app
from commsvc.auth import service as keys
from commsvc.records import retention, rotation
from commsvc.relay.models import Message
from tests.conftest import AUTH_TOKEN, BASE_URL, TEST_KEY, pool_and_booking_key
from tests.records.test_rotation import NEW_KEY, _use_keys
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
    _use_keys(monkeypatch, NEW_KEY, TEST_KEY)

    report = rotation.rotate(database, keyring=crypto.keyring())

    assert report["messages.body"].rotated == 1
    assert not any(old_token in path.read_bytes() for path in tmp_path.glob("erase.db*"))


def test_an_erasure_whose_checkpoint_fails_still_answers_what_it_removed(
        file_app, clock, monkeypatch, caplog):
    # Found on gunicorn under `ulimit -f` (the database file could not grow): the erasure
    # committed and was audited, then the checkpoint's "disk I/O error" made it a 500, and so
    # did every retry.
    client = file_app.test_client()
    booking = pool_and_booking_key(file_app, clock, 2, first=16465550001)
    with file_app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    assert client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER},
        "pro": {"phone": PRO}}).status_code == 201
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

    erased = client.post(f"/v1/subjects/{REQUESTER}/erase", headers={
        "Authorization": f"Bearer {raw}", "X-Access-Reason": "DSAR ticket 1"})

    assert erased.status_code == 200
    assert erased.get_json()["removed"]["sessions"] == 1
    assert "the checkpoint failed: disk I/O error" in caplog.text
