"""Engine, session factory and the column types shared by every model."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, g
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    create_engine,
    event,
    func,
    make_url,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from commsvc.config.settings import ConfigError

T = TypeVar("T")
log = logging.getLogger("commsvc.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The INSERT construct with ON CONFLICT of each database, by dialect name.
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_for(db: Session):
    """This session's database's INSERT construct, the one with ON CONFLICT."""
    return INSERTS[db.get_bind().dialect.name]


# Integer primary keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# In __table_args__ of a table whose rows are deleted (erasure, retention) while ids name them
# elsewhere (audit details, exports): SQLite would give the newest deleted row's id again
# (migration 0011); PostgreSQL's sequences never do.
NEVER_REUSED_IDS = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# How long a SQLite writer waits for another's write lock before giving up (a 503)
SQLITE_BUSY_TIMEOUT_MS = 5000


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
    parsed = make_url(url)
    (path,), options = parsed.get_dialect()().create_connect_args(parsed)
    if options.get("uri") and path.startswith("file:"):
        uri = urlsplit(path)
        if parse_qs(uri.query).get("mode") in (["memory"], ["ro"]):
            return None
        path = unquote(uri.path)
    return None if path in ("", ":memory:") else path


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


# psycopg prepares a statement run 5 times on a connection; PostgreSQL then kept planning the
# allocation INSERT … SELECT and the open-session lookup afresh at every execution (custom
# plans: 0.27 and 0.17 ms each, a third of a session creation's database CPU). Every hot
# statement here filters by equality on indexed columns, where one generic plan is as good.
PLAN_CACHE_MODE = "force_generic_plan"


# How long a long-running process (worker, clock) waits before trying a database that did not
# answer again.
DATABASE_RETRY_SECONDS = 5.0

# PostgreSQL's SQLSTATEs for a relation, and a column, that does not exist
UNDEFINED_TABLE, UNDEFINED_COLUMN = "42P01", "42703"
# SQLite's words for the same (a column read, a column written)
_SQLITE_NOT_MIGRATED = ("no such table", "no such column", "has no column named")


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out


def lock_timed_out(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


# What one transaction met, not the database: a deadlock, a serialization failure, a lock wait
# run out. The database serves; the next transaction may well pass.
ROW_CONFLICTS = {"40P01", "40001", LOCK_NOT_AVAILABLE}


def row_conflict(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in ROW_CONFLICTS


def lock_or_unavailable(db: Session, lock_statement, *, wait: str, busy: str) -> None:
    """Run a statement that takes a lock on PostgreSQL, waiting at most `wait` (lock_timeout,
    for it alone): a request queued for a lock holds back every later one that conflicts, so
    it must not wait as long as a long holder (an erasure) runs. Busy(busy) (503, with
    Retry-After) when the wait runs out; the caller's transaction is then to be rolled back."""
    from commsvc.errors import Busy  # errors imports this module

    before = db.execute(text("SELECT current_setting('lock_timeout'),"
                             " set_config('lock_timeout', :wait, true)"), {"wait": wait}).scalar()
    try:
        db.execute(lock_statement)
    except OperationalError as exc:
        if not lock_timed_out(exc):
            raise
        raise Busy(busy) from None
    db.execute(text("SELECT set_config('lock_timeout', :before, true)"), {"before": before})


def schema_missing(error: DBAPIError) -> bool:
    """The database answered, but lacks a table or a column of this code's: `commsvc db
    upgrade` was never run, or not since this code came (the web process of a new release
    started before its release step: a 500 and a traceback to every request that met a new
    column, a STOP text among them)."""
    orig = error.orig
    return (getattr(orig, "sqlstate", None) in (UNDEFINED_TABLE, UNDEFINED_COLUMN)
            or (isinstance(error, OperationalError)
                and any(words in str(orig) for words in _SQLITE_NOT_MIGRATED)))


# SQLSTATEs of a database that cannot serve now but will (the rest of that kind are
# OperationalErrors). psycopg raises a read-only transaction's as an InternalError, which
# without this list was a 500 to every writing request during a failover.
TRANSIENT_SQLSTATES = {
    "25006": "it is read-only (a failover?)", "57P01": "it is shutting down",
    "57P02": "it is shutting down", "57P03": "it is starting up",
}


# SQLite's refusals to open or write its file, for the user the process runs as (Python 3.11's
# sqlite_errorname): SQLITE_CANTOPEN ("unable to open database file": a file it may not read,
# a directory given as the file) and SQLITE_READONLY and its extended codes ("attempt to write
# a readonly database": a file it may not write, or SQLITE_READONLY_DIRECTORY, a directory it
# may not write, where WAL mode keeps the -wal and -shm files).
SQLITE_CANNOT_OPEN = ("SQLITE_CANTOPEN", "SQLITE_READONLY")
SQLITE_BUSY = "SQLITE_BUSY"  # and its extended codes: another connection held the write lock


def operator_problem(error: DBAPIError) -> str | None:
    """One line for the operator when a database error is theirs to fix or will pass (the
    database is not answering, not migrated, read-only, shutting down), else None (a bug)."""
    if schema_missing(error):
        return ("the database has no commsvc schema, or not this code's: run `commsvc db"
                " upgrade`")
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return f"the database cannot serve now: {TRANSIENT_SQLSTATES[sqlstate]} ({sqlstate})"
    if (getattr(error.orig, "sqlite_errorname", None) or "").startswith(SQLITE_CANNOT_OPEN):
        # Was "the database is not answering", as if a server were down.
        return ("the SQLite file of DATABASE_URL cannot be opened and written: this user must"
                " be able to read and write the file and write its directory (SQLite keeps"
                " its -wal and -shm files beside it)")
    if (getattr(error.orig, "sqlite_errorname", None) or "").startswith(SQLITE_BUSY):
        # Was "the database is not answering: database is locked", as if a server were down.
        return ("the database is busy: another process has held its write lock too long (a"
                " migration, an erasure, a retention run?); try again once it is done")
    if isinstance(error, OperationalError) or error.connection_invalidated:
        reason = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
        return f"the database is not answering: {reason}"
    return None


def is_transient(error: DBAPIError) -> bool:
    """Whether a long-running process (worker, clock) should wait and try again (see
    operator_problem). Anything else is a bug, which must stop the process with its traceback."""
    return operator_problem(error) is not None


def again_on_a_dropped_connection(work: Callable[[], T], *, what: str,
                                  before_again: Callable[[], None] | None = None) -> T:
    """`work()`, run once more when its connection turned out dead: the database closed it
    while it still serves (pg_terminate_backend, a PgBouncer restart, a failover), and the
    pool handed it out unpinged. SQLAlchemy then discards the pool's older connections, so
    the second run gets a new one; a database really down fails it too. Only for work that is
    safe to run again whether or not its first run committed (a SID claim, a batch whose
    processed rows leave its query). `before_again`: e.g. drop the request's session."""
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        if before_again is not None:
            before_again()
        log.warning("%s met a dropped database connection; running it again", what)
        return work()


def make_engine(url: str, *, deferred_begin: bool = False, **kwargs) -> Engine:
    """An engine for either database, tuned so an outage fails fast instead of hanging.
    `deferred_begin`: SQLite's transactions take no write lock up front (reads)."""
    # A database error's text never carries the statement's values (numbers, bodies): it ends
    # up in tracebacks and logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        create_sqlite_file(url, refuse_when_gone=False)  # the process's start refused it
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_deferred if deferred_begin else _sqlite_begin)
        path = _sqlite_file(url)
        if path is not None:
            _guard_sqlite_file(engine, path)
        return engine
    options = dict(
        pool_size=5,
        max_overflow=5,
        pool_timeout=2,
        connect_args={"connect_timeout": 2, "application_name": "commsvc"},
    )
    options.update(kwargs)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _postgres_settings)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# A connection back from the pool within this many seconds is used as is: under load that
# saves a round trip per request. One idle longer is pinged first, so a database restart while
# the service was quiet costs no failed request. (A connection that breaks mid-request raises
# a disconnect error, answered 503, and SQLAlchemy recycles the pool's older connections.)
IDLE_PING_SECONDS = 1.0


def _postgres_settings(dbapi_connection, _record) -> None:
    # A SET once per new connection rather than a startup option, which poolers such as
    # PgBouncer refuse unless configured to ignore it.
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE}")
    dbapi_connection.commit()


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    if time.monotonic() - record.info.get("checked_in", 0.0) < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        # psycopg opened a transaction for the ping: end it, so the unit of work starts clean
        # (an autocommit one could not switch modes inside it).
        dbapi_connection.rollback()
    except Exception as exc:  # any failure here means: discard it, connect afresh
        raise DisconnectionError() from exc


AUTOCOMMIT = "autocommit"  # Session.info key of an autocommit unit of work


class Database:
    """The engines and the session factories of one app."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, bind=None,
                 **engine_kwargs):
        self.engine = engine if engine is not None else make_engine(url, **engine_kwargs)
        self._made = [] if engine is not None else [self.engine]
        # Tests bind sessions to one connection inside a transaction they roll back at the end.
        extra = {"join_transaction_mode": "create_savepoint"} if bind is not None else {}
        self.sessionmaker = sessionmaker(
            bind=bind if bind is not None else self.engine, expire_on_commit=False, **extra
        )
        # Units of work that need no transaction (see get_db): on PostgreSQL their statements
        # commit one by one, which saves the BEGIN and COMMIT/ROLLBACK round trips. SQLite has
        # no round trips to save, and tests bound to one rolled-back connection keep theirs.
        # They have their own pool, whose connections stay in autocommit: switching a shared
        # connection's mode at each checkout and back at each checkin cost 50-90 µs of CPU per
        # request (a tenth of a consent check). A sync worker then keeps up to one idle
        # connection in each pool. Nor does this pool roll back a connection it takes back:
        # in autocommit no transaction is ever open, and the no-op ROLLBACK cost another
        # tenth of a consent check's CPU.
        self.autocommit_sessionmaker = self.sessionmaker
        self.engines = (self.engine,)
        if bind is None and self.is_postgres:
            autocommit_engine = make_engine(
                self.engine.url.render_as_string(hide_password=False),
                **{**engine_kwargs, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None})
            self.engines = (self.engine, autocommit_engine)
            self._made.append(autocommit_engine)
            self.autocommit_sessionmaker = sessionmaker(
                bind=autocommit_engine, expire_on_commit=False, info={AUTOCOMMIT: True})
        # Units of work that only read: the same on PostgreSQL; on a SQLite file, a transaction
        # that takes no write lock up front (_sqlite_begin_deferred).
        self.read_sessionmaker = self.autocommit_sessionmaker
        if bind is None and not self.is_postgres and self.engine.url.database not in (
                None, "", ":memory:"):
            read_engine = make_engine(str(self.engine.url), deferred_begin=True, **engine_kwargs)
            self.engines = (*self.engines, read_engine)
            self._made.append(read_engine)
            self.read_sessionmaker = sessionmaker(bind=read_engine, expire_on_commit=False)
        # Units of work that read one snapshot across many statements, whatever commits
        # meanwhile (audit verify's walk in chunks): REPEATABLE READ on PostgreSQL; on SQLite,
        # a reading transaction is one snapshot already (WAL).
        self.snapshot_sessionmaker = self.read_sessionmaker
        if bind is None and self.is_postgres:
            self.snapshot_sessionmaker = sessionmaker(
                bind=self.engine.execution_options(isolation_level="REPEATABLE READ"),
                expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        """Close the pooled connections of the engines made here (not of one given)."""
        for engine in self._made:
            engine.dispose()


def get_db(*, autocommit: bool = False, reads_only: bool = False) -> Session:
    """The request's session (the unit of work); closed, and rolled back unless committed.

    The first call of a request decides whether it runs in a transaction. autocommit=True is
    for units of work whose guarantees need none: reads only, or a single write made by a
    single statement (under READ COMMITTED a transaction adds nothing to those), with no
    advisory transaction lock. Anything that writes twice must keep the transaction.
    reads_only=True: autocommit for a unit of work that never writes (on SQLite it then
    never waits for a writer either).
    """
    if "db_session" not in g:
        database = current_app.extensions["db"]
        factory = (database.read_sessionmaker if reads_only
                   else database.autocommit_sessionmaker if autocommit else database.sessionmaker)
        g.db_session = factory()
    return g.db_session


def named_lock(name: str):
    """The statement taking PostgreSQL's transaction-scoped advisory lock named by text (its
    key: the first 8 bytes of the name's SHA-256), held until the transaction ends."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    return select(func.pg_advisory_xact_lock(key))


def insert_or_replay(db: Session, insert: Callable[[], T], replay: Callable[[], T | None]) -> T:
    """What insert() makes, inside a savepoint; when a unique index refuses it (a concurrent
    retry under the same Idempotency-Key got there first), what replay() finds instead. The
    error stands when replay() finds nothing."""
    try:
        with db.begin_nested():
            return insert()
    except IntegrityError:
        found = replay()
        if found is None:
            raise
        return found


def is_transactional(db: Session) -> bool:
    """False for an autocommit unit of work (get_db), where each statement commits alone."""
    return not db.info.get(AUTOCOMMIT, False)


def close_db(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app, database: Database) -> None:
    app.extensions["db"] = database
    app.teardown_appcontext(close_db)
