"""PostgreSQL race tests' helpers: one call run from several threads released together, and
whether (or once) a session of the test database waits for a lock."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

# Sessions of this test database waiting for a heavyweight lock (a row, a table, an advisory
# key). pg_locks alone is the whole server's: other databases' waits (another xdist worker's,
# another checkout's suite) would count, and a row lock's wait (locktype transactionid) has no
# database in it to filter on; pg_stat_activity names the waiting session's database.
_WAITING = sa.text("SELECT count(*) FROM pg_stat_activity"
                   " WHERE datname = current_database() AND wait_event_type = 'Lock'")


def someone_waits_for_a_lock(engine) -> bool:
    """Whether a session on `engine`'s database is waiting for a lock another one holds."""
    with engine.connect() as conn:
        return bool(conn.scalar(_WAITING))


def a_lock_wait_begins(engine, seconds: float = 10.0) -> bool:
    """Whether, within `seconds`, a session on `engine`'s database waits for a lock: the moment
    a race test lets the holder go on, instead of a sleep that a slow machine outruns."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if someone_waits_for_a_lock(engine):
            return True
        time.sleep(0.02)
    return False


def all_at_once(count: int, call: Callable[[], object], timeout: float = 30) -> list:
    """What `count` threads' calls returned, each call started at the same moment."""
    start = threading.Barrier(count, timeout=timeout)
    answers: list = []

    def run() -> None:
        start.wait()
        answers.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return answers


def once_it_waits_on(holder, engine, call: Callable[[], object], timeout: float = 30) -> list:
    """What `call()` returned, run in a thread while `holder` (a session with writes not
    committed) holds what the call needs: `holder` commits, and is closed, once the call waits
    for its lock (asserted). An empty list: the call did not end within `timeout`."""
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    try:
        assert a_lock_wait_begins(engine)
    finally:
        holder.commit()
        holder.close()
    thread.join(timeout=timeout)
    return answers
