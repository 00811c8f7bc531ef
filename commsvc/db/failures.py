"""What a database error means: a row conflict, a lock wait run out, a schema not migrated, a
database that will serve again; one line for the operator; one more run on a dropped
connection."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")
log = logging.getLogger("commsvc.db")

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


# The server's refusal of a connection to a database it does not have (libpq gives such an
# error no SQLSTATE: 3D000 is only in the server's words).
_NO_SUCH_DATABASE = re.compile(r'FATAL:\s+database ("[^"\n]*") does not exist')


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
    if isinstance(error, OperationalError) and (
            missing := _NO_SUCH_DATABASE.search(str(error.orig))):
        # Was "the database is not answering", as if the server were down: it answered.
        return (f"the database server answered, but it has no database {missing.group(1)}:"
                f" create it (createdb), or give DATABASE_URL the name of one that exists")
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
