"""SQLite's side: the pragmas and BEGIN of every connection, and the database file, made
readable by its owner only and never served once deleted or replaced under the process."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from commsvc.config.database_url import sqlite_opened
from commsvc.config.settings import ConfigError

# How long a SQLite writer waits for another's write lock before giving up (a 503)
SQLITE_BUSY_TIMEOUT_MS = 5000
# ... and how long the checkpoint after an erasure waits (Database.checkpoint_deleted), for
# every other writer waits with it
CHECKPOINT_WAIT_MS = 100


def _sqlite_pragmas(dbapi_connection, _record):
    # Let SQLAlchemy drive transactions (SAVEPOINT needs it) and wait on locks rather than fail.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    # What is deleted (an erasure, retention) is overwritten in the file, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    # ... and not left in the -wal file: SQLite reuses it from its start after a checkpoint
    # without shortening it, so earlier page images (deleted rows' numbers) stayed in it for
    # as long as a process had the database open. With 0, the first write after a complete
    # checkpoint cuts the file to what it writes.
    cursor.execute("PRAGMA journal_size_limit=0")
    cursor.close()


def _sqlite_file(url: str) -> str | None:
    """The file SQLite would create for this URL, as the driver reads it (None: not SQLite, a
    database in memory, or read-only). `sqlite:///file:app.db?mode=rwc&uri=true` opens app.db;
    without uri=true, or without `file:`, SQLite takes the whole name as a file's."""
    if not url.startswith("sqlite"):
        return None  # another database's path is a database name, not a file
    path, mode = sqlite_opened(url)
    return None if mode in ("memory", "ro") or path in ("", ":memory:") else path


# The byte of the -shm file every process with the database open holds a read lock on (SQLite's
# unix VFS: UNIX_SHM_DMS, its "dead man switch").
SQLITE_SHM_DMS = 128


def _still_open(path: str) -> bool:
    """Whether a process has this SQLite database open in WAL mode (a lock on its -shm file).
    Only a process with no connection to it may ask: POSIX locks are per process, and closing
    any descriptor of the file drops the process's own."""
    try:
        import fcntl  # POSIX only: elsewhere no process is taken to have it open
        fd = os.open(f"{path}-shm", os.O_RDWR)
    except (ImportError, OSError):
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SQLITE_SHM_DMS)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, SQLITE_SHM_DMS)
        return False
    finally:
        os.close(fd)


def missing_sqlite_file(url: str) -> str | None:
    """The SQLite file of this URL (absolute) when there is none yet: `commsvc db upgrade`
    makes it. None for any other database, or a file there is, or one deleted under processes
    that still have it open (create_sqlite_file says so)."""
    path = _sqlite_file(url)
    if path is None or os.path.exists(path := os.path.abspath(path)) or _still_open(path):
        return None
    return path


def create_sqlite_file(url: str, *, refuse_when_gone: bool = True) -> None:
    """Create a new SQLite database file readable by its owner only (it holds people's numbers
    and messages; its -wal and -shm files take its mode). An existing file is left as it is.
    Any other database's URL creates nothing (its path is a database name, not a file).

    A file deleted while processes still have it open is not made again: ConfigError when a
    process starts (the CLI, gunicorn's master); `refuse_when_gone=False` (an engine, in a web
    worker gunicorn starts again meanwhile) leaves it to the engine's guard, a 503 until the
    file is back: the worker's failure to boot shut the whole web process down."""
    path = _sqlite_file(url)
    if path is None:
        return
    path = os.path.abspath(path)
    if not os.path.exists(path) and _still_open(path):
        if not refuse_when_gone:
            return
        # Deleted under processes still writing through its log: SQLite met a new file
        # beside that log with "disk I/O error", and truncated it, the last copy of the
        # deleted database's latest writes.
        raise ConfigError(f"DATABASE_URL names the SQLite file {path}, which is gone while"
                          f" processes still have it open through its write-ahead log"
                          f" {path}-wal (it was deleted or moved under them): stop every"
                          f" commsvc process, then put the file back, or move {path}-wal and"
                          f" {path}-shm away to start a new database")
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        # No such directory, or one this user may not write. SQLite's own words, at the first
        # query, were "the database is not answering: unable to open database file", as if a
        # server were down, and named no file (a relative URL is relative to the directory
        # the process starts in).
        raise ConfigError(f"DATABASE_URL names the SQLite file {path}, which"
                          f" cannot be created ({exc.strerror}): create its directory or make"
                          f" it writable") from None


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _guard_sqlite_file(engine: Engine, path: str) -> None:
    """Serve the SQLite file at `path` only, never one deleted or replaced under the process.
    A pooled connection keeps the file it opened: after `rm commsvc.db` (or `make clean`) it
    went on answering every write 201 into a file no process would ever read again, and
    /readyz said ready. Now a connection whose file is no longer at `path` is dropped at
    checkout, and no connection makes a new, empty file there (create_sqlite_file, when a
    process starts, or `commsvc db upgrade`, does): 503 until the file is back."""

    def refuse_a_missing_file(dialect, _record, _cargs, _cparams):
        if _file_identity(path) is None:
            raise dialect.loaded_dbapi.OperationalError(
                f"the SQLite file {os.path.abspath(path)} is gone (deleted or moved while the"
                f" service ran): put it back, or stop every commsvc process and run `commsvc db"
                f" upgrade` for a new one")

    def note_file(_dbapi_connection, record):
        record.info["sqlite_file"] = _file_identity(path)

    def same_file(_dbapi_connection, record, _proxy):
        current = _file_identity(path)
        if current is None or current != record.info.get("sqlite_file"):
            raise DisconnectionError(f"the SQLite file {path} was deleted or replaced")

    event.listen(engine, "do_connect", refuse_a_missing_file)
    event.listen(engine, "connect", note_file)
    event.listen(engine, "checkout", same_file)


def _sqlite_begin(conn):
    # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
    # one failing with "database is locked" when it upgrades from reader to writer.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn):
    # For the units of work that only read (get_db(reads_only=True)): a WAL reader never waits
    # for a writer, so a migration, an erasure or a shell holding the write lock no longer
    # turns every read and /readyz into a 503. Not for one that writes after reading: its
    # write would fail at once, not wait, if another writer committed in between.
    conn.exec_driver_sql("BEGIN")


def make_sqlite_engine(url: str, *, deferred_begin: bool = False, **kwargs) -> Engine:
    """make_engine's engine for a SQLite URL: its pragmas, its BEGIN, its file guarded."""
    create_sqlite_file(url, refuse_when_gone=False)  # the process's start refused it
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_deferred if deferred_begin else _sqlite_begin)
    path = _sqlite_file(url)
    if path is not None:
        _guard_sqlite_file(engine, path)
    return engine
