"""The suite runs twice: on a SQLite file and on PostgreSQL (TEST_DATABASE_URL, default local).

Each test runs inside a transaction rolled back at the end; tests marked pg_only (concurrency,
query plans, triggers) use `committed` databases instead and clean up after themselves.
The schema is always built by migrating.
"""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from commsvc import migrate
from commsvc.app import create_app
from commsvc.auth import service as key_service
from commsvc.clock import FrozenClock
from commsvc.config.database_url import normalise_database_url
from commsvc.config.settings import Config, Retention
from commsvc.db.engine import make_engine
from commsvc.db.session import Database
from commsvc.pool import service as pool_service
from commsvc.twilio_gateway import SimulatedTwilio
from tests.twilio_signing import TwilioPoster

PG_URL = normalise_database_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/commsvc_test")
)
if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs the suite in parallel workers:
    # each gets its own database (commsvc_test_gw0, ...), as each gets its own SQLite file.
    _url = sa.engine.make_url(PG_URL)
    PG_URL = _url.set(database=f"{_url.database}_{os.environ['PYTEST_XDIST_WORKER']}"
                      ).render_as_string(hide_password=False)
TEST_KEY = Fernet.generate_key().decode()
AUTH_TOKEN = "0123456789abcdef" * 2  # an auth token's shape: load_config checks it with a SID
BASE_URL = "https://commsvc.example.com"


def _postgres_available() -> str | None:
    """Create the test database if needed; None when the server does not answer."""
    url = sa.engine.make_url(PG_URL)
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": url.database})
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    except sa.exc.OperationalError as exc:
        return str(exc.orig).splitlines()[0] if exc.orig else str(exc)
    finally:
        admin.dispose()
    return None


def _fresh_schema(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(connection=conn)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        engine = make_engine(f"sqlite:///{path}")
    else:
        problem = _postgres_available()
        if problem:
            if os.environ.get("REQUIRE_POSTGRES"):
                pytest.fail(f"PostgreSQL required but not answering: {problem}")
            pytest.skip(f"PostgreSQL not answering: {problem}")
        engine = make_engine(PG_URL, pool_size=20, max_overflow=20)
    _fresh_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def backend(engine) -> str:
    return engine.dialect.name


@pytest.fixture
def connection(engine, request):
    if request.node.get_closest_marker("pg_only") and engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


@pytest.fixture
def database(engine, connection) -> Database:
    """Sessions bound to the test's connection: everything is rolled back after the test."""
    return Database(engine=engine, bind=connection)


@pytest.fixture
def committed_database(engine, request):
    """A real database for concurrency tests: commits are real; tables emptied afterwards."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    database = Database(engine=engine)
    yield database
    database.dispose()
    truncate_all(engine)


def truncate_all(engine) -> None:
    from commsvc.models import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        # Append-only tables refuse TRUNCATE unless this session says it is the test cleanup.
        conn.execute(sa.text("SET LOCAL commsvc.allow_truncate = 'on'"))
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def twilio() -> SimulatedTwilio:
    return SimulatedTwilio()


@pytest.fixture
def config(engine) -> Config:
    return Config(
        env="test",
        testing=True,
        database_url=str(engine.url),
        twilio_account_sid=None,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=BASE_URL,
        encryption_keys=(TEST_KEY,),
        hmac_key="test-hmac-key",
        retention=Retention(),
    )


def _make_app(config, clock, twilio, database):
    app = create_app(config, clock=clock, twilio=twilio, database=database)
    return app


@pytest.fixture
def app(config, clock, twilio, database):
    return _make_app(config, clock, twilio, database)


@pytest.fixture
def committed_app(config, clock, twilio, committed_database):
    return _make_app(config, clock, twilio, committed_database)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A session for arranging and checking data directly (same transaction as the app)."""
    session = app.extensions["db"].sessionmaker()
    yield session
    session.close()


@pytest.fixture
def api_key(app, clock):
    """api_key("booking") -> request headers carrying a new key of that role."""

    def make(role: str, name: str | None = None) -> dict[str, str]:
        with app.extensions["db"].sessionmaker() as session:
            _, raw = key_service.create_key(session, name=name or f"test-{role}", role=role,
                                            now=clock())
            session.commit()
        return {"Authorization": f"Bearer {raw}"}

    return make


def pool_and_booking_key(app, clock, numbers: int, *, first: int) -> dict[str, str]:
    """Commit `numbers` pool numbers (+<first>, +<first + 1>, ...) and a booking key; the
    request headers that carry the key."""
    with app.extensions["db"].sessionmaker() as session:
        for n in range(numbers):
            pool_service.add_number(session, phone_number=f"+{first + n}",
                                    capabilities=("sms", "voice"), actor="test", now=clock(),
                                    retention=Retention())
        _, raw = key_service.create_key(session, name="booking", role="booking", now=clock())
        session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def twilio_post(client):
    """Posts a form to a webhook signed exactly as Twilio signs it."""
    return TwilioPoster(client, AUTH_TOKEN, BASE_URL)


class StatementRecording:
    """A `with` block that keeps, for each statement sent meanwhile, what `note(statement,
    parameters)` returns (None: nothing); the block gets the list."""

    def __init__(self, engine, note):
        self.engine, self.note, self.seen = engine, note, []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        kept = self.note(statement, parameters)
        if kept is not None:
            self.seen.append(kept)

    def __enter__(self) -> list:
        self.seen.clear()
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def reparsed_statements(engine):
    """Records each statement psycopg must parse again on every execution: it caches its
    conversion of a query only up to a length and a parameter count
    (MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS). PostgreSQL only."""
    from psycopg import _queries as psycopg_queries

    def note(statement: str, parameters) -> str | None:
        size, count = len(statement.encode()), len(parameters or ())
        if (size > psycopg_queries.MAX_CACHED_STATEMENT_LENGTH
                or count > psycopg_queries.MAX_CACHED_STATEMENT_PARAMS):
            return f"{size} bytes, {count} parameters: {statement[:80]}"
        return None

    return StatementRecording(engine, note)
