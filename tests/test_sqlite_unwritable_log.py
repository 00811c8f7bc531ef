"""What the web process logs when its database refuses a write.

Found by filling the disk under a running `make run` (a 2 MB tmpfs) and by making its SQLite
file read-only: every write was a 503, and each of its log lines said only "database
unavailable: OperationalError", the same for a full disk, a read-only file, a deleted file and a
lock held too long, where the CLI, the worker and the clock name the cause and what to do.
"""
from __future__ import annotations

import dataclasses
import logging

from commsvc import migrate
from commsvc.app import create_app
from tests.conftest import pool_and_booking_key


def test_a_write_the_sqlite_file_refuses_is_a_503_whose_log_line_says_why(
        config, clock, twilio, tmp_path, caplog):
    path = tmp_path / "commsvc.db"
    migrate.upgrade(f"sqlite:///{path}")
    writable = create_app(dataclasses.replace(config, database_url=f"sqlite:///{path}"),
                          clock=clock, twilio=twilio)
    headers = pool_and_booking_key(writable, clock, 2, first=16465550001)
    writable.extensions["db"].dispose()
    # What SQLite opens for a user who may read the file but not write it.
    read_only = create_app(dataclasses.replace(
        config, database_url=f"sqlite:///file:{path}?mode=ro&uri=true"), clock=clock,
        twilio=twilio)
    commsvc_log = logging.getLogger("commsvc")
    commsvc_log.addHandler(caplog.handler)  # the service's logger does not propagate
    try:
        refused = read_only.test_client().post("/v1/sessions", headers=headers, json={
            "booking_id": "bk_1", "requester": {"phone": "+14155550101"},
            "pro": {"phone": "+14155550202"}})
    finally:
        commsvc_log.removeHandler(caplog.handler)
        read_only.extensions["db"].dispose()

    assert (refused.status_code, refused.get_json()["type"]) == (503, "database-unavailable")
    [line] = [r.getMessage() for r in caplog.records if r.name == "commsvc.errors"]
    assert line == (
        "database unavailable: the SQLite file of DATABASE_URL cannot be opened and written:"
        " this user must be able to read and write the file and write its directory (SQLite"
        " keeps its -wal and -shm files beside it)")
