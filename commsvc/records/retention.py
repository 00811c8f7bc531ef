"""The retention job: blank or delete what is past its period, in small batches.

Invariants (modelled on zulip's zerver/lib/retention.py):
- Reads never wait for this job: visibility_rules hides what is past its period at once; the
  job only catches the stored data up and asks Twilio to delete its copies.
- Every pass works in batches of at most its *_BATCH_SIZE rows chosen by primary key with
  `LIMIT` and no `OFFSET` (processed rows leave the query: they are blanked or gone, and the
  key only moves forward). Each batch is its own short transaction with
  `SET LOCAL lock_timeout = '2s'` on PostgreSQL; a batch that fails rolls back whole, batches
  before it stay committed, and the next run carries on from where the data is.
- A batch (or the run's audit event, or a Twilio deletions claim) that meets a connection the
  database closed while it still serves (a failover, a PgBouncer restart) runs once more on a
  fresh one (db.again_on_a_dropped_connection): the run is not lost, nor its audit event
  (written once: audit.record_alone).
- Integer-keyed tables are walked in key windows of SCAN_WINDOW ids up to the newest row older
  than the cutoff, so no single query scans more than a window however large the table is.
- The passes (which rows, and what becomes of them) are in retention_passes.py. Nothing an
  active legal hold covers is touched (holds.not_held); lifting a hold makes the rows eligible
  at the next run.
- Twilio deletions are queued (remote.enqueue_many) in the same transaction as the local change,
  then the queue is processed; a deletion Twilio refuses for now is retried on a later run.
- Two runs never overlap on PostgreSQL: the run holds pg_try_advisory_lock(RUN_LOCK_KEY) on a
  dedicated connection; a second run reports another run in progress and does nothing (if
  the database closes that connection mid-run, the lock goes with it and the run goes on:
  a run started then overlaps it, and a batch's rows locked as it reads them keep each row
  processed and counted once, as BEGIN IMMEDIATE does on SQLite). On
  SQLite (one host, development) there is no run lock: every batch is BEGIN IMMEDIATE, so two
  runs interleave batches harmlessly and each row is processed once.
- `dry_run` counts what a run would do with the same conditions and changes nothing.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import and_, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from commsvc.config.settings import Retention
from commsvc.db.failures import again_on_a_dropped_connection, lock_timed_out
from commsvc.health import metric_source
from commsvc.records import audit, holds, remote
from commsvc.records.models import AuditEvent
from commsvc.records.retention_passes import PASSES, Pass, cutoff_for, past_retention

log = logging.getLogger("commsvc.records.retention")

AUDIT_BATCH_SIZE = 1000
SCAN_WINDOW = 20_000  # ids looked at per query in the integer-keyed passes
LOCK_TIMEOUT = "2s"
RUN_LOCK_KEY = 0x726574656E74  # pg advisory lock key: "retent" in ASCII
RUN_ACTION = "retention.run"  # the audit event each run appends, with its counts
# A run cut short by its process stopping (Ctrl-C, SIGTERM): audited, but not a run, so the
# clock's next tick and the last-run metric do not take the day's retention as done.
STOPPED_ACTION = "retention.stopped"


@dataclass
class RetentionReport:
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    interrupted: list[str] = field(default_factory=list)  # kinds stopped by a lock timeout
    remote: dict[str, int] = field(default_factory=dict)
    stopped: bool = False  # the process was stopping: the kinds not in `counts` were not run

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "counts": self.counts,
                "interrupted": self.interrupted, "remote_deletions": self.remote,
                **({"stopped": True} if self.stopped else {})}


def _begin_batch(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))


def _upper_id(db: Session, model, cutoff: dt.datetime) -> int | None:
    """The id of the newest row older than the cutoff: the walk stops there.

    Rows inserted with an older created_at after a newer one (clock skew between processes)
    may sit above it; the next run's bound passes them. Reads hide them meanwhile. Of rows
    sharing that created_at, the highest id: the index gives ties in no useful order.
    """
    # Uses index: ix_<table>_created_at (backward scan, the rows of one created_at)
    return db.scalar(select(model.id).where(model.created_at < cutoff)
                     .order_by(model.created_at.desc(), model.id.desc()).limit(1))


def _key_range(database, model, pk, cutoff: dt.datetime) -> tuple[int | None, int | None]:
    """The walk's bounds: the newest row older than the cutoff, the lowest id."""
    with database.sessionmaker() as db:
        # Uses index: the primary key (one row)
        return _upper_id(db, model, cutoff), db.scalar(select(func.min(pk)))


def _apply_batch(database, spec: Pass, query, now: dt.datetime, cutoff: dt.datetime) -> list:
    """One batch of a pass in its own transaction: the rows it processed."""
    with database.sessionmaker() as db:
        _begin_batch(db)
        holds.hold_still(db)  # what holds cover stays so until the batch commits
        # Uses index: the primary key (a key range), the held check on ix_legal_holds_*
        rows = db.execute(query).all()
        if rows:
            spec.apply(db, rows, now, and_(*spec.eligible(cutoff)))
        db.commit()
    return rows


def _run_pass(database, spec: Pass, cutoff: dt.datetime, now: dt.datetime,
              chunk_size: int | None, stopping: Callable[[], bool]) -> int:
    """Apply one pass batch by batch, each batch its own transaction; rows processed. Ends
    early, between batches, when `stopping()`."""
    limit = chunk_size or spec.batch_size
    pk = spec.model.__mapper__.primary_key[0]
    columns = [pk.label("id"), *(getattr(spec.model, c) for c in spec.columns)]
    windowed = pk.type.python_type is int
    after, upper, total = None, None, 0
    if windowed:
        upper, lowest = again_on_a_dropped_connection(
            lambda: _key_range(database, spec.model, pk, cutoff),
            what=f"retention {spec.kind} pass")
        if upper is None:
            return 0
        after = lowest - 1
    while not stopping():
        # FOR UPDATE (PostgreSQL): a run overlapping this one (its lock gone with its
        # connection) waits for the batch that holds these rows, then finds them processed
        # (rechecked, they leave the query): each row is processed, and counted, once.
        query = (select(*columns).where(*spec.eligible(cutoff)).order_by(pk).limit(limit)
                 .with_for_update(of=spec.model))
        if after is not None:
            query = query.where(pk > after)
        if windowed:
            window_end = min(after + SCAN_WINDOW, upper)
            query = query.where(pk <= window_end)
        rows = again_on_a_dropped_connection(
            lambda query=query: _apply_batch(database, spec, query, now, cutoff),
            what=f"retention {spec.kind} batch")
        total += len(rows)
        full = len(rows) == limit
        if windowed:
            after = rows[-1].id if full else window_end
            if not full and window_end >= upper:
                return total
        else:
            if not full:
                return total
            after = rows[-1].id
    return total


def _count(database, spec: Pass, retention: Retention, now: dt.datetime) -> int:
    conditions = spec.eligible(cutoff_for(retention, spec.period, now))
    if spec.superseded_by:
        conditions.append(~past_retention(spec.superseded_by, retention, now))
    with database.sessionmaker() as db:
        return db.scalar(select(func.count()).select_from(spec.model).where(*conditions))


def _purge_audit(database, before: dt.datetime, now: dt.datetime, chunk_size: int | None,
                 actor: str, stopping: Callable[[], bool]) -> int:
    total = 0
    def purge_batch() -> int:
        with database.sessionmaker() as db:
            _begin_batch(db)
            deleted = audit.purge_expired_audit(db, before, now,
                                                batch_size=chunk_size or AUDIT_BATCH_SIZE,
                                                actor=actor)
            db.commit()
        return deleted

    while not stopping():
        deleted = again_on_a_dropped_connection(purge_batch, what="retention audit purge batch")
        total += deleted
        if not deleted:
            return total
    return total


class _RunLock:
    """pg_try_advisory_lock on a dedicated connection for the whole run (PostgreSQL only)."""

    def __init__(self, database):
        self.database = database
        self.connection = None

    def acquire(self) -> bool:
        if not self.database.is_postgres:
            return True
        self.connection = self.database.engine.connect()
        got = self.connection.scalar(select(func.pg_try_advisory_lock(RUN_LOCK_KEY)))
        self.connection.commit()  # the lock is session-level: no transaction left open
        if not got:
            self.connection.close()
            self.connection = None
        return bool(got)

    def release(self) -> None:
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            connection.scalar(select(func.pg_advisory_unlock(RUN_LOCK_KEY)))
            connection.commit()
        except DBAPIError as exc:
            # The database closed the lock's connection during the run (pg_terminate_backend,
            # a PgBouncer restart, a failover): the lock went with it. The run's batches, on
            # other connections, are done and audited; failing here would report a finished
            # run as a database error.
            if not exc.connection_invalidated:
                raise
            log.warning("retention: the run lock's connection was closed by the database"
                        " during the run; the lock went with it")
        finally:
            connection.close()


@metric_source
def retention_metrics(db: Session, now: dt.datetime):
    """Seconds since the last retention run finished: alert when the clock process stops."""
    # Uses index: ix_audit_events_action_id (backward, one row)
    last = db.scalar(select(AuditEvent.created_at).where(AuditEvent.action == RUN_ACTION)
                     .order_by(AuditEvent.id.desc()).limit(1))
    yield GaugeMetricFamily("commsvc_retention_last_run_age_seconds",
                            "Seconds since the last retention run (-1: never ran)",
                            value=(now - last).total_seconds() if last else -1)


def run(database, *, retention: Retention, now: dt.datetime, gateway=None,
        dry_run: bool = False, chunk_size: int | None = None,
        actor: str = "retention", should_stop=None,
        clock: Callable[[], dt.datetime] | None = None) -> RetentionReport | None:
    """One retention run; None when another run holds the lock (nothing was done).
    `should_stop()`: the process is stopping; the run ends after its current batch (audited as
    STOPPED_ACTION, so the next run does the rest) and the Twilio deletions end early (the
    next run, or the clock's next tick, sends the rest). `clock`: the time of the Twilio deletions'
    leases and back-offs, read as they happen (else `now`, the run's cut-off time)."""
    report = RetentionReport(dry_run=dry_run)
    audit_before = now - dt.timedelta(seconds=retention.audit)
    stopping = should_stop or (lambda: False)
    if dry_run:  # each count may scan a large table: a stop ends it between counts too
        for spec in PASSES:
            if stopping():
                break
            report.counts[spec.kind] = _count(database, spec, retention, now)
        else:
            with database.sessionmaker() as db:
                report.counts["audit_events"] = db.scalar(
                    select(func.count()).select_from(AuditEvent)
                    .where(AuditEvent.created_at < audit_before))
        report.stopped = stopping()
        return report
    lock = _RunLock(database)
    if not lock.acquire():
        return None
    try:
        steps = [(spec.kind, lambda spec=spec: _run_pass(
            database, spec, cutoff_for(retention, spec.period, now), now, chunk_size, stopping))
            for spec in PASSES]
        steps.append(("audit_events", lambda: _purge_audit(database, audit_before, now,
                                                           chunk_size, actor, stopping)))
        for kind, step in steps:
            if stopping():
                break
            try:
                report.counts[kind] = step()
            except OperationalError as exc:
                if not lock_timed_out(exc):
                    raise
                log.warning("retention: %s stopped by a lock timeout; next run resumes", kind)
                report.interrupted.append(kind)
        report.stopped = stopping()
        if gateway is not None:
            report.remote = remote.process_due(database, gateway, clock or (lambda: now),
                                               should_stop=should_stop).as_dict()
        audit.record_alone(database, what="retention audit event", actor=actor,
                           action=STOPPED_ACTION if report.stopped else RUN_ACTION, now=now,
                           details=report.as_dict())
    finally:
        lock.release()
        database.checkpoint_deleted()  # what chunks deleted before a failure too
    return report
