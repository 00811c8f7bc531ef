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
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsvc import migrate
from commsvc.app import create_app
from commsvc.cli import main
from tests.conftest import pool_and_booking_key
from tests.test_cli_config_errors import FERNET_KEY
from tests.test_gunicorn_errors import web_process


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


def _holding_the_database(path):
    """A process with the database open, as the web's are, and a last write in its -wal."""
    process = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys\n"
        f"db = sqlite3.connect({str(path)!r})\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute(\"INSERT INTO alembic_version VALUES ('its last write')\")\n"
        "db.commit()\n"
        "print('open', flush=True)\n"
        "sys.stdin.read()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "open\n"
    return process


def _db_upgrade(url: str):
    return CliRunner().invoke(main, ["db", "upgrade"], prog_name="commsvc", env={
        "COMMSVC_ENV": "test", "ENCRYPTION_KEYS": FERNET_KEY, "HMAC_KEY": "h",
        "TWILIO_AUTH_TOKEN": "t", "DATABASE_URL": url})


def test_no_new_database_is_made_beside_the_write_ahead_log_of_a_deleted_one(tmp_path):
    """Found by running `commsvc db upgrade` after deleting the file of a running `make run`
    (as the 503s' log line says to): with the web's connections still on the deleted file, the
    new empty file beside their write-ahead log failed with "disk I/O error", and the log (3.3
    MB of the deleted database's last writes) was truncated to nothing."""
    path = tmp_path / "commsvc.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    running = _holding_the_database(path)
    try:
        path.unlink()
        wal = path.with_name("commsvc.db-wal").read_bytes()

        result = _db_upgrade(url)

        assert path.with_name("commsvc.db-wal").read_bytes() == wal
    finally:
        running.communicate("")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: DATABASE_URL names the SQLite file {path}, which is gone while processes"
        f" still have it open through its write-ahead log {path}-wal (it was deleted or moved"
        f" under them): stop every commsvc process, then put the file back, or move"
        f" {path}-wal and {path}-shm away to start a new database\n")
    assert not path.exists()

    # Once no process has it open, a leftover -wal (as a crash leaves one) is no one's: a new
    # database, as before.
    assert _db_upgrade(url).exit_code == 0
    assert sqlite3.connect(path).execute("SELECT version_num FROM alembic_version").fetchall(
        ) == [(migrate.revisions()[0],)]


def _worker_pids(master: int) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def _readyz(port: int) -> int | None:
    """/readyz's status; None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code
    except OSError:  # refused, or reset by a process going down
        return None


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads a process's children")
def test_a_web_worker_started_while_the_file_is_gone_answers_503_and_the_web_stays_up(tmp_path):
    """Found by a review of a3a25dd: with the file deleted under the web and the worker and
    clock (which keep it open), a web worker gunicorn started again (after a crash, a timeout,
    a reload) refused to start as a new process does, gunicorn took that for "Worker failed to
    boot" and shut the whole web process down: no 503, no answer at all, nor once the file was
    put back. The master checks the file when the web process starts; its workers serve."""
    path = tmp_path / "commsvc.db"
    migrate.upgrade(f"sqlite:///{path}")
    holder = subprocess.Popen([sys.executable, "-c", (  # the worker's and clock's connections
        "import sqlite3, sys\n"
        f"db = sqlite3.connect({str(path)!r})\n"
        "db.execute('SELECT * FROM alembic_version').fetchall()\n"
        "print('open', flush=True)\n"
        "sys.stdin.read()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        with web_process(tmp_path) as (web, port):
            assert _readyz(port) == 200
            [worker] = _worker_pids(web.pid)
            path.rename(tmp_path / "moved.db")
            os.kill(worker, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while web.poll() is None and _worker_pids(web.pid) in (set(), {worker}) \
                    and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1)  # the new worker boots, or fails to
            gone = _readyz(port)
            (tmp_path / "moved.db").rename(path)
            back = _readyz(port)
    finally:
        holder.communicate("")
    assert (gone, back) == (503, 200)
