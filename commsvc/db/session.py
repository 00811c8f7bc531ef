"""Units of work: the engines and session factories of one app, and the request's session."""
from __future__ import annotations

import logging

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from commsvc.db.engine import make_engine
from commsvc.db.sqlite import CHECKPOINT_WAIT_MS

AUTOCOMMIT = "autocommit"  # Session.info key of an autocommit unit of work
log = logging.getLogger("commsvc.db")


class Database:
    """The engines and the session factories of one app."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, bind=None,
                 **engine_kwargs):
        self.engine = engine if engine is not None else make_engine(url, **engine_kwargs)
        self._made = [] if engine is not None else [self.engine]
        self._bound = bind is not None
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

    def snapshot_beside(self, db: Session) -> Session:
        """A unit of work reading one snapshot (snapshot_sessionmaker) beside `db`, which
        writes and commits on its own meanwhile (an export's audit event); `db` itself for
        tests bound to one connection, where two sessions' savepoints would nest."""
        return db if self._bound else self.snapshot_sessionmaker()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def checkpoint_deleted(self) -> None:
        """After an erasure or retention commits (SQLite): copy the -wal file into the database
        file and cut it to nothing. secure_delete overwrites what was deleted in the file, but
        the -wal kept the rows' earlier page images (numbers, bodies) until SQLite's next
        automatic checkpoint, 1,000 pages of writes later: days on a quiet database. Waits
        CHECKPOINT_WAIT_MS at most for other connections; nothing to do on PostgreSQL, or for
        tests bound to one rolled-back connection."""
        if self.is_postgres or self._bound or self.engine.url.database in (None, "", ":memory:"):
            return
        # What it follows is committed: a checkpoint that fails (disk full, I/O error, the
        # file gone) is logged, never raised, or the client of a done erasure got a 500.
        try:
            raw = self.engine.raw_connection()
            raw.detach()  # closed after, never back in the pool with the short busy_timeout
            try:
                cursor = raw.cursor()
                # TRUNCATE holds the write lock while it waits for readers: with the 5 s of
                # a write, one long reader (audit verify, a backup, a sqlite3 shell) held
                # every writer of every process back 5 s (503s) for each erasure.
                cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
                busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.close()
        except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error) as exc:
            why = f"the checkpoint failed: {getattr(exc, 'orig', None) or exc}"
        else:
            if not busy:
                return
            why = "another connection was using the database"
        log.warning("the SQLite -wal file still holds the page images of rows just deleted"
                    " (%s); SQLite's next checkpoint removes them", why)

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
        g.db_session = (g.get("db_factory") or _factory(autocommit, reads_only))()
    return g.db_session


def _factory(autocommit: bool, reads_only: bool) -> sessionmaker:
    database = current_app.extensions["db"]
    return (database.read_sessionmaker if reads_only
            else database.autocommit_sessionmaker if autocommit else database.sessionmaker)


def autocommit_engine(*, autocommit: bool = False, reads_only: bool = False) -> Engine | None:
    """For a request's first statement: the engine it runs on alone, without a Session, when
    the unit of work get_db(autocommit=..., reads_only=...) would make is an autocommit one
    (each statement commits alone, on a connection of its own from the pool: the Session would
    only hand the statement its engine, and making and closing it cost 3% of a consent check's
    instructions). That call decides the unit of work all the same: the request's first
    get_db() makes it. None when it would run in a transaction (SQLite, tests' sessions bound
    to one connection, a writer of more than one statement) or the request has its Session
    already: use get_db."""
    if "db_session" in g:
        return None
    factory = g.db_factory = g.get("db_factory") or _factory(autocommit, reads_only)
    return factory.kw["bind"] if factory.kw.get("info", {}).get(AUTOCOMMIT) else None


def is_transactional(db: Session) -> bool:
    """False for an autocommit unit of work (get_db), where each statement commits alone."""
    return not db.info.get(AUTOCOMMIT, False)


def close_db(_exc=None) -> None:
    g.pop("db_factory", None)
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app, database: Database) -> None:
    app.extensions["db"] = database
    app.teardown_appcontext(close_db)
