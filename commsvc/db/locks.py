"""PostgreSQL locks taken by name or waited on for a bounded time."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from commsvc.db.failures import lock_timed_out
from commsvc.errors import Busy


def lock_or_unavailable(db: Session, lock_statement, *, wait: str, busy: str) -> None:
    """Run a statement that takes a lock on PostgreSQL, waiting at most `wait` (lock_timeout,
    for it alone): a request queued for a lock holds back every later one that conflicts, so
    it must not wait as long as a long holder (an erasure) runs. Busy(busy) (503, with
    Retry-After) when the wait runs out; the caller's transaction is then to be rolled back."""
    before = db.execute(text("SELECT current_setting('lock_timeout'),"
                             " set_config('lock_timeout', :wait, true)"), {"wait": wait}).scalar()
    try:
        db.execute(lock_statement)
    except OperationalError as exc:
        if not lock_timed_out(exc):
            raise
        raise Busy(busy) from None
    db.execute(text("SELECT set_config('lock_timeout', :before, true)"), {"before": before})


def named_lock(name: str, *, shared: bool = False):
    """The statement taking PostgreSQL's transaction-scoped advisory lock named by text (its
    key: the first 8 bytes of the name's SHA-256), held until the transaction ends; `shared`:
    held by any number of transactions at once, which one taking it alone waits for."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    return select((func.pg_advisory_xact_lock_shared if shared
                   else func.pg_advisory_xact_lock)(key))
