"""Which statements ran in autocommit, and which ORM Sessions began a transaction (PostgreSQL
tests with real commits: tests/webhooks/test_transactions.py, tests/sessions/test_autocommit.py)."""
from __future__ import annotations

import contextlib

import sqlalchemy as sa
from sqlalchemy.orm import Session


@contextlib.contextmanager
def statement_modes(app):
    """(first word of each statement, whether its connection was in autocommit), as run."""
    seen: list[tuple[str, bool]] = []
    engines = app.extensions["db"].engines

    def record(conn, _cursor, statement, _params, _context, _executemany):
        seen.append((statement.split(None, 1)[0].upper(),
                     conn.connection.dbapi_connection.autocommit))

    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)


@contextlib.contextmanager
def session_begins():
    """The connections ORM Sessions began a transaction on meanwhile (autocommit or not)."""
    begun: list[object] = []

    def note(_session, _transaction, connection):
        begun.append(connection)

    sa.event.listen(Session, "after_begin", note)
    try:
        yield begun
    finally:
        sa.event.remove(Session, "after_begin", note)
