"""`commsvc retention run`, `commsvc erasures replay`, `commsvc encryption rotate`, `commsvc clock`.

Thin wrappers: each parses options, calls one domain function with the app's database, clock,
configuration and Twilio gateway, and prints what it did (counts only, never a number).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from commsvc import crypto
from commsvc.app import warn_at_start
from commsvc.db.failures import DATABASE_RETRY_SECONDS
from commsvc.long_running import stop_on_signals, stopping_on_signals, waited_out
from commsvc.records import audit, erasure_replay, remote, retention, rotation
from commsvc.records.logs_cli import UtcTime
from commsvc.records.models import AuditEvent
from commsvc.sessions.ending import SWEEP_BATCH_SIZE, sweep_expired

log = logging.getLogger("commsvc.clock")

CLOCK_ACTOR = "clock"
RETENTION_HOUR_UTC = 3  # the daily run starts at the first tick after 03:00 UTC

DONE = {"messages": "deleted", "calls": "deleted", "outbound_messages": "deleted",
        "message_bodies": "blanked", "outbound_bodies": "blanked",
        "recordings": "removed", "sessions": "deleted", "audit_events": "purged"}


def _ext(name: str):
    return current_app.extensions[name]


def _stopped(command: str, rest: str = "run it again for the rest") -> click.ClickException:
    """The exit-1 line of a command a stop signal ended after its batch in progress (what it
    did is printed and audited before it)."""
    return click.ClickException(f"{command} stopped before the end (Ctrl-C or SIGTERM): {rest}")


def print_retention(report: retention.RetentionReport) -> None:
    if report.dry_run:
        click.echo("retention run: dry run, nothing was changed; rows past their period"
                   + (" (stopped before the end):" if report.stopped else ":"))
    elif report.stopped:
        click.echo("retention run: stopped before the end; done so far:")
    else:
        click.echo("retention run: done")
    for kind, count in report.counts.items():
        verb = "eligible" if report.dry_run else DONE.get(kind, "processed")
        click.echo(f"  {kind:<18} {count:>9} {verb}")
    for kind in report.interrupted:
        click.echo(f"  {kind:<18} interrupted by a lock timeout; the next run resumes it")
    if report.remote:
        click.echo("  twilio deletions   " + ", ".join(f"{k} {v}" for k, v in
                                                      report.remote.items()))


@click.group("retention")
def retention_group():
    """Retention of messages, calls, recordings, sessions and audit events."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.option("--batch-size", type=click.IntRange(1, 5000), default=None,
              help="Rows per transaction (default: each kind's own, about 1000).")
@with_appcontext
def retention_run_command(dry_run: bool, batch_size: int | None):
    """Blank or delete everything past its retention period, except what a hold keeps.
    Ctrl-C or SIGTERM stops it after the current batch (exit 1; the next run does the rest)."""
    # What was done before the stop (Ctrl-C, SIGTERM) is still printed and audited, whether it
    # came during the batches or while it asks Twilio for the queued deletions.
    with stopping_on_signals(log, "retention run") as stop:
        report = retention.run(_ext("db"), retention=_ext("config").retention,
                               now=_ext("clock")(), gateway=_ext("twilio"), dry_run=dry_run,
                               chunk_size=batch_size, actor=audit.cli_actor(),
                               should_stop=stop.is_set, clock=_ext("clock"))
    if report is None:
        click.echo("retention run: another run is in progress; nothing to do")
        return
    print_retention(report)
    if report.stopped:
        raise _stopped("retention run")


@click.group("erasures")
def erasures_group():
    """The erasure ledger."""


@erasures_group.command("replay")
@click.option("--since", type=UtcTime(), default=None,
              help="Only ledger entries from this time on: ISO 8601, UTC unless it names a"
                   " zone (as `logs --since`).")
@with_appcontext
def erasures_replay_command(since: dt.datetime | None):
    """After a backup restore (a lift erases what its hold kept on its own): erase again every
    subject in the ledger (what was on record at their last erasure; what a returning customer
    made since stays)."""
    result = erasure_replay.replay_erasures(_ext("db"), config=_ext("config"), now=_ext("clock")(),
                                      since=since, actor=audit.cli_actor())
    click.echo(f"erasures replay: {result.ledger_subjects} subjects in the ledger, "
               f"{result.phones_checked} numbers on record checked, "
               f"{result.matched} found again and erased"
               + (f", {result.held} found again but kept by a legal hold" if result.held else "")
               + (f", {result.newer} found again only in what they made since their erasure"
                  if result.newer else ""))
    if result.unfinished:
        click.echo(f"  {result.unfinished} of them with an erasure that stopped before its end"
                   " (unfinished in the ledger, which now counts what this removed): send"
                   " their erasure again to finish it")
    for kind, count in result.removed.items():
        click.echo(f"  {kind:<18} {count:>9} removed")
    if result.error is not None:
        part = (" (its batches done so far are counted above; a new replay removes the rest"
                " of it)" if result.stopped_in_part else "")
        click.echo(f"erasures replay: stopped at {result.stopped_at}{part}: those above are"
                   " erased, the rest not yet; run the replay again (it is safe to repeat)",
                   err=True)
        raise result.error


@click.group("encryption")
def encryption_group():
    """Encryption at rest."""


@encryption_group.command("rotate")
@click.option("--batch-size", type=click.IntRange(1, 10000), default=rotation.BATCH_SIZE,
              show_default=True)
@with_appcontext
def encryption_rotate_command(batch_size: int):
    """Re-encrypt every body and media list under the newest key in ENCRYPTION_KEYS.
    Ctrl-C or SIGTERM stops it after the current batch (exit 1; run it again for the rest)."""
    if crypto.keyring().key_count < 2:
        # Every body readable is then under it already: a run would say "done, unavailable 0",
        # the sign that the old key may go, having rotated nothing (a `$NEW,$OLD` assigned in
        # a shell that did not export ENCRYPTION_KEYS never reaches this process).
        from commsvc.cli import fail
        fail("ENCRYPTION_KEYS holds one key, so there is nothing to rotate to: give this"
             " command (exported) and every process the new key first and the old one(s) after"
             " it, ENCRYPTION_KEYS=\"$NEW,$OLD\", then run it again", 2)
    database = _ext("db")
    with stopping_on_signals(log, "encryption rotate") as stop:
        report = rotation.rotate(database, batch_size=batch_size, should_stop=stop.is_set)
    stopped = stop.is_set()
    # A privileged act: in the audit log, counts only.
    audit.record_alone(database, what="encryption rotate audit event",
                       actor=audit.cli_actor(), action="encryption.rotated",
                       now=_ext("clock")(),
                       details={**{column: vars(counts) for column, counts in report.items()},
                                **({"stopped": True} if stopped else {})})
    interrupted = [column for column, counts in report.items() if counts.interrupted]
    click.echo("encryption rotate: stopped before the end; done so far:" if stopped
               else f"encryption rotate: {'interrupted' if interrupted else 'done'}")
    for column, counts in report.items():
        click.echo(f"  {column:<24} rotated {counts.rotated:>9}  already current "
                   f"{counts.current:>9}  unavailable {counts.unavailable:>6}")
    if any(c.unavailable for c in report.values()):
        click.echo("some rows are under a key no longer configured: they read as unavailable "
                   "and were left as they are", err=True)
    if interrupted:
        # Not the database down: a row another transaction (an erasure) held past the lock
        # timeout. Removing the old key now would leave the rest of the column unreadable.
        raise click.ClickException(
            f"{', '.join(interrupted)}: stopped by a lock timeout (a row held by another"
            f" transaction, e.g. an erasure); run it again to resume, and keep the old keys"
            f" until a run says done")
    if stopped:
        raise _stopped("encryption rotate")


class ClockJobs:
    """What the clock process does on each tick, decided by the injected clock.

    Every tick: the expired-session sweep and due Twilio deletions (both claim their rows, so
    several clock processes share the work). Retention once a day: due when no `retention.run`
    event exists since the latest 03:00 UTC, so restarts and extra processes do not repeat it,
    and its advisory lock keeps two from overlapping.
    """

    def __init__(self, app, stop: threading.Event | None = None):
        self.app = app
        self.stop = stop  # set when the process is to stop: long jobs end early

    def _retention_due(self, now: dt.datetime) -> bool:
        slot = now.replace(hour=RETENTION_HOUR_UTC, minute=0, second=0, microsecond=0)
        if slot > now:
            slot -= dt.timedelta(days=1)
        with self.app.extensions["db"].sessionmaker() as db:
            # Uses index: ix_audit_events_action_id (backward, one row)
            last = db.scalar(select(AuditEvent.created_at)
                             .where(AuditEvent.action == retention.RUN_ACTION)
                             .order_by(AuditEvent.id.desc()).limit(1))
        return last is None or last < slot

    def _sweep(self, now: dt.datetime) -> int:
        total = 0
        while True:
            with self.app.extensions["db"].sessionmaker() as db:
                swept = sweep_expired(db, now)
                db.commit()
            total += swept
            # A stop ends a backlog's sweep after its batch (committed): the next tick goes on
            if swept < SWEEP_BATCH_SIZE or (self.stop and self.stop.is_set()):
                return total

    def tick(self) -> list[str]:
        ext = self.app.extensions
        now = ext["clock"]()
        lines = []
        swept = self._sweep(now)
        if swept:
            lines.append(f"sessions expired: {swept}")
        stopping = self.stop.is_set if self.stop else None
        sent = remote.process_due(ext["db"], ext["twilio"], ext["clock"], should_stop=stopping)
        lines.extend(_deletions_line(sent.as_dict()))
        if not (stopping and stopping()) and self._retention_due(now):
            report = retention.run(ext["db"], retention=ext["config"].retention, now=now,
                                   gateway=ext["twilio"], actor=CLOCK_ACTOR,
                                   should_stop=stopping, clock=ext["clock"])
            if report is None:
                lines.append("retention: another run is in progress")
            else:
                lines.append(("retention (stopped before the end): " if report.stopped
                              else "retention: ")
                             + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
                lines.extend(_deletions_line(report.remote))  # what its run asked Twilio
        return lines


def _deletions_line(counts: dict[str, int]) -> list[str]:
    """The clock's line for Twilio deletions asked for (none when none were)."""
    if not any(counts.values()):
        return []
    return ["twilio deletions: " + ", ".join(f"{k} {v}" for k, v in counts.items())]


@click.command("clock")
@click.option("--tick-seconds", type=click.IntRange(1, 3600), default=60, show_default=True)
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@with_appcontext
def clock_command(tick_seconds: int, once: bool):
    """The Procfile's clock process: expiry sweep and Twilio deletions every tick, retention
    daily. Several may run at once: each job takes its own database lock or claim. SIGTERM,
    SIGINT (Ctrl-C) or SIGHUP ends it once the current pass is done (exit 0; with --once,
    retention stops after its batch, exit 1)."""
    if once:  # Ctrl-C or SIGTERM: retention stops after its batch, audited, as `retention run`
        with stopping_on_signals(log, "clock") as stop:
            lines = ClockJobs(current_app._get_current_object(), stop).tick()
        for line in lines:
            click.echo(line)
        if not lines:
            click.echo("nothing was due")
        if stop.is_set():
            raise _stopped("clock --once", rest="the next tick does the rest")
        return
    stop = stop_on_signals(log, "clock")
    jobs = ClockJobs(current_app._get_current_object(), stop)
    warn_at_start(current_app.extensions["config"])
    serve_clock(jobs, stop, tick_seconds=tick_seconds)


def serve_clock(jobs: ClockJobs, stop: threading.Event, *, tick_seconds: float,
                retry_seconds: float = DATABASE_RETRY_SECONDS) -> None:
    """Tick until `stop` is set. A database that is not answering (a restart, a failover) or
    not migrated yet is waited for, as the worker waits: the clock's jobs are what expire
    sessions and delete at Twilio, and must not stop for good on a blip."""
    log.info("clock started (tick every %ss)", tick_seconds)
    while not stop.is_set():
        try:
            lines = jobs.tick()
        except DBAPIError as exc:
            if not waited_out(exc, stop, retry_seconds, log=log, name="clock"):
                raise  # a bug: its traceback is what someone needs
            continue
        for line in lines:
            log.info("clock: %s", line)
        stop.wait(tick_seconds)
    log.info("clock stopped")


commands = [retention_group, erasures_group, encryption_group, clock_command]
