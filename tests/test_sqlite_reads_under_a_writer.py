"""SQLite in WAL mode: reads never wait for a writer. Found by an operator's audit: every unit
of work began IMMEDIATE, so a migration, an erasure or a shell holding the write lock turned
every read, and /readyz, into a 503 after busy_timeout."""
from __future__ import annotations

import contextlib
import dataclasses
import sqlite3

import pytest
from click.testing import CliRunner

from commsvc import migrate
from commsvc.app import create_app
from commsvc.auth import service as keys
from commsvc.cli import main
from commsvc.db import sqlite as db_sqlite
from tests.test_unmigrated_database import settings


@pytest.fixture
def file_app(config, clock, twilio, tmp_path):
    """The app on a migrated SQLite file (busy.db), which other connections may lock."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    migrate.upgrade(url)
    app = create_app(dataclasses.replace(config, database_url=url), clock=clock, twilio=twilio)
    yield app
    app.extensions["db"].dispose()


@contextlib.contextmanager
def _write_lock_held(tmp_path):
    """Another connection holds busy.db's write lock meanwhile (a shell, an erasure)."""
    writer = sqlite3.connect(tmp_path / "busy.db", isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        yield
        writer.execute("ROLLBACK")
    finally:
        writer.close()


def test_reads_and_readyz_answer_while_another_connection_holds_the_write_lock(
        file_app, clock, tmp_path):
    client = file_app.test_client()
    with file_app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="ops", role="ops", now=clock())
        db.commit()
    with _write_lock_held(tmp_path):
        ready = client.get("/readyz")
        numbers = client.get("/v1/numbers", headers={"Authorization": f"Bearer {raw}"})
    assert (ready.status_code, ready.get_json()["database"]) == (200, "up")
    assert numbers.status_code == 200 and numbers.get_json()["data"] == []


def test_the_console_reads_answer_while_another_connection_holds_the_write_lock(file_app, tmp_path):
    # The CLI's reads began IMMEDIATE too: while an erasure, a migration or a shell held the
    # write lock, `commsvc logs messages` failed with "database is locked" where the API
    # answered, and `audit verify` held every webhook's write off for its whole walk; so did
    # `numbers list` and `keys list`.
    runner = file_app.test_cli_runner()
    with _write_lock_held(tmp_path):
        results = {args: runner.invoke(args=args.split())
                   for args in ("logs messages", "logs calls --json", "audit verify",
                                "numbers list", "keys list")}
    assert {args: r.exit_code for args, r in results.items()} == dict.fromkeys(results, 0)
    assert results["logs messages"].output.startswith("ID ")  # the table's header, no rows
    assert results["logs calls --json"].output == ""
    assert results["audit verify"].output.startswith("audit chain OK: 0 events verified")
    assert results["numbers list"].output.startswith("NUMBER ")
    assert results["keys list"].output.startswith("ID ")



def test_a_reasoned_read_at_the_console_behind_a_long_writer_says_the_database_is_busy(
        file_app, tmp_path, monkeypatch):
    # A reasoned read writes its audit event, so it waits for the write lock (here 0.1 s), then
    # gives up. It said "the database is not answering: database is locked", as if a server
    # were down, where another process holds the lock and the read only has to be run again.
    writers_pragmas = db_sqlite._sqlite_pragmas

    def writers_wait_a_tenth(dbapi_connection, record):
        writers_pragmas(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    monkeypatch.setattr(db_sqlite, "_sqlite_pragmas", writers_wait_a_tenth)
    with _write_lock_held(tmp_path):
        result = CliRunner().invoke(main, ["logs", "calls", "--reason", "ticket 12"],
                                    env=settings(f"sqlite:///{tmp_path / 'busy.db'}"))
    assert result.exit_code == 1
    assert result.stderr == ("Error: the database is busy: another process has held its write"
                             " lock too long (a migration, an erasure, a retention run?); try"
                             " again once it is done\n")
    assert result.stdout == ""
