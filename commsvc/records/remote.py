"""Deleting or redacting Twilio's copies: queued with the local change, retried until done.

Invariants:
- `enqueue` runs in the transaction that removes or blanks the local copy, so the two commit or
  roll back together: a deletion at Twilio is never forgotten and never asked for data that
  is still held here.
- (resource, sid, action) is unique: queuing the same deletion twice (a replayed erasure, a
  retention run racing an erasure) is a no-op.
- A row is done only when Twilio confirms it (2xx) or says the resource is gone already (404).
  Every other answer counts an attempt and moves `next_attempt_at` later: 20009 (the message,
  call or recording is not final yet: a call still in progress), 429, 5xx and network
  failures with backoff, and even an unexpected 4xx (after a longer wait, logged): nothing is
  ever dropped.
- Safe with several clock processes: a claim pushes `next_attempt_at` forward by a lease in
  one short transaction (rows locked FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on
  SQLite), and Twilio is called outside any transaction.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from commsvc.db.base import UTCDateTime
from commsvc.db.failures import again_on_a_dropped_connection
from commsvc.db.inserts import insert_for
from commsvc.health import metric_source
from commsvc.records.models import RemoteDeletion
from commsvc.twilio_gateway import NOT_FINAL_YET, TwilioError

log = logging.getLogger("commsvc.records.remote")

MESSAGE, RECORDING, CALL = "message", "recording", "call"
DELETE, REDACT = "delete", "redact"
CLAIM_BATCH_SIZE = 100
CLAIM_LEASE = dt.timedelta(minutes=10)  # a crashed claimer's rows are due again after this
FIRST_RETRY = dt.timedelta(minutes=5)
MAX_RETRY = dt.timedelta(hours=24)
UNEXPECTED_ERROR_RETRY = dt.timedelta(hours=6)
GONE = 404
ORPHAN = "orphan_callback"  # a deletion's cause: Twilio's copy of a record no longer held
# A deletion's cause: a lookup's pick whose text went (retention, an erasure) or gave it up,
# that a text that stays may own (commsvc/sending/picks.py). It waits, asked again at each
# look (KEPT_LOOK_AGAIN), until no text may own it, and is then deleted (or redacted); a
# lookup may still take it meanwhile (messages_queued leaves it out), and the text that takes
# it decides its fate from then on. Queued for another cause, it is deleted as that says.
KEPT = "kept_pick"
KEPT_LOOK_AGAIN = dt.timedelta(days=1)
KEPT_WHY = "kept: a text that stays may own this copy"


# PostgreSQL: the SIDs as one array parameter, ENQUEUE_CHUNK a statement. An executemany of
# the one-row INSERT sent a statement per row (psycopg's pipeline): 200,000 SIDs, an erasure
# of a busy pro's 100,000 texts, took 7.7 s of its 10.5; as arrays 0.4 s.
_ENQUEUE_ARRAY = text(
    "INSERT INTO remote_deletions (resource, sid, action, cause, attempts, created_at,"
    " next_attempt_at) SELECT :resource, sid, :action, :cause, 0, :now, :now"
    " FROM unnest(CAST(:sids AS varchar[])) AS sid"
    " ON CONFLICT (resource, sid, action) DO UPDATE SET cause = EXCLUDED.cause,"
    " attempts = 0, created_at = EXCLUDED.created_at,"
    " next_attempt_at = EXCLUDED.next_attempt_at, last_error = NULL"
    f" WHERE remote_deletions.cause = '{KEPT}' AND EXCLUDED.cause <> '{KEPT}'"
    " AND remote_deletions.done_at IS NULL").bindparams(
        bindparam("now", type_=UTCDateTime()))  # as the ORM binds it: a naive time refused
ENQUEUE_CHUNK = 10_000


def enqueue_many(db: Session, *, resource: str, sids, action: str, cause: str,
                 now: dt.datetime) -> int:
    """Queue deletions at Twilio in the caller's transaction (None skipped); how many SIDs.
    One queued already stays as it is, but a kept pick's (KEPT), which another cause makes
    due at once: pending from then (the gauges' age) and retried afresh."""
    wanted = [sid for sid in dict.fromkeys(sids) if sid]
    if not wanted:
        return 0
    if db.get_bind().dialect.name == "postgresql":
        for at in range(0, len(wanted), ENQUEUE_CHUNK):
            db.execute(_ENQUEUE_ARRAY, {"resource": resource, "action": action, "cause": cause,
                                        "now": now, "sids": wanted[at:at + ENQUEUE_CHUNK]})
        return len(wanted)
    # SQLite: one cached statement, executed for many rows (sqlite3's executemany, in C).
    table = RemoteDeletion.__table__
    insert = insert_for(db)(table)
    db.execute(insert.on_conflict_do_update(
        index_elements=["resource", "sid", "action"],
        set_={"cause": insert.excluded.cause, "attempts": 0,
              "created_at": insert.excluded.created_at,
              "next_attempt_at": insert.excluded.next_attempt_at, "last_error": None},
        where=(table.c.cause == KEPT) & (insert.excluded.cause != KEPT)
        & table.c.done_at.is_(None)),
               [{"resource": resource, "sid": sid, "action": action, "cause": cause,
                 "attempts": 0, "created_at": now, "next_attempt_at": now} for sid in wanted])
    return len(wanted)


def enqueue(db: Session, *, resource: str, sid: str | None, action: str, cause: str,
            now: dt.datetime) -> None:
    """Queue one deletion at Twilio in the caller's transaction (no-op without a SID)."""
    enqueue_many(db, resource=resource, sids=[sid], action=action, cause=cause, now=now)


def message_queued(db: Session, sid: str, *, action: str) -> bool:
    """Whether the deletion or redaction of this message SID is queued already (or done)."""
    return bool(messages_queued(db, [sid], action=action))


def messages_queued(db: Session, sids: list[str], *, action: str) -> set[str]:
    """Those of these message SIDs whose deletion or redaction is queued already (or done);
    not a kept pick's still waiting (KEPT): a text may own that copy."""
    if not sids:
        return set()
    # Uses index: uq_remote_deletions_resource_sid_action
    return set(db.scalars(select(RemoteDeletion.sid).where(
        RemoteDeletion.resource == MESSAGE, RemoteDeletion.sid.in_(sids),
        RemoteDeletion.action == action,
        (RemoteDeletion.cause != KEPT) | RemoteDeletion.done_at.is_not(None))))


def enqueue_message(db: Session, sids, *, action: str, cause: str, now: dt.datetime) -> None:
    """Queue the deletion or redaction of every message SID given (None skipped)."""
    enqueue_many(db, resource=MESSAGE, sids=sids, action=action, cause=cause, now=now)


@dataclass
class DeletionReport:
    done: int = 0
    already_gone: int = 0
    retry_later: int = 0
    kept: int = 0  # kept picks a text that stays may own: asked again later
    dropped: int = 0  # kept picks a text took since (a lookup): left to it
    simulated: bool = False  # SimulatedTwilio (no TWILIO_ACCOUNT_SID): nothing went to Twilio

    def as_dict(self) -> dict[str, int]:
        """The counts for the CLI and the audit trail: "simulated", not "done", when no request
        went to Twilio."""
        counts = {"done": self.done, "already_gone": self.already_gone,
                  "retry_later": self.retry_later,
                  **{k: v for k, v in (("kept", self.kept), ("dropped", self.dropped)) if v}}
        if self.simulated:
            return {"simulated": counts.pop("done"), **{k: v for k, v in counts.items() if v}}
        return counts


def _backoff(attempts: int, retry_after: float | None) -> dt.timedelta:
    # Doubled at most 16 times (FIRST_RETRY's 5 minutes reach MAX_RETRY in 9): a timedelta
    # overflows past 999,999,999 days, which 2**39 doublings of 5 minutes are.
    wait = min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 16)), MAX_RETRY)
    if retry_after:  # honoured up to the cap: a Retry-After years away must not shelve it
        wait = max(wait, dt.timedelta(seconds=min(retry_after, MAX_RETRY.total_seconds())))
    return wait


def _call(gateway, row) -> None:
    if row.resource == RECORDING:
        gateway.delete_recording(row.sid)
    elif row.resource == CALL:
        gateway.delete_call(row.sid)
    elif row.action == REDACT:
        gateway.redact_message(row.sid)
    else:
        gateway.delete_message(row.sid)


def claim_due(db: Session, now: dt.datetime, limit: int = CLAIM_BATCH_SIZE) -> list:
    """Take up to `limit` due rows for this process (the caller commits at once)."""
    # Uses index: ix_remote_deletions_pending (done_at, next_attempt_at), in its order: a
    # tie-break by id made PostgreSQL sort every pending row (an erasure queues them all at
    # one time): 0.4 s a claim with 600,000 pending.
    query = (select(RemoteDeletion.id, RemoteDeletion.resource, RemoteDeletion.sid,
                    RemoteDeletion.action, RemoteDeletion.attempts, RemoteDeletion.cause)
             .where(RemoteDeletion.done_at.is_(None), RemoteDeletion.next_attempt_at <= now)
             .order_by(RemoteDeletion.next_attempt_at)
             .limit(limit))
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = db.execute(query).all()
    if rows:
        db.execute(update(RemoteDeletion)
                   .where(RemoteDeletion.id.in_([r.id for r in rows]))
                   .values(next_attempt_at=now + CLAIM_LEASE))
    return rows


def _kept(database, gateway, row, now: dt.datetime) -> tuple[str, dict | None] | None:
    """A kept pick's outcome while a text here holds it (a lookup took it: the deletion is
    dropped, that text decides) or a text that stays may own it (asked again later); None:
    no text may, so it goes as any deletion does. Twilio describes the copy (its number, body,
    and when it was made: the rule's facts, its text being gone). Twilio not describing it (a
    503, unreachable; not a 404: gone) leaves it kept, as last decided, looked at again after
    the back-off: not a deletion pending since it was queued, days before."""
    try:
        copy = gateway.fetch_message(row.sid)
    except TwilioError as exc:
        kind, values = _outcome(row, exc, now)
        if kind == "retry_later":
            values["last_error"] = f"{KEPT_WHY} (its look failed: {values['last_error']})"
        return kind, values
    if copy["date_created"] is None:  # no time to ask the rule with: asked again later
        return "kept", {"next_attempt_at": now + KEPT_LOOK_AGAIN, "last_error": KEPT_WHY}
    # Here, not at the top: the sending package imports this module.
    from commsvc.sending.picks import at_twilio, held_or_owned

    with database.sessionmaker() as db:
        found = held_or_owned(db, at_twilio(row.sid, copy["to"], copy["body"],
                                            copy["date_created"]), redact=row.action == REDACT)
    if found == "held":
        return "dropped", None
    if found == "owned":
        return "kept", {"next_attempt_at": now + KEPT_LOOK_AGAIN, "last_error": KEPT_WHY}
    return None


def _outcome(row, error: TwilioError | None, now: dt.datetime) -> tuple[str, dict]:
    attempts = row.attempts + 1
    if error is None:
        return "done", {"done_at": now, "attempts": attempts, "last_error": None}
    # Without a status Twilio never answered: the error says why ("Twilio unreachable: ...").
    described = (f"HTTP {error.status} code {error.code or '-'}" if error.status is not None
                 else str(error))
    if error.status == GONE:
        return "already_gone", {"done_at": now, "attempts": attempts,
                                "last_error": described + " (already gone)"}
    if error.code == NOT_FINAL_YET or error.retryable:
        wait = _backoff(attempts, error.retry_after)
        if error.status is None:  # Twilio's own answers (429, 5xx, in progress) are routine
            log.warning("twilio unreachable for a %s %s (%s); retrying in %s", row.resource,
                        row.action, described, wait)
    else:
        log.warning("twilio refused a %s %s (%s); retrying in %s", row.resource, row.action,
                    described, UNEXPECTED_ERROR_RETRY)
        wait = max(UNEXPECTED_ERROR_RETRY, _backoff(attempts, None))
    return "retry_later", {"attempts": attempts, "last_error": described,
                           "next_attempt_at": now + wait}


OUTCOMES_PER_COMMIT = 20  # a few seconds of Twilio calls, well inside CLAIM_LEASE


def process_due(database, gateway, clock: Callable[[], dt.datetime], *,
                batch_size: int = CLAIM_BATCH_SIZE, should_stop=None) -> DeletionReport:
    """Ask Twilio for every due deletion, one claimed batch at a time, until none is due (or
    `should_stop()`, checked between deletions: the process is stopping; what it claimed and
    did not ask for is due again when the claim lapses).

    `clock()` is read for each claim and each outcome: Twilio's answers may take seconds each
    (10 s to a timeout), and a claim's lease or a back-off (Retry-After) counted from the start
    of a long run would have lapsed before the run ended: another clock process would take
    the rows it still held, and a rate-limited Twilio be asked again at once.

    Outcomes are written OUTCOMES_PER_COMMIT at a time (one commit a row cost ~1 ms each on
    SQLite), and whatever was obtained is written even if the batch then fails: a deletion
    asked for twice is harmless (Twilio answers 404: already gone)."""
    report = DeletionReport(simulated=getattr(gateway, "simulated", False))
    stopping = should_stop or (lambda: False)
    def claim() -> list:
        with database.sessionmaker() as db:
            claimed = claim_due(db, clock(), batch_size)
            db.commit()
        return claimed

    while not stopping():
        # Claimed twice (the first commit went through unseen): those rows wait out the lease.
        rows = again_on_a_dropped_connection(claim, what="twilio deletions claim")
        outcomes: list[tuple[int, dict | None]] = []
        try:
            for index, row in enumerate(rows):
                if stopping():
                    break
                try:
                    kept = _kept(database, gateway, row, clock()) \
                        if row.cause == KEPT and not report.simulated else None
                    if kept is None:
                        _call(gateway, row)
                    kind, values = kept or _outcome(row, None, clock())
                except TwilioError as exc:
                    kind, values = _outcome(row, exc, clock())
                setattr(report, kind, getattr(report, kind) + 1)
                outcomes.append((row.id, values))
                if len(outcomes) >= OUTCOMES_PER_COMMIT:
                    # The rest of the batch stays this process's: a batch of slow answers
                    # (10 s each to a timeout) outlasts one lease.
                    _record(database, outcomes, still_held=[r.id for r in rows[index + 1:]],
                            lease_until=clock() + CLAIM_LEASE)
        finally:
            _record(database, outcomes)
        if len(rows) < batch_size:
            break
    return report


def _record(database, outcomes: list[tuple[int, dict | None]], *, still_held: list[int] = (),
            lease_until: dt.datetime | None = None) -> None:
    """Write these outcomes in one transaction, and forget them; renew the claim of the rows
    `still_held` (claimed, not yet asked for) until `lease_until`."""
    if not outcomes:
        return

    def write() -> None:  # the same values again: safe to repeat
        with database.sessionmaker() as db:
            for row_id, values in outcomes:
                which = (RemoteDeletion.id == row_id, *_while_kept(values))
                if values is None:  # a kept pick a text took: its text decides
                    db.execute(delete(RemoteDeletion).where(*which))
                    continue
                db.execute(update(RemoteDeletion).where(*which).values(**values))
            if still_held:
                db.execute(update(RemoteDeletion)
                           .where(RemoteDeletion.id.in_(still_held),
                                  RemoteDeletion.done_at.is_(None))
                           .values(next_attempt_at=lease_until))
            db.commit()

    again_on_a_dropped_connection(write, what="twilio deletions outcomes")
    outcomes.clear()


def _while_kept(values: dict | None) -> tuple:
    """SQL conditions a kept pick's outcome (dropped: None; asked again later: KEPT_WHY) is
    written on: the row is still a kept pick's. Queued meanwhile for another cause (the erasure
    of the text that took the copy: enqueue_many upgrades the row), it stays due for that."""
    if values is None or (values.get("last_error") or "").startswith(KEPT_WHY):
        return (RemoteDeletion.cause == KEPT,)
    return ()


@metric_source
def deletion_metrics(db: Session, now: dt.datetime):
    """Pending Twilio deletions and the age of the oldest: alert when it keeps growing."""
    # Uses index: ix_remote_deletions_pending (done_at IS NULL prefix)
    # A kept pick a text may own is not pending: it waits for that text (KEPT).
    rows = db.execute(select(RemoteDeletion.resource, func.count(),
                             func.min(RemoteDeletion.created_at))
                      .where(RemoteDeletion.done_at.is_(None),
                             ~func.coalesce(RemoteDeletion.last_error, "").startswith(KEPT_WHY))
                      .group_by(RemoteDeletion.resource)).all()
    pending = GaugeMetricFamily("commsvc_twilio_deletions_pending",
                                "Deletions or redactions Twilio has not confirmed yet",
                                labels=["resource"])
    oldest = GaugeMetricFamily("commsvc_twilio_deletion_oldest_pending_seconds",
                               "Age of the oldest unconfirmed deletion", labels=["resource"])
    found = {resource: (count, first) for resource, count, first in rows}
    for resource in (MESSAGE, CALL, RECORDING):
        count, first = found.get(resource, (0, None))
        pending.add_metric([resource], count)
        oldest.add_metric([resource], (now - first).total_seconds() if first else 0)
    yield pending
    yield oldest
