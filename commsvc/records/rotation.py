"""Key rotation: re-encrypt stored bodies and media lists under the newest key.

Invariants:
- ENCRYPTION_KEYS is newest first; every configured key decrypts, the first encrypts. Rotation
  rewrites each token not made with the first key, so the older keys can then be removed.
- Tokens are read and written raw (a plain `table()` with untyped columns): the EncryptedText
  type never decrypts or re-encrypts them on the way, and no plaintext leaves this module.
- Batches of BATCH_SIZE rows by primary key (LIMIT, no OFFSET, the key only moves forward),
  each its own short transaction with a lock timeout on PostgreSQL.
- A write is a compare-and-set on the old token: a row changed meanwhile (retention blanked
  it, erasure deleted it) is left as it now is rather than brought back.
- A token no configured key opens is counted as unavailable and left untouched: it reads as
  crypto.UNAVAILABLE, never as an error, until its key is configured again.
- A batch that meets a connection the database closed while it still serves (a failover)
  runs once more on a fresh one: the compare-and-set makes that safe.
- A batch that meets a row another transaction holds past the lock timeout (an erasure, a
  retention batch) rolls back whole and stops that column only, reported as interrupted: the
  next run resumes it, and until a run finishes every column the old keys are still needed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, column, select, table, text
from sqlalchemy.exc import OperationalError

from commsvc import crypto
from commsvc.db.failures import again_on_a_dropped_connection, lock_timed_out

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
LOCK_TIMEOUT = "2s"
# (table, primary key, encrypted column): every EncryptedText column in the schema.
ENCRYPTED_COLUMNS = (
    ("messages", "id", "body"),
    ("messages", "id", "media_urls"),
    ("outbound_messages", "id", "body"),
)


@dataclass
class ColumnCounts:
    rotated: int = 0
    current: int = 0
    unavailable: int = 0
    interrupted: bool = False  # by a lock timeout: the next run resumes the column

    def add(self, batch: ColumnCounts) -> None:
        self.rotated += batch.rotated
        self.current += batch.current
        self.unavailable += batch.unavailable


def _rotate_batch(db, raw, after, batch_size: int, keyring: crypto.Keyring,
                  counts: ColumnCounts) -> tuple[int, object]:
    pk, value = raw.c[0], raw.c[1]
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    query = select(pk, value).where(value.is_not(None)).order_by(pk).limit(batch_size)
    if after is not None:
        query = query.where(pk > after)
    # Uses index: the primary key (a key range)
    rows = db.execute(query).all()
    changes = []
    for key, token in rows:
        if keyring.is_current(token):
            counts.current += 1
            continue
        fresh = keyring.rotate(token)
        if fresh is None:
            counts.unavailable += 1
        else:
            changes.append({"key": key, "old": token, "new": fresh})
    if changes:
        written = db.execute(raw.update().where(pk == bindparam("key"), value == bindparam("old"))
                             .values({value.name: bindparam("new")}), changes)
        # The rows the compare-and-set wrote: one blanked, erased or rotated by another run
        # meanwhile is not this run's.
        counts.rotated += written.rowcount
    return len(rows), (rows[-1][0] if rows else after)


def _committed_batch(database, raw, after, batch_size: int, keyring: crypto.Keyring
                     ) -> tuple[int, object, ColumnCounts]:
    """One batch in its own transaction: rows seen, the last key, and its counts (counted
    once committed: a batch that fails rolls back)."""
    batch = ColumnCounts()
    with database.sessionmaker() as db:
        seen, last = _rotate_batch(db, raw, after, batch_size, keyring, batch)
        db.commit()
    return seen, last, batch


def rotate(database, *, batch_size: int = BATCH_SIZE, keyring: crypto.Keyring | None = None,
           should_stop=None) -> dict[str, ColumnCounts]:
    """Re-encrypt every encrypted column under the newest key; counts per table.column.
    `should_stop()`, checked between batches: the process is stopping; the columns not
    reached are left out of the counts."""
    keyring = keyring or crypto.keyring()
    stopping = should_stop or (lambda: False)
    report: dict[str, ColumnCounts] = {}
    try:
        for table_name, pk_name, column_name in ENCRYPTED_COLUMNS:
            if stopping():
                break
            raw = table(table_name, column(pk_name), column(column_name))
            counts = report.setdefault(f"{table_name}.{column_name}", ColumnCounts())
            after = None
            while not stopping():
                try:
                    seen, after, batch = again_on_a_dropped_connection(
                        lambda raw=raw, after=after: _committed_batch(database, raw, after,
                                                                      batch_size, keyring),
                        what=f"encryption rotate {table_name}.{column_name} batch")
                except OperationalError as exc:
                    if not lock_timed_out(exc):
                        raise
                    log.warning("encryption rotate: %s.%s stopped by a lock timeout; the next"
                                " run resumes it", table_name, column_name)
                    counts.interrupted = True
                    break
                counts.add(batch)
                if seen < batch_size:
                    break
    finally:
        # The tokens under the old key leave the -wal file too, those the committed batches
        # replaced before a failure as well (as retention's and replay's checkpoints do).
        database.checkpoint_deleted()
    return report
