"""Retention on PostgreSQL with real commits: two runs never overlap, lock waits stay short."""
from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from sqlalchemy import func, select, text

from commsvc.records import retention
from commsvc.records.models import AuditEvent, RemoteDeletion
from commsvc.relay.models import Message
from tests.concurrency import a_lock_wait_begins
from tests.records.test_retention import DAY, make_message

pytestmark = pytest.mark.pg_only


def _seed(app, clock, count: int) -> list[int]:
    with app.extensions["db"].sessionmaker() as db:
        ids = [make_message(db, created_at=clock() - 100 * DAY).id for _ in range(count)]
        db.commit()
    return ids


def _run(app, clock, **kwargs):
    return retention.run(app.extensions["db"], retention=app.extensions["config"].retention,
                         now=clock(), **kwargs)


def test_two_runs_at_once_do_the_work_once(committed_app, clock):
    _seed(committed_app, clock, 60)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(_run(committed_app, clock, chunk_size=2))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    reports = [r for r in results if r is not None]
    assert reports, "at least one run does the work"
    assert sum(r.counts["message_bodies"] for r in reports) == 60
    with committed_app.extensions["db"].sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Message)
                         .where(Message.body_removed_at.is_(None))) == 0
        assert db.scalar(select(func.count()).select_from(RemoteDeletion)) == 120
        runs = db.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "retention.run"))
    assert runs == len(reports)


def test_a_second_run_while_one_holds_the_lock_says_so_and_exits_0(committed_app, clock):
    _seed(committed_app, clock, 1)
    engine = committed_app.extensions["db"].engine
    with engine.connect() as other:
        assert other.scalar(select(func.pg_try_advisory_lock(retention.RUN_LOCK_KEY)))
        try:
            result = committed_app.test_cli_runner().invoke(args=["retention", "run"])
            assert _run(committed_app, clock) is None
        finally:
            other.scalar(select(func.pg_advisory_unlock(retention.RUN_LOCK_KEY)))
    assert result.exit_code == 0
    assert "another run is in progress" in result.output
    with committed_app.extensions["db"].sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Message)
                         .where(Message.body.is_not(None))) == 1
    assert _run(committed_app, clock).counts["message_bodies"] == 1


def test_a_row_locked_elsewhere_stops_its_pass_quickly_and_the_next_run_resumes(
        committed_app, clock, monkeypatch):
    monkeypatch.setattr(retention, "LOCK_TIMEOUT", "200ms")
    [locked_id, *_] = _seed(committed_app, clock, 3)
    engine = committed_app.extensions["db"].engine
    with engine.connect() as other:
        other.execute(text("SELECT id FROM messages WHERE id = :id FOR UPDATE"),
                      {"id": locked_id})
        started = time.monotonic()
        report = _run(committed_app, clock)
        elapsed = time.monotonic() - started
        other.rollback()
    assert report.interrupted == ["message_bodies"]
    assert elapsed < 5
    assert _run(committed_app, clock).counts["message_bodies"] == 3


def test_a_run_whose_lock_connection_the_database_dropped_finishes_and_is_audited_once(
        committed_app, clock):
    # pg_terminate_backend, a PgBouncer restart or a failover closes the run lock's own
    # connection mid-run: the session-level lock went with it, and the run, its batches on
    # other connections, carried on. It must still end as a run (report, one audit event), not
    # with a database error at the unlock once all the work is done and audited.
    _seed(committed_app, clock, 6)
    engine = committed_app.extensions["db"].engine
    dropped = []

    def drop_the_lock_connection_once() -> bool:
        if not dropped:
            with engine.connect() as conn:
                dropped.append(conn.scalar(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND objid = :key AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"),
                    {"key": retention.RUN_LOCK_KEY & 0xFFFFFFFF}))
        return False

    report = _run(committed_app, clock, chunk_size=2, should_stop=drop_the_lock_connection_once)

    assert dropped == [1]
    assert report is not None and report.counts["message_bodies"] == 6
    with committed_app.extensions["db"].sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "retention.run")) == 1
    assert _run(committed_app, clock).counts["message_bodies"] == 0  # the lock is free again


def test_a_run_that_overlaps_one_whose_lock_was_dropped_counts_each_row_once(
        committed_app, clock, monkeypatch):
    # The first run's lock connection is dropped, so a second run takes the lock and starts
    # while the first is inside a batch. It read that batch's rows as still to do, blanked
    # them again once the first committed, and counted them: both audit events counted them.
    _seed(committed_app, clock, 10)
    engine = committed_app.extensions["db"].engine
    first_run, in_a_batch = threading.current_thread(), threading.Event()
    overlapped = []

    def drop_the_lock_connection() -> bool:
        with engine.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND objid = :key AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"key": retention.RUN_LOCK_KEY & 0xFFFFFFFF})
        return False

    def held_open(apply):
        def apply_then_wait(db, rows, now, leaving):
            apply(db, rows, now, leaving)
            if threading.current_thread() is first_run and not in_a_batch.is_set():
                in_a_batch.set()  # the second run starts now; this batch commits once the
                # second waits for its rows (a sleep let a slow second run start after it)
                overlapped.append(a_lock_wait_begins(engine))
        return apply_then_wait

    monkeypatch.setattr(retention, "PASSES", tuple(
        dataclasses.replace(spec, apply=held_open(spec.apply))
        if spec.kind == "message_bodies" else spec for spec in retention.PASSES))
    second = []
    thread = threading.Thread(target=lambda: in_a_batch.wait(10) and second.append(
        _run(committed_app, clock, chunk_size=2)))
    thread.start()
    first = _run(committed_app, clock, chunk_size=2,
                 should_stop=lambda: drop_the_lock_connection() if not in_a_batch.is_set()
                 else False)
    thread.join(30)

    assert overlapped == [True]  # the second run waited for the first's batch
    assert first is not None and second and second[0] is not None
    assert first.counts["message_bodies"] + second[0].counts["message_bodies"] == 10
