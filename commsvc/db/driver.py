"""A hot statement run on the driver's cursor: compiled once per dialect, its values bound by
their columns' types as SQLAlchemy binds them, its errors raised as SQLAlchemy raises them.

Connection.execute re-derives per execution what never changes for a statement built once (its
cache key, the compiled parameters, the bind and result processing, a CursorResult), and an
ORM Session adds its own begin/commit bookkeeping: a tenth of a relayed text's instructions
in all (cachegrind). What it keeps here: the same SQL text (so psycopg's prepared statement),
the same values on the wire, the cursor events (tests and the bench read them), and the error
handling of every other statement: a database error wrapped as a DBAPIError, a dropped
connection invalidated with the pool's older connections (connection_invalidated, which the
webhooks' one more run reads), an outage an OperationalError (503).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from commsvc.db.session import is_transactional


class DriverStatement:
    """`statement`, whose every execution passes the values named `given`; every other
    parameter keeps the value the statement was built with. Compiled at its first execution
    on each database, on a connection (a dialect learns the server's version on its first
    connect)."""

    def __init__(self, statement: ClauseElement, given: tuple[str, ...]):
        self._statement, self._given = statement, given
        self._compiled: dict[str, _Compiled] = {}

    def first(self, db: Session | Engine, values: dict[str, Any]) -> tuple | None:
        """The first row the statement returns, run in `db`'s unit of work. An autocommit one
        not yet on a connection (each statement commits alone, nothing to share), or the
        engine of one (session.autocommit_engine), runs it on a connection of its own
        straight from the engine's pool, without the Session's bookkeeping; any other on the
        Session's connection, in its transaction."""
        if isinstance(db, Engine):
            engine = db
        elif is_transactional(db) or db.in_transaction():
            return self._first_on(db.connection(), values)
        else:
            engine = db.get_bind()
        with engine.connect() as connection:
            return self._first_on(connection, values)

    def _first_on(self, connection: Connection, values: dict[str, Any]) -> tuple | None:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self._statement, dialect,
                                                                self._given)
        sql, parameters = compiled.sql, compiled.parameters(values)
        cursor = None
        try:
            cursor = connection.connection.cursor()
            # SQLAlchemy's own test, so listeners see every statement (private, as is
            # _handle_dbapi_exception: the pyproject bounds SQLAlchemy below 2.2).
            events = connection._has_events or connection.engine._has_events
            if events:
                for listener in connection.dispatch.before_cursor_execute:
                    sql, parameters = listener(connection, cursor, sql, parameters, None, False)
            try:
                cursor.execute(sql, parameters)
                if events:
                    connection.dispatch.after_cursor_execute(connection, cursor, sql,
                                                             parameters, None, False)
                row = cursor.fetchone()
                if row is not None:
                    row = compiled.row(row, cursor)
            finally:
                # Whatever interrupts it: SQLite's statement ends only when its cursor is
                # closed or read to the end (RETURNING too); until then no SAVEPOINT opens.
                cursor.close()
        except connection.dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(error, sql, parameters, cursor, None)
        return row


class _Compiled:
    """A statement's SQL for a dialect, and how each execution's values become the driver's."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, given: tuple[str, ...]):
        compiled = statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a statement re-rendered per execution cannot be compiled once")
        # Connection.execute computes these at each execution (a column's Python default or
        # onupdate, a bindparam's callable_); bound once here, they were NULL or frozen.
        if (compiled.insert_prefetch or compiled.update_prefetch
                or any(bind.callable is not None for bind in compiled.bind_names)):
            raise ValueError("a statement with values computed per execution (a column's"
                             " Python default or onupdate, a callable bindparam) cannot be"
                             " compiled once")
        self.sql = compiled.string
        processors = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        built = compiled.construct_params(dict.fromkeys(given), escape_names=False)
        missing = set(given) - set(built)
        if missing:
            raise ValueError(f"not parameters of the statement: {sorted(missing)}")
        # A name the paramstyle cannot carry ('a.b') is sent escaped (%(a_b)s), as
        # Connection.execute sends it; positional parameters go by position.
        sent = {} if compiled.positional else compiled.escaped_bind_names
        self._fixed = {sent.get(name, name): processors[name](value) if name in processors
                       else value for name, value in built.items() if name not in given}
        self._processors = tuple((name, sent.get(name, name), processors.get(name))
                                 for name in given)
        self._positions = compiled.positiontup  # the parameters' order (SQLite), else None
        self._dialect = dialect
        self._columns = [column.type.dialect_impl(dialect) for column in statement.exported_columns]
        self._results: list | None = None  # each column's result processor, once known

    def parameters(self, values: dict[str, Any]):
        """The driver's parameters for these values, processed as Connection.execute does."""
        bound = dict(self._fixed)
        for name, key, processor in self._processors:
            value = values[name]
            bound[key] = processor(value) if processor is not None else value
        if self._positions is None:
            return bound
        return tuple(bound[name] for name in self._positions)

    def row(self, row, cursor) -> tuple:
        """A row as Connection.execute reads it (SQLite's 0 and 1 as booleans, a PostgreSQL
        float read as a Decimal for a Numeric, say). A type's processing may depend on the
        type the database gave the column (its cursor description's type code, as a Numeric's
        does on psycopg), so it is settled at the first row, for every execution after it:
        the description is read then only (psycopg builds it anew at each reading, an object
        per column)."""
        if self._results is None:
            self._results = [impl.result_processor(self._dialect, entry[1])
                             for impl, entry in zip(self._columns, cursor.description,
                                                    strict=True)]
        if not any(self._results):
            return tuple(row)
        return tuple(value if processor is None else processor(value)
                     for processor, value in zip(self._results, row, strict=True))
