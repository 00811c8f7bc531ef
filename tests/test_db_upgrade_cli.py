"""`commsvc db upgrade` says what it did: the revisions it moved between, or where it already is."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from commsvc import migrate
from commsvc.cli import main
from commsvc.db import sqlite as db_sqlite
from tests.conftest import AUTH_TOKEN, BASE_URL, TEST_KEY
from tests.test_unmigrated_database import empty_url  # noqa: F401  (a fixture)

SCRIPTS = ScriptDirectory.from_config(migrate.alembic_config())
HEAD = SCRIPTS.get_current_head()
PREVIOUS = SCRIPTS.get_revision(HEAD).down_revision


def _production(url: str) -> dict[str, str]:
    """What a production process of commsvc on url is given."""
    return {"DATABASE_URL": url, "COMMSVC_ENV": "production", "ENCRYPTION_KEYS": TEST_KEY,
            "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": BASE_URL}


def _refused(url: str) -> list[str]:
    """The lines `db upgrade` on url writes to stderr, refusing (exit 1, no traceback)."""
    result = CliRunner().invoke(main, ["db", "upgrade"], env=_production(url),
                                prog_name="commsvc")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr.splitlines()


def upgrade(url: str):
    result = CliRunner().invoke(main, ["db", "upgrade"], env=_production(url),
                                prog_name="commsvc")
    assert result.exit_code == 0, result.output
    return result.stdout


def _upgraded_beside(hold, url: str):
    """`db upgrade` on url (click's result) while hold(holding, done) runs in a thread: it sets
    holding once it holds its lock, and lets go once done is set (or its own time is up)."""
    holding, done = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold, args=(holding, done), daemon=True)
    holder.start()
    holding.wait(10)
    try:
        return CliRunner().invoke(main, ["db", "upgrade"], env=_production(url),
                                  prog_name="commsvc")
    finally:
        done.set()
        holder.join(10)


def _upgrade_beside(hold, url: str) -> str:
    """What _upgraded_beside's `db upgrade` printed, having succeeded."""
    result = _upgraded_beside(hold, url)
    assert result.exit_code == 0, result.output
    return result.stdout


def _sqlite_writer(url: str, until: threading.Event | None = None, seconds: float = 3):
    """A hold for _upgrade(d)_beside: another process's connection to url's SQLite file holding
    its write lock until `until` (else _upgrade(d)_beside's done) is set, or `seconds` pass."""

    def hold(holding, done) -> None:
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        holding.set()
        (until or done).wait(seconds)
        connection.execute("COMMIT")
        connection.close()

    return hold


def test_upgrading_a_new_database_says_it_made_the_schema_then_that_it_is_up_to_date(
        empty_url):  # noqa: F811
    assert upgrade(empty_url) == f"upgraded the database from nothing to {HEAD}\n"
    assert upgrade(empty_url) == f"database is up to date (at {HEAD})\n"


def test_upgrading_from_an_older_revision_names_both(empty_url):  # noqa: F811
    migrate.upgrade(empty_url, revision=PREVIOUS)

    assert upgrade(empty_url) == f"upgraded the database from {PREVIOUS} to {HEAD}\n"


def test_release_steps_started_together_migrate_once_and_all_succeed(
        empty_url, backend):  # noqa: F811
    """Found by an operator's audit: two `commsvc db upgrade` at once on a new database, and
    one died with a traceback (both created alembic_version)."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite is one file on one machine")
    barrier = threading.Barrier(3, timeout=20)
    outcomes: list = []

    def release() -> None:
        engine = sa.create_engine(empty_url)
        try:
            barrier.wait()
            with engine.begin() as connection:
                outcomes.append(migrate.upgrade_connection(connection))
        except Exception as exc:  # recorded: the assertion below names it
            outcomes.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=release, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes, key=str) == sorted(
        [(None, HEAD), (HEAD, HEAD), (HEAD, HEAD)], key=str), outcomes


def test_a_database_migrated_by_a_newer_release_is_one_line_not_a_traceback(
        empty_url):  # noqa: F811
    """Found by an operator's audit: after rolling the code back (or pointed at a database a
    newer branch migrated), `commsvc db upgrade` printed Alembic's 100-line traceback."""
    migrate.upgrade(empty_url)
    engine = sa.create_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    assert _refused(empty_url) == [
        f"Error: the database is at revision 9999, which this code's migrations (up to {HEAD})"
        " do not include: a newer release (or another application) migrated it; nothing was"
        " changed"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
            == "9999"
    engine.dispose()


@pytest.mark.parametrize(("lost", "table"), [("DELETE FROM alembic_version", "empty"),
                                              ("DROP TABLE alembic_version", "missing")],
                         ids=["row deleted", "table dropped"])
def test_a_schema_whose_revision_is_lost_is_one_line_not_a_traceback(empty_url, lost, table):  # noqa: F811
    """Found by the operator docs' walk: with commsvc's tables there and alembic_version empty
    (a partial restore, a row deleted by hand), `db upgrade` ran the first migration again and
    printed a 130-line traceback ending in 'relation "api_keys" already exists'. Found by
    ops3's walk: with the table dropped, the line advised an INSERT INTO alembic_version,
    which failed (no such table). It now advises `alembic stamp`, which does both: followed,
    `db upgrade` finds the schema up to date."""
    migrate.upgrade(empty_url)
    engine = sa.create_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(sa.text(lost))
    assert _refused(empty_url) == [
        "Error: the database has commsvc's tables (api_keys, audit_events, calls, ...) but no"
        f" migration revision recorded (its alembic_version table is {table}): record the"
        " revision of the backup the tables came from (`alembic stamp <revision>`, with this"
        " DATABASE_URL, in the directory of alembic.ini), then run `commsvc db upgrade` again;"
        " nothing was changed"]
    with engine.begin() as connection:
        assert migrate.current_revision(connection) is None
    engine.dispose()
    # As the line says: `alembic stamp HEAD` in the directory of alembic.ini.
    stamped = subprocess.run([str(Path(sys.executable).parent / "alembic"), "stamp", HEAD],
                             cwd=migrate.ROOT, env={**os.environ, **_production(empty_url)},
                             capture_output=True, text=True, timeout=120)
    assert stamped.returncode == 0, stamped.stderr[-2000:]
    assert upgrade(empty_url) == f"database is up to date (at {HEAD})\n"


def test_a_release_step_beside_a_long_sqlite_migration_waits_for_it(
        empty_url, backend, monkeypatch):  # noqa: F811
    """Found by an upgrade audit: `make run` after a pull migrating a large SQLite file (0011
    rebuilds four tables, about 15 s a million messages) and `make simulate` started beside
    it: its `db upgrade` gave up after the 5 s every writer waits, saying 'error: the database
    is not answering: database is locked', where PostgreSQL's waits for the first. Here every
    writer waits 0.1 s, and another process holds the write lock for a second."""
    if backend != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's release steps queue on an advisory lock")
    writers_pragmas = db_sqlite._sqlite_pragmas

    def writers_wait_a_tenth(dbapi_connection, record):
        writers_pragmas(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    monkeypatch.setattr(db_sqlite, "_sqlite_pragmas", writers_wait_a_tenth)
    migrate.upgrade(empty_url, revision=PREVIOUS)

    assert _upgrade_beside(_sqlite_writer(empty_url), empty_url) == (
        f"upgraded the database from {PREVIOUS} to {HEAD}\n")


def test_a_release_step_waiting_for_sqlites_write_lock_says_so(
        empty_url, backend, monkeypatch):  # noqa: F811
    """Found by ops3's walk: on SQLite too, a `db upgrade` beside another process holding the
    write lock (a migration, a long write) waited up to 15 minutes in silence (20 s walked).
    Past a second without the lock it says what it waits for. Here the holder lets go as soon
    as that is said."""
    if backend != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's release steps queue on an advisory lock")
    from commsvc import db_cli

    migrate.upgrade(empty_url, revision=PREVIOUS)
    said = threading.Event()
    say_waiting = db_cli._say_waiting

    def saying_it(waited_for: str) -> None:
        say_waiting(waited_for)
        said.set()

    monkeypatch.setattr(db_cli, "_say_waiting", saying_it)

    result = _upgraded_beside(_sqlite_writer(empty_url, until=said, seconds=30), empty_url)
    assert (result.exit_code, result.stdout) == (
        0, f"upgraded the database from {PREVIOUS} to {HEAD}\n")
    assert result.stderr == ("waiting for another process to let go of the SQLite database's"
                             " write lock (another `commsvc db upgrade`, a long write; up to 15"
                             " minutes)\n")


def test_a_release_step_on_a_url_with_a_statement_timeout_waits_for_the_one_before_it(
        empty_url, backend):  # noqa: F811
    """Found by an upgrade audit: with the production DATABASE_URL the README recommends
    (`options=-c statement_timeout=10000`), the Procfile's release step waiting for another
    past the timeout (or building 0013's index on a large messages table) failed: 'error: the
    database is not answering: canceling statement due to statement timeout'. Here the
    timeout is 0.1 s and the release step before it holds the migration lock for a second."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no statement timeout")
    url = sa.engine.make_url(empty_url)
    url = url.update_query_dict(
        {"options": f"{url.query['options']} -cstatement_timeout=100"}).render_as_string(
        hide_password=False)
    migrate.upgrade(empty_url, revision=PREVIOUS)

    def the_release_step_before(holding, done) -> None:
        engine = sa.create_engine(empty_url)
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": migrate.MIGRATION_LOCK_KEY})
            holding.set()
            done.wait(1)
        engine.dispose()

    assert _upgrade_beside(the_release_step_before, url) == (
        f"upgraded the database from {PREVIOUS} to {HEAD}\n")


def test_a_release_step_waiting_for_the_one_before_it_says_so(empty_url, backend):  # noqa: F811
    """Found by ops3's walk: a release step started while another held the migration lock
    waited for it in silence (25 s for a psql session holding it 25 s), for as long as the
    other's migrations took, and looked hung. It says, on stderr, what it waits for."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's migrations queue on its write lock")
    migrate.upgrade(empty_url, revision=PREVIOUS)

    def the_release_step_before(holding, done) -> None:
        """Holds the migration lock until the release step queues behind it."""
        engine = sa.create_engine(empty_url)
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": migrate.MIGRATION_LOCK_KEY})
            holding.set()
            with engine.connect() as watching:
                while not done.wait(0.05) and not watching.scalar(sa.text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND NOT granted AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())")):
                    pass
        engine.dispose()

    result = _upgraded_beside(the_release_step_before, empty_url)
    assert (result.exit_code, result.stdout) == (
        0, f"upgraded the database from {PREVIOUS} to {HEAD}\n")
    assert result.stderr == ("waiting for another `commsvc db upgrade` to finish migrating this"
                             " database (it holds the migration lock; no time limit)\n")
    # Alone, it says nothing of the kind.
    again = CliRunner().invoke(main, ["db", "upgrade"], env=_production(empty_url),
                               prog_name="commsvc")
    assert (again.stdout, again.stderr) == (f"database is up to date (at {HEAD})\n", "")


def test_a_release_step_gives_up_a_table_another_transaction_holds_rather_than_queue_the_service(
        empty_url, backend, monkeypatch):  # noqa: F811
    """Found by a review of the fix above: with the statement timeout set aside, the release
    step waited for as long as a pg_dump (ACCESS SHARE on every table) ran, and every consent
    check and relayed text queued behind its ALTER TABLE, each a 503 at its own timeout, where
    before the release step had failed and the service went on. It now gives up the lock after
    MIGRATION_LOCK_TIMEOUT, nothing changed, and says why."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite the processes are stopped for a migration")
    monkeypatch.setattr(migrate, "MIGRATION_LOCK_TIMEOUT", "100ms", raising=False)
    migrate.upgrade(empty_url, revision=PREVIOUS)

    def a_backup(holding, done) -> None:
        engine = sa.create_engine(empty_url)
        with engine.begin() as connection:
            tables = connection.scalars(sa.text(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"))
            connection.execute(sa.text(f"LOCK TABLE {', '.join(tables)} IN ACCESS SHARE MODE"))
            holding.set()
            done.wait(3)
        engine.dispose()

    holding, done = threading.Event(), threading.Event()
    holder = threading.Thread(target=a_backup, args=(holding, done), daemon=True)
    holder.start()
    holding.wait(10)
    env = {"DATABASE_URL": empty_url, "COMMSVC_ENV": "production", "ENCRYPTION_KEYS": TEST_KEY,
           "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": BASE_URL}
    try:
        result = CliRunner().invoke(main, ["db", "upgrade"], env=env, prog_name="commsvc")
    finally:
        done.set()
        holder.join(10)

    assert result.exit_code == 1
    assert "gave up rather than hold back the service's requests" in result.output
    assert "nothing was changed" in result.output
    engine = sa.create_engine(empty_url)
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == PREVIOUS
    engine.dispose()


@pytest.mark.parametrize("args", [["logs", "messages"], ["audit", "verify"], ["numbers", "list"],
                                  ["keys", "list"]])
def test_a_read_before_the_database_is_set_up_says_so_and_leaves_no_file(tmp_path, args):
    """Found in review: on the SQLite default with no file yet, a read made an empty file
    (and then said the schema was missing), which every later command took as a database."""
    path = tmp_path / "commsvc.db"
    env = {"DATABASE_URL": f"sqlite:///{path}", "COMMSVC_ENV": "development",
           "ENCRYPTION_KEYS": TEST_KEY, "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}

    result = CliRunner().invoke(main, args, env=env, prog_name="commsvc")

    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: the database is not set up: there is no SQLite file {path};"
                             " run `commsvc db upgrade` (`make run` does it), or set DATABASE_URL"
                             " to the database the server uses\n")
    assert not path.exists()
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0  # it makes it
    assert CliRunner().invoke(main, args, env=env).exit_code == 0
