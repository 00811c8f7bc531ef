"""Database session settings the service relies on."""
from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa

from commsvc.db import PLAN_CACHE_MODE, make_engine
from commsvc.relay.models import Call, Message


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


def test_an_existing_sqlite_database_keeps_its_mode(tmp_path):
    path = tmp_path / "old.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


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


def test_migration_0011_starts_new_ids_above_those_the_audit_trail_names(tmp_path, clock):
    """Rows deleted before the migration (the newest messages, read with a reason and named
    in the audit trail) must not have their ids given again either."""
    from sqlalchemy.orm import Session

    from commsvc import migrate
    from commsvc.records import audit
    from tests.records.test_retention import make_message

    def old_message(db, n: int) -> int:
        # Only revision 0010's columns: the model has gained some since (0012's reply_sid).
        return db.execute(sa.insert(Message).values(
            direction="inbound", from_phone="+14155550101", to_phone="+16465550001",
            media_count=0, twilio_sid=f"SM{n:032x}", outcome="no_session", status="received",
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
