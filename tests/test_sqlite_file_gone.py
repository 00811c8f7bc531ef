"""The SQLite file deleted, or replaced, under a running process.

Found by deleting the file of a running `make run` (`rm instance/commsvc.db`, `make clean`):
each process's pooled connections kept the deleted file open, so every session, text and
consent event went on being answered 201 and 200, written where no process would ever read it
again, and /readyz said ready. A CLI command started afterwards made a new empty file beside
the running processes' write-ahead log and truncated it ("disk I/O error").
"""
from __future__ import annotations

import contextlib
import dataclasses
import sqlite3

from commsvc import migrate
from commsvc.app import create_app
from tests.conftest import pool_and_booking_key


def _session(client, headers, booking: str):
    return client.post("/v1/sessions", headers=headers, json={
        "booking_id": booking, "requester": {"phone": "+14155550101"},
        "pro": {"phone": "+14155550202"}})


def test_a_deleted_database_file_is_a_503_until_it_is_back_and_no_empty_one_is_made(
        config, clock, twilio, tmp_path):
    path, backup = tmp_path / "commsvc.db", tmp_path / "backup.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    app = create_app(dataclasses.replace(config, database_url=url), clock=clock, twilio=twilio)
    client = app.test_client()
    try:
        headers = pool_and_booking_key(app, clock, 2, first=16465550001)
        assert _session(client, headers, "bk_1").status_code == 201
        with contextlib.closing(sqlite3.connect(path)) as live, \
                contextlib.closing(sqlite3.connect(backup)) as copy:
            live.backup(copy)
        path.unlink()

        gone = _session(client, headers, "bk_2")
        ready_while_gone = client.get("/readyz")
        made_in_its_place = path.exists()

        backup.rename(path)
        back = _session(client, headers, "bk_2")
        ready_again = client.get("/readyz")
    finally:
        app.extensions["db"].dispose()

    assert (gone.status_code, gone.content_type) == (503, "application/problem+json")
    assert gone.get_json()["type"] == "database-unavailable"
    assert (ready_while_gone.status_code, ready_while_gone.get_json()) == (
        503, {"status": "unavailable", "database": "down"})
    assert not made_in_its_place  # no new, empty database
    assert back.status_code == 201
    assert (ready_again.status_code, ready_again.get_json()["status"]) == (200, "ready")
