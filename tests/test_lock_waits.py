"""The race tests' "someone waits for a lock" sees this test database's sessions only.

Found by a review of ed4b99f (the suite in parallel workers, each on its own database on one
server): it read pg_locks server-wide, so another worker's (or another checkout's) lock wait
let a race test go on before its own thread had reached the lock, testing no race at all."""
from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from commsvc.db.engine import make_engine
from tests.concurrency import someone_waits_for_a_lock


def test_a_lock_wait_in_another_database_is_not_this_ones(engine, committed_database):
    """Two sessions of the server's `postgres` database, one waiting for the other's advisory
    lock (no object created there): this database has no one waiting."""
    other = make_engine(engine.url.set(database="postgres").render_as_string(
        hide_password=False), isolation_level="AUTOCOMMIT")
    key = 0x7265766965770000 + os.getpid() % 0xFFFF  # this process's own key in `postgres`
    holder, waiter = other.connect(), other.connect()
    waiter_pid = waiter.scalar(sa.text("SELECT pg_backend_pid()"))
    waiting = threading.Thread(
        target=lambda: waiter.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key}))
    try:
        holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        waiting.start()
        for _ in range(400):  # until the other database's session waits
            if holder.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"
                                     " AND wait_event_type = 'Lock'"), {"pid": waiter_pid}):
                break
            threading.Event().wait(0.025)
        else:
            pytest.fail("the other database's session never waited for the lock")

        assert not someone_waits_for_a_lock(committed_database.engine)
    finally:
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        waiting.join(timeout=30)
        waiter.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        holder.close()
        waiter.close()
        other.dispose()


def test_a_row_lock_wait_in_this_database_is_seen(committed_database):
    """A row lock's wait is on a transaction id, whose pg_locks row names no database."""
    engine = committed_database.engine
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE lock_wait_probe (id int PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO lock_wait_probe VALUES (1)"))
    holder = engine.connect()
    waiter = engine.connect()
    waiting = threading.Thread(target=lambda: waiter.execute(
        sa.text("UPDATE lock_wait_probe SET id = 1 WHERE id = 1")))
    try:
        holder.begin()
        holder.execute(sa.text("UPDATE lock_wait_probe SET id = 1 WHERE id = 1"))
        waiting.start()
        for _ in range(400):
            if someone_waits_for_a_lock(engine):
                break
            threading.Event().wait(0.025)
        else:
            pytest.fail("the row lock's wait was not seen")
    finally:
        holder.rollback()
        waiting.join(timeout=30)
        waiter.rollback()
        holder.close()
        waiter.close()
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE lock_wait_probe"))
