"""The clock process: sweep and Twilio deletions every tick, retention once a day."""
from __future__ import annotations

import datetime as dt
import os
import signal
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from commsvc.records import cli as records_cli
from commsvc.records import remote, retention
from commsvc.records.cli import ClockJobs, serve_clock
from commsvc.records.models import AuditEvent
from commsvc.relay.models import Message
from commsvc.sending import cli as worker_cli
from commsvc.sending.worker import Counts
from commsvc.sessions import ending
from commsvc.sessions.models import Session
from tests.records.test_retention import DAY, make_message, make_session


def _runs(db) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == "retention.run"))


def test_retention_runs_once_a_day_after_three_utc_whatever_the_ticks(app, db, clock):
    jobs = ClockJobs(app)
    old = make_message(db, created_at=clock() - 91 * DAY).id
    db.commit()

    lines = jobs.tick()
    jobs.tick()

    assert any(line.startswith("retention:") for line in lines)
    assert _runs(db) == 1
    db.expunge_all()
    assert db.get(Message, old).body is None
    clock.set(dt.datetime(2026, 6, 2, 2, 59, tzinfo=dt.UTC))
    jobs.tick()
    assert _runs(db) == 1
    clock.set(dt.datetime(2026, 6, 2, 3, 1, tzinfo=dt.UTC))
    jobs.tick()
    ClockJobs(app).tick()  # a second clock process the same day does not repeat it
    assert _runs(db) == 2


def test_each_tick_sweeps_expired_sessions_and_sends_due_deletions(app, db, clock, twilio):
    overdue = make_session(db, created_at=clock() - 3 * DAY, status="open",
                           ended_at=clock() - DAY).id
    message = make_message(db, created_at=clock() - 91 * DAY)
    db.commit()

    lines = ClockJobs(app).tick()

    db.expunge_all()
    assert db.get(Session, overdue).status == "expired"
    assert "sessions expired: 1" in lines
    assert sorted(twilio.deleted) == sorted([("redact_message", message.twilio_sid),
                                             ("redact_message", message.forward_sid)])


def test_clock_once_exits_after_one_tick(runner):
    result = runner.invoke(args=["clock", "--once"])
    assert result.exit_code == 0, result.output
    assert "retention:" in result.output
    # The day's retention has run: a second tick has nothing to do, and says so (it printed
    # nothing, found by an operator's audit).
    again = runner.invoke(args=["clock", "--once"])
    assert (again.exit_code, again.output) == (0, "nothing was due\n")


class _Jobs:
    """A clock's jobs whose first ticks fail as given, then succeed and stop the clock."""

    def __init__(self, stop, failures):
        self.stop, self.failures, self.ticks = stop, list(failures), 0

    def tick(self):
        self.ticks += 1
        if self.failures:
            raise self.failures.pop(0)
        self.stop.set()
        return ["sessions expired: 1"]


def test_the_clock_waits_out_a_database_that_is_not_answering(caplog):
    """A restart or failover of PostgreSQL must not stop expiry and Twilio deletions for good:
    the clock retries, as the worker does."""
    stop = threading.Event()
    refused = OperationalError("SELECT 1", {}, Exception("connection refused"))
    jobs = _Jobs(stop, [refused, refused])

    serve_clock(jobs, stop, tick_seconds=0, retry_seconds=0)

    assert jobs.ticks == 3
    messages = [r.getMessage() for r in caplog.records if r.name == "commsvc.clock"]
    assert sum("database is not answering" in m for m in messages) == 2
    assert "clock: sessions expired: 1" in messages


class _ReadOnly(Exception):
    sqlstate = "25006"  # read_only_sql_transaction: a failover's new primary is not ready yet


def test_the_clock_and_the_worker_both_wait_out_a_read_only_database(monkeypatch):
    read_only = InternalError("UPDATE", {}, _ReadOnly("cannot execute UPDATE in a read-only"
                                                      " transaction"))
    stop = threading.Event()
    jobs = _Jobs(stop, [read_only])
    serve_clock(jobs, stop, tick_seconds=0, retry_seconds=0)
    assert jobs.ticks == 2

    worker_stop, passes = threading.Event(), []

    def run_once(_app, limit):
        passes.append(limit)
        if len(passes) == 1:
            raise read_only
        worker_stop.set()
        return Counts()

    monkeypatch.setattr(worker_cli, "run_once", run_once)
    monkeypatch.setattr(worker_cli, "DATABASE_RETRY_SECONDS", 0)
    worker_cli.serve(None, worker_stop, interval=0, batch=5)
    assert len(passes) == 2


def test_a_bug_reaching_the_worker_loop_stops_it_instead_of_a_retry_loop(monkeypatch):
    def run_once(_app, limit):
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(worker_cli, "run_once", run_once)
    with pytest.raises(IntegrityError):
        worker_cli.serve(None, threading.Event(), interval=0, batch=5)


def test_a_bug_in_a_clock_job_is_not_retried_forever():
    stop = threading.Event()
    bug = IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        serve_clock(_Jobs(stop, [bug]), stop, tick_seconds=0, retry_seconds=0)


def test_erasures_replay_takes_the_same_times_as_logs_since(runner):
    result = runner.invoke(args=["erasures", "replay", "--since", "2026-05-01T00:00:00Z"])

    assert result.exit_code == 0, result.output
    assert "subjects in the ledger" in result.output


def test_a_stopping_clock_starts_no_retention_run(app, db, clock):
    """A review: SIGTERM during a tick's deletions, then the same tick began the daily
    retention run and all its deletions."""
    stop = threading.Event()
    stop.set()
    ClockJobs(app, stop).tick()
    db.expunge_all()
    assert db.scalars(select(AuditEvent).where(
        AuditEvent.action == retention.RUN_ACTION)).all() == []


def test_ctrl_c_stops_clock_once_after_its_retention_batch_and_audits_it(
        app, db, runner, clock, monkeypatch):
    """Found in review: `commsvc clock --once` (one tick, as a scheduler runs it) took Ctrl-C
    or SIGTERM mid-retention with Python's default handlers: 'Aborted!' (or killed), the
    batches done so far and nothing in the audit log, where `retention run` (f0e4e0a) stops
    after its batch and audits retention.stopped."""
    for _ in range(2):
        make_message(db, created_at=clock() - 100 * DAY)
    db.commit()
    real_enqueue = remote.enqueue_many

    def ctrl_c_in_the_first_batch(db_, **kwargs):
        real_enqueue(db_, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # as the operator's Ctrl-C

    monkeypatch.setattr(remote, "enqueue_many", ctrl_c_in_the_first_batch)

    result = runner.invoke(args=["clock", "--once"])

    assert result.exit_code == 1, result.output
    assert "retention (stopped before the end):" in result.output
    assert "message_bodies 2" in result.output and "recordings" not in result.output
    assert db.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("retention.%"))).all() == ["retention.stopped"]


def test_ctrl_c_stops_clock_once_between_its_sweep_batches(app, db, runner, clock, monkeypatch):
    """Found in review: since e9bf2cc, Ctrl-C or SIGTERM during `commsvc clock --once`'s
    expiry sweep (1000 sessions a batch, a backlog after an outage) was held until every batch
    was done, where it used to stop it at once; the clock process's stop waited the same. The
    sweep now ends after the batch in progress, as retention does; the next tick does the
    rest."""
    for n in range(3):  # open sessions of different people (one open per phone and proxy)
        make_session(db, created_at=clock() - 3 * DAY, status="open", ended_at=clock() - DAY,
                     requester=f"+1415555{1000 + n}", pro=f"+1212555{1000 + n}")
    db.commit()
    batches = []

    def a_batch_of_one_then_ctrl_c(db_, now):
        batches.append(ending.sweep_expired(db_, now, batch_size=1))
        os.kill(os.getpid(), signal.SIGINT)  # as the operator's Ctrl-C
        return batches[-1]

    monkeypatch.setattr(records_cli, "sweep_expired", a_batch_of_one_then_ctrl_c)
    monkeypatch.setattr(records_cli, "SWEEP_BATCH_SIZE", 1)

    result = runner.invoke(args=["clock", "--once"])

    assert result.exit_code == 1, result.output
    assert batches == [1] and "sessions expired: 1" in result.output
