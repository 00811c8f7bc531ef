"""Database session settings the service relies on."""
from __future__ import annotations

import contextlib
import sqlite3
import stat

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from commsvc.cli import main
from commsvc.db.engine import PLAN_CACHE_MODE, make_engine
from commsvc.db.failures import operator_problem
from commsvc.db.sqlite import create_sqlite_file
from commsvc.relay.models import Call, Message
from tests.test_cli_config_errors import FERNET_KEY


@pytest.mark.pg_only
def test_service_connections_reuse_one_generic_plan_per_prepared_statement(connection):
    assert connection.scalar(sa.text("SHOW plan_cache_mode")) == PLAN_CACHE_MODE == (
        "force_generic_plan")


def test_a_new_sqlite_database_is_private_and_overwrites_what_it_deletes(tmp_path):
    """It holds people's numbers and messages: readable by its owner only (its -wal and -shm
    files take its mode), and an erasure's rows do not linger in free pages."""
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA secure_delete")).scalar() == 1
        connection.execute(sa.text("CREATE TABLE t (a)"))
        connection.commit()
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_what_sqlite_deletes_leaves_its_write_ahead_log_once_checkpointed(tmp_path):
    """Found after a retention run on SQLite under a running web process: its -wal file kept
    its 39 MB, and in it the numbers of 99 people whose every row was deleted, after a
    complete checkpoint too (SQLite reuses the file from its start without shortening it),
    for as long as any process had the database open; docs/retention-and-privacy.md says
    until a checkpoint."""
    path = tmp_path / "app.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE t (a TEXT)"))
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO t VALUES (:a)"),
                               [{"a": f"+1415555{n:04d}"} for n in range(2000)])
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM t"))
        with contextlib.closing(sqlite3.connect(path)) as other:  # the engine's stays open
            assert other.execute("PRAGMA wal_checkpoint").fetchone()[0] == 0  # complete
        with engine.begin() as connection:  # the next write after the checkpoint
            connection.execute(sa.text("INSERT INTO t VALUES ('later')"))
        wal = (tmp_path / "app.db-wal").read_bytes()
    finally:
        engine.dispose()
    assert b"+1415555" not in wal


def test_an_existing_sqlite_database_keeps_its_mode(tmp_path):
    path = tmp_path / "old.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_sqlite_file_in_a_directory_that_does_not_exist_is_named_in_one_line(tmp_path):
    """Found by starting `make run` with DATABASE_URL=sqlite:///sub/commsvc.db: "error: the
    database is not answering: unable to open database file", as if a server were down, and
    no word of which file (a relative URL is relative to the directory it starts in)."""
    env = {"COMMSVC_ENV": "test", "ENCRYPTION_KEYS": FERNET_KEY, "HMAC_KEY": "h",
           "TWILIO_AUTH_TOKEN": "t", "DATABASE_URL": f"sqlite:///{tmp_path}/sub/commsvc.db"}

    result = CliRunner().invoke(main, ["db", "upgrade"], env=env, prog_name="commsvc")

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: DATABASE_URL names the SQLite file {tmp_path}/sub/commsvc.db, which cannot be"
        f" created (No such file or directory): create its directory or make it writable\n")
    assert not (tmp_path / "sub").exists()


def _sqlite_error(path, statement: str) -> OperationalError:
    """The error SQLite itself raises for `statement` on the file at `path`."""
    try:
        with contextlib.closing(sqlite3.connect(path, uri=True)) as conn:
            conn.execute(statement)
    except sqlite3.OperationalError as exc:
        return OperationalError(statement, {}, exc)
    raise AssertionError("SQLite raised nothing")


SQLITE_CANNOT_OPEN = (
    "the SQLite file of DATABASE_URL cannot be opened and written: this user must be able to"
    " read and write the file and write its directory (SQLite keeps its -wal and -shm files"
    " beside it)")


def test_a_sqlite_file_sqlite_cannot_open_is_not_said_to_be_a_database_not_answering(tmp_path):
    """Found by starting `make run` with DATABASE_URL naming a file another user's and
    unreadable (here: a directory, which SQLite refuses in the same words)."""
    assert operator_problem(_sqlite_error(tmp_path, "SELECT 1")) == SQLITE_CANNOT_OPEN


def test_a_sqlite_file_in_a_directory_it_may_not_write_is_not_a_database_not_answering(
        tmp_path):
    """Found by starting `commsvc keys list` as a user who may write the file but not its
    directory (5b40496's case): SQLite cannot make the -wal and -shm files, and says "attempt
    to write a readonly database" (SQLITE_READONLY_DIRECTORY), not "unable to open database
    file", so the operator read "the database is not answering" still. (A read-only file
    answers SQLITE_READONLY; both shown here with a file opened read-only.)"""
    path = tmp_path / "commsvc.db"
    sqlite3.connect(path).close()
    error = _sqlite_error(f"file:{path}?mode=ro", "CREATE TABLE t (x)")
    assert error.orig.sqlite_errorname == "SQLITE_READONLY"
    assert operator_problem(error) == SQLITE_CANNOT_OPEN
    # What the user who may not write the directory gets (seen with setpriv; root may write
    # any directory, so the suite cannot make SQLite say it).
    readonly_directory = sqlite3.OperationalError("attempt to write a readonly database")
    readonly_directory.sqlite_errorcode = 1544
    readonly_directory.sqlite_errorname = "SQLITE_READONLY_DIRECTORY"
    assert operator_problem(OperationalError("PRAGMA journal_mode=WAL", {},
                                             readonly_directory)) == SQLITE_CANNOT_OPEN


def test_the_id_of_a_deleted_row_is_never_given_again(db, clock):
    """SQLite gave the newest deleted row's id to the next row (no AUTOINCREMENT; an audit
    found erased messages' ids on other people's rows); PostgreSQL's sequences never do."""
    from tests.records.test_retention import make_call, make_message

    for make, model in ((make_message, Message), (make_call, Call)):
        kept = make(db, created_at=clock())
        erased = make(db, created_at=clock())
        db.commit()
        db.execute(sa.delete(model).where(model.id == erased.id))
        db.commit()
        assert make(db, created_at=clock()).id > erased.id > kept.id


def test_migration_0011_starts_new_ids_above_those_the_audit_trail_names(tmp_path, clock,
                                                                        monkeypatch):
    """Rows deleted before the migration (the newest messages, read with a reason and named
    in the audit trail) must not have their ids given again either."""
    from sqlalchemy.orm import Session

    from commsvc import migrate
    from commsvc.records import audit
    from tests.conftest import TEST_KEY
    from tests.records.test_retention import make_message
    from tests.records.test_rotation import use_keys

    use_keys(monkeypatch, TEST_KEY)  # make_message's body is encrypted: no app made one here

    def old_message(db, n: int) -> int:
        # Only revision 0010's columns: the model has gained some since (0012's reply_sid).
        # Its SIDs start with f, which make_message's counted ones (SM000...1) never reach.
        return db.execute(sa.insert(Message).values(
            direction="inbound", from_phone="+14155550101", to_phone="+16465550001",
            media_count=0, twilio_sid=f"SMf{n:031x}", outcome="no_session", status="received",
            created_at=clock(), updated_at=clock()).returning(Message.id)).scalar_one()

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, revision="0010")
    engine = make_engine(url)
    with Session(engine) as db:
        ids = [old_message(db, n) for n in range(7)]
        audit.record(db, actor="key:privacy", action="pii.read", now=clock(), reason="case 7",
                     target={"resource": "logs.messages"}, details={"records": 3, "ids": ids[4:]})
        db.execute(sa.delete(Message).where(Message.id.in_(ids[5:])))  # erased: the newest
        db.commit()
    migrate.upgrade(url)
    with Session(engine) as db:
        assert make_message(db, created_at=clock()).id == ids[-1] + 1
        db.commit()
    engine.dispose()


def test_the_web_process_on_postgresql_creates_no_file_in_its_directory(tmp_path, monkeypatch):
    """Found by running the operator docs: `make run` with DATABASE_URL=.../commsvc_docs left an
    empty file `commsvc_docs` (mode 600) in the clone, and the Procfile's web line started in a
    directory it may not write (a read-only root filesystem) refused to start in production:
    "DATABASE_URL names the SQLite file /app/<database>, which cannot be created". gunicorn's
    master took the PostgreSQL database name for a SQLite file's path."""
    from types import SimpleNamespace

    from commsvc import gunicorn_conf

    monkeypatch.chdir(tmp_path)
    for name, value in {"COMMSVC_ENV": "test", "ENCRYPTION_KEYS": FERNET_KEY, "HMAC_KEY": "h",
                        "TWILIO_AUTH_TOKEN": "t",
                        "DATABASE_URL": "postgresql://postgres@127.0.0.1/commsvc_x"}.items():
        monkeypatch.setenv(name, value)

    gunicorn_conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=2)))

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url, opened", [
    ("sqlite:///app.db", "app.db"),
    ("sqlite+pysqlite:///app.db?timeout=20", "app.db"),
    ("sqlite:///file:app.db?uri=true", "app.db"),
    ("sqlite:///file:app.db?mode=rwc&cache=private&uri=true", "app.db"),
    ("sqlite:///file:./my%20app.db?uri=true", "my app.db"),
    ("sqlite:///app.db?mode=rwc&uri=true", "app.db?mode=rwc"),  # no file: not a URI to SQLite
    ("sqlite:///file:app.db", "file:app.db"),  # without uri=true: a file by that name
    ("sqlite:///file::memory:?cache=shared&uri=true", None),
    ("sqlite:///:memory:", None),
    ("sqlite://", None),
])
def test_the_file_sqlite_opens_for_any_url_form_is_private_and_no_other_is_made(
        tmp_path, monkeypatch, url, opened):
    """Found by a review of a6f6d31: create_sqlite_file read the file's name from the URL as
    written, not as SQLite opens it. A `file:` URI (uri=true) was skipped, so SQLite created
    the database itself, readable by every user of the machine (0644); `app.db?mode=…&uri=true`
    (no `file:`, so SQLite's file is `app.db?mode=…`) left an empty `app.db` beside that
    world-readable file; a `mode=memory` URI left an empty file for a database in memory."""
    monkeypatch.chdir(tmp_path)
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    engine.dispose()

    expected = {} if opened is None else {
        name: 0o600 for name in (opened, f"{opened}-wal", f"{opened}-shm")}
    assert files == expected


@pytest.mark.parametrize("mode", ["memory", "ro"])
def test_a_sqlite_uri_in_memory_or_read_only_creates_no_file(tmp_path, monkeypatch, mode):
    """An empty file for a database in memory, or one a read-only URL will never write (SQLite
    says it cannot open a missing one). No engine: SQLAlchemy warns of its pool for memory."""
    monkeypatch.chdir(tmp_path)
    create_sqlite_file(f"sqlite:///file:app.db?mode={mode}&uri=true")
    create_sqlite_file(f"sqlite:///file:{tmp_path}/memdb.db?vfs=memdb&uri=true")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("query, expected", [
    ("", {"connect_timeout": 2, "application_name": "commsvc"}),
    ("?connect_timeout=10&application_name=billing",
     {"connect_timeout": "10", "application_name": "billing"}),
])
def test_the_connect_timeout_a_postgresql_url_gives_is_the_one_used(query, expected):
    """README: DATABASE_URL takes libpq's options (connect_timeout, ...); the service's own
    2 s and application name are defaults, not an override of what the operator wrote."""
    engine = make_engine(f"postgresql+psycopg://app@db.invalid/commsvc{query}")
    seen = {}

    @sa.event.listens_for(engine, "do_connect")
    def record(_dialect, _record, _args, params):
        seen.update({name: params.get(name) for name in expected})
        raise RuntimeError("not connecting")

    with pytest.raises(Exception, match="not connecting"):
        engine.connect()
    engine.dispose()
    assert seen == expected
