"""commsvc.db.driver: a statement run on the driver's cursor sends what Connection.execute
sends, and fails as it fails."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from commsvc.crypto import EncryptedText, keyring
from commsvc.db.driver import DriverStatement
from commsvc.relay import claim
from commsvc.relay.models import Message

ENCRYPTED = ("body", "media_urls")  # Fernet tokens differ each time: compared decrypted


def _values() -> dict:
    now = dt.datetime(2026, 11, 25, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    return {"direction": "inbound", "from_phone": "+14155550101", "to_phone": "+16465550000",
            "body": "on my way", "media_count": 1, "media_urls": '["https://x.test/a.jpg"]',
            "twilio_sid": "SM" + "a" * 32, "outcome": "forwarded", "status": "received",
            "created_at": now, "updated_at": now, "real_phone": "+14155550101",
            "proxy_number": "+16465550000", "now": now}


def _sent(connection, run) -> tuple[str, object]:
    seen = []

    def note(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    sa.event.listen(connection, "before_cursor_execute", note)
    try:
        run()
    finally:
        sa.event.remove(connection, "before_cursor_execute", note)
    [sent] = seen
    return sent


def _comparable(parameters, positions) -> dict:
    named = dict(zip(positions, parameters, strict=True)) if positions else dict(parameters)
    return {name: keyring().decrypt(value) if name in ENCRYPTED and value else value
            for name, value in named.items()}


def test_the_relayed_text_statement_sends_what_connection_execute_sends(app, db, backend):
    statement = claim._forward_statement(backend, Message)
    given = tuple(_values())
    compiled = statement.compile(dialect=db.get_bind().dialect)
    positions = compiled.positiontup
    connection = db.connection()

    core_sql, core_parameters = _sent(
        connection, lambda: connection.execute(statement, _values()).first())
    driver_sql, driver_parameters = _sent(
        connection, lambda: DriverStatement(statement, given).first(db, _values()))

    assert driver_sql == core_sql
    assert _comparable(driver_parameters, positions) == _comparable(core_parameters, positions)
    assert _comparable(driver_parameters, positions)["body"] == "on my way"


def test_a_statement_error_is_raised_as_sqlalchemy_raises_it(app, db):
    broken = DriverStatement(sa.select(sa.literal_column("no_such_column")), ())

    with pytest.raises(sa.exc.DBAPIError) as raised:
        broken.first(db, {})

    assert raised.value.connection_invalidated is False
    assert "no_such_column" in str(raised.value)


def test_a_value_the_statement_does_not_take_is_refused_when_compiled(app, db):
    statement = DriverStatement(sa.select(sa.bindparam("a", type_=sa.Integer)), ("a", "b"))

    with pytest.raises(ValueError, match="not parameters of the statement"):
        statement.first(db, {"a": 1, "b": 2})


_COUNTER = sa.Table("driver_counter", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("a", sa.Integer),
                    sa.Column("made", sa.Integer, default=lambda: 1),
                    sa.Column("touched", sa.Integer, onupdate=lambda: 2))


@pytest.mark.parametrize("statement", [
    sa.insert(_COUNTER).values(a=sa.bindparam("a")).returning(_COUNTER.c.made),
    sa.update(_COUNTER).values(a=sa.bindparam("a")).returning(_COUNTER.c.touched),
    sa.select(sa.bindparam("a", type_=sa.Integer)).where(
        sa.bindparam("c", callable_=lambda: 1, type_=sa.Integer) == 1),
], ids=["python default", "onupdate", "callable bindparam"])
def test_a_statement_whose_values_are_computed_per_execution_is_refused_when_compiled(
        app, db, statement):
    """Connection.execute computes them at each execution; compiled once they were bound as
    NULL (a default, an onupdate) or frozen (a callable): silently wrong rows."""
    with pytest.raises(ValueError, match="values computed per execution"):
        DriverStatement(statement, ("a",)).first(db, {"a": 1})


@pytest.mark.parametrize("names", [("given.value", "fixed.value"), ("given(1)", "fixed[1]")])
def test_a_parameter_whose_name_sqlalchemy_escapes_is_bound_as_connection_execute_binds_it(
        app, db, names):
    """Sent escaped (%(given_value)s on PostgreSQL): a value given under such a name was
    refused as no parameter of the statement, and one the statement holds was sent without
    its type's processing (in clear, not encrypted) or, on SQLite, not found at all."""
    given, fixed = names
    held = sa.bindparam(fixed, value="fixed", type_=EncryptedText()).label("f")
    statement = sa.select(sa.bindparam(given, type_=EncryptedText()).label("g"), held)

    assert DriverStatement(sa.select(held), ()).first(db, {}) == ("fixed",)
    expected = db.connection().execute(statement, {given: "given"}).first()
    assert tuple(expected) == ("given", "fixed")
    assert DriverStatement(statement, (given,)).first(db, {given: "given"}) == expected


@pytest.mark.parametrize("kind", [sa.Numeric(10, 2), sa.Numeric(10, 2, asdecimal=False),
                                  sa.Float(), sa.Float(asdecimal=True)],
                         ids=["numeric", "numeric as float", "float", "float as decimal"])
def test_a_result_whose_type_reads_the_column_type_is_read_as_connection_execute_reads_it(
        app, db, kind):
    """A Numeric's result processor on psycopg depends on the type PostgreSQL gave the column
    (numeric or float8), known only once the statement ran: asked for it when compiling, with
    no type, psycopg's dialect failed with "TypeError: %d format" before anything was sent."""
    statement = sa.select(sa.cast(sa.bindparam("a", type_=sa.Integer), kind).label("n"))
    driver = DriverStatement(statement, ("a",))

    [expected] = db.connection().execute(statement, {"a": 3}).first()
    for _again in range(2):  # compiled at the first, then reused
        [read] = driver.first(db, {"a": 3})
        assert read == expected
        assert type(read) is type(expected)


class _Counted:
    """A DBAPI cursor that counts the readings of its description (psycopg builds one object per
    column at each)."""

    def __init__(self, cursor, readings: list):
        self._cursor, self._readings = cursor, readings

    @property
    def description(self):
        self._readings.append(1)
        return self._cursor.description

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def test_a_statement_reads_the_cursor_description_at_its_first_row_only(app, db, monkeypatch):
    """Each execution read the description to process its row, though the processors were
    settled at the first row: on psycopg four Column objects a consent check, 3% of its
    instructions (consent3)."""
    from sqlalchemy.pool.base import _ConnectionFairy

    db.connection()  # the test's savepoint begun: its statement is not the driver's
    readings: list = []
    cursor = _ConnectionFairy.cursor
    monkeypatch.setattr(_ConnectionFairy, "cursor",
                        lambda self, *a, **k: _Counted(cursor(self, *a, **k), readings))
    driver = DriverStatement(sa.select(sa.cast(sa.bindparam("a", type_=sa.Integer),
                                               sa.Numeric(10, 2)).label("n")), ("a",))

    answers = [driver.first(db, {"a": n}) for n in (1, 2, 3)]

    assert answers == [(1,), (2,), (3,)]
    assert readings == [1]
