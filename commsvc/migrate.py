"""Apply Alembic migrations: the only way the schema is made, in tests too."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from commsvc.db.failures import SQLITE_BUSY
from commsvc.db.sqlite import SQLITE_BUSY_TIMEOUT_MS

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None, connection=None) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        cfg.attributes["url"] = url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def revisions() -> tuple[str, tuple[str, ...]]:
    """(head, every revision before it) of the migrations this code ships."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    return head, tuple(r.revision for r in scripts.walk_revisions() if r.revision != head)


def upgrade(url: str | None = None, connection=None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url, connection), revision)


def current_revision(connection) -> str | None:
    """The revision the database is at; None when it has no schema yet."""
    return MigrationContext.configure(connection).get_current_revision()


class NotMigratable(RuntimeError):
    """The database is in a state these migrations cannot start from; nothing was changed."""


class UnknownRevision(NotMigratable):
    """The database is at a revision these migrations do not know: Alembic can neither go on
    from it nor tell whether it is newer, and would stop with a traceback."""


class UnrecordedSchema(NotMigratable):
    """The database holds commsvc's tables but records no revision (alembic_version missing or
    empty: a partial restore, a row deleted by hand): Alembic would start from the first
    migration and stop with a traceback at its first CREATE TABLE."""


# pg advisory lock key of a migration: "migrate" in ASCII
MIGRATION_LOCK_KEY = 0x6D696772617465

# How long a migration on PostgreSQL waits for a table's lock once it holds the migration
# lock. Every request to that table queues behind the waiting migration: without a limit a
# pg_dump (ACCESS SHARE on every table for its whole run) or a transaction left open held back
# every consent check and relayed text until it ended, each a 503 at its statement timeout.
MIGRATION_LOCK_TIMEOUT = "5s"


# How long a migration on SQLite waits for another process's write lock: another migration's
# (0011 rebuilds four tables, ~15 s a million messages) is waited for, as PostgreSQL's lock is.
SQLITE_MIGRATION_WAIT_MS = 15 * 60 * 1000


# How long it waits for that lock before it says it is waiting (a webhook holds it for ms).
SQLITE_QUIET_WAIT_MS = 1000


@contextmanager
def migration_transaction(engine, waiting: Callable[[str], None] | None = None) -> Iterator:
    """A connection in a transaction for upgrade_connection. On SQLite it waits for the write
    lock as long as a migration may take, not the 5 s of every writer: a `db upgrade` started
    beside a long one (`make run` and `make simulate` after a pull) said 'the database is not
    answering: database is locked'. `waiting` is told what is waited for when the lock is not
    free within SQLITE_QUIET_WAIT_MS, before the long wait."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        try:
            with _sqlite_begin(connection, waiting) if sqlite else connection.begin():
                yield connection
        finally:
            if sqlite:
                _busy_timeout(connection, SQLITE_BUSY_TIMEOUT_MS)


def _sqlite_begin(connection, waiting: Callable[[str], None] | None):
    """The migration's transaction on SQLite (BEGIN IMMEDIATE, the write lock up front)."""
    _busy_timeout(connection, SQLITE_QUIET_WAIT_MS)
    try:
        return connection.begin()
    except OperationalError as exc:
        if not (getattr(exc.orig, "sqlite_errorname", None) or "").startswith(SQLITE_BUSY):
            raise
    if waiting is not None:
        waiting(f"another process to let go of the SQLite database's write lock (another"
                f" `commsvc db upgrade`, a long write; up to"
                f" {SQLITE_MIGRATION_WAIT_MS // 60000} minutes)")
    _busy_timeout(connection, SQLITE_MIGRATION_WAIT_MS)
    return connection.begin()


def _busy_timeout(connection, milliseconds: int) -> None:
    # On the driver's connection: a statement here would begin the transaction.
    connection.connection.driver_connection.execute(f"PRAGMA busy_timeout={milliseconds}")


def upgrade_connection(connection, waiting: Callable[[str], None] | None = None
                       ) -> tuple[str | None, str | None]:
    """Apply every pending migration on the connection; (revision before, revision after).

    On PostgreSQL one migration runs at a time: release steps started together (one per
    container or deploy) wait for the first, then find the schema where it left it. Without
    the lock both created alembic_version, and the second died with a traceback. Nor does a
    statement timeout in DATABASE_URL cut the wait or a migration short; but a table's lock
    that another transaction holds is waited for MIGRATION_LOCK_TIMEOUT only (a lock timeout,
    everything rolled back), not while the service's requests to that table queue behind it.
    `waiting` is told what is waited for when another migration holds the lock, before the wait.
    """
    if connection.dialect.name == "postgresql":
        # Not the statement timeout a production DATABASE_URL carries (README): the release
        # step waits for the one before it, and builds indexes on large tables.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        lock = {"key": MIGRATION_LOCK_KEY}  # held to the end of the transaction
        if not connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), lock):
            if waiting is not None:
                waiting("another `commsvc db upgrade` to finish migrating this database (it"
                        " holds the migration lock; no time limit)")
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), lock)
        connection.execute(text(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'"))
    before = current_revision(connection)
    head, older = revisions()
    if before is not None and before != head and before not in older:
        raise UnknownRevision(
            f"the database is at revision {before}, which this code's migrations (up to {head})"
            f" do not include: a newer release (or another application) migrated it; nothing"
            f" was changed")
    if before is None:
        _check_no_schema(connection)
    upgrade(connection=connection)
    return before, current_revision(connection)


def _check_no_schema(connection) -> None:
    """Refuses (UnrecordedSchema) a database with no revision that holds commsvc's tables."""
    from commsvc.models import metadata

    tables = set(inspect(connection).get_table_names())
    found = sorted(tables & set(metadata.tables))
    if found:
        shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
        # Alembic's stamp writes the revision whether the table is empty or gone (it makes it):
        # an INSERT, once advised for both, had no table to go into after a DROP.
        raise UnrecordedSchema(
            f"the database has commsvc's tables ({shown}) but no migration revision recorded"
            f" (its alembic_version table is"
            f" {'empty' if 'alembic_version' in tables else 'missing'}): record the revision of"
            f" the backup the tables came from (`alembic stamp <revision>`, with this"
            f" DATABASE_URL, in the directory of alembic.ini), then run `commsvc db upgrade`"
            f" again; nothing was changed")
