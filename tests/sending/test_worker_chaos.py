"""Chaos: texts accepted through the API, sent by real `commsvc worker` processes on PostgreSQL
to a fake Twilio that answers 201, 500 (after its write, or before), 503, 429 Retry-After,
21610 and past the HTTP timeout, while workers are killed (kill -9) at random moments and in
the middle of sends, and two are stopped (SIGSTOP) past their lease; Twilio's status
callbacks reach the web side for 7 copies in 10. At the end every text is in a final state
docs/sending.md allows, Twilio got exactly one create for each text sent (identical texts
counted together: a lookup may give each the other's copy), but for the second copies that
page names (each checked against its case, and queued for deletion once Twilio reported it),
no text is left `sending`, and the workers' logs hold no number, no body and no traceback.
The second test does the same with the workers' PostgreSQL connections cut twice.

The workers reach the fake with configuration only (HTTPS_PROXY, REQUESTS_CA_BUNDLE: see
tests/sending/fake_twilio.py), as they are started by the Procfile.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from commsvc.app import create_app
from commsvc.clock import utcnow
from commsvc.records.models import RemoteDeletion
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service import DUE_STATUSES, EXTRA_COPY
from commsvc.twilio_gateway import SimulatedTwilio
from tests.conftest import AUTH_TOKEN, BASE_URL, TEST_KEY, pool_and_booking_key
from tests.faults.tcp_proxy import CuttableProxy
from tests.sending import fake_twilio as fake
from tests.sending.conftest import ACCOUNT_SID, SENDER
from tests.twilio_signing import TwilioPoster

pytestmark = pytest.mark.pg_only

SEED = 20261124
LEASE = 30  # OUTBOX_LEASE_SECONDS' least (config.loader.MIN_OUTBOX_LEASE_SECONDS)
WORKERS = 3
ROUNDS, PER_ROUND = 8, 10  # texts accepted through the API, a round a second
TWINS = {2, 5, 7}  # in these rounds the text 0 is sent twice: same number, same body
RANDOM_KILLS = (1.5, 3.0, 4.5, 6.0)  # seconds after the first round: kill -9 a worker
KILL_MID_SEND = (5, 9)  # the nth message Twilio takes: its sender is killed before the answer
# From the nth create on, the first that makes the stalled case: its worker stops before
# Twilio takes it (in flight). Only a create the plan answers 201, of a text with no copy at
# Twilio yet and no twin: the takeover's create is then answered 201 too (the stalled one is
# not counted yet) and makes the first copy, which no lookup can take from a twin. (The 6th
# create whatever it was, about 1 run in 6 a text the plan answers 21610: the takeover failed
# it with no copy, and the stalled request was still held when the run ended.)
PAUSE_BEFORE_TAKE = 6
# The stalled request is held until another worker's create for the same text made a copy
# (the takeover: a claim once the lease lapses, a lookup, a POST), so the second copy
# docs/sending.md names is made every run, however busy the machine (a fixed stall of 5, then
# 15 s past the lease lost that race on a busy machine); at most this long past the lease.
STALL_PAST_LEASE_AT_MOST = 90
PAUSE_AFTER_TAKE = 7  # from the nth create on, one worker stops once Twilio took it (answer unread)
SLOW_BODIES = {"Notice 1-3", "Notice 4-6"}  # answered after the 10 s timeout, once taken
LAGGED_BODIES = {"Notice 3-4"}  # taken with a 500, and unlisted for 8 s: a lookup misses it
LIST_LAG = 8.0
DATABASE_CUTS = ((3.0, 6.0), (12.0, 3.0))  # (seconds after the first round, for how long)
SETTLE_SECONDS = 100  # a bound on the wait for the last lease (never a time asserted)


def body_of(round_: int, i: int) -> str:
    return f"Notice {round_}-{i}"


TWIN_BODIES = {body_of(round_, 0) for round_ in TWINS}


def recipient(round_: int, i: int) -> str:
    return f"+1212555{round_:02d}{i:02d}"


def plan(body: str, nth: int) -> str:
    """Twilio's answer to the nth create of `body`: by a seeded draw, so a run is repeatable
    in what each text meets, whatever the order the workers reach Twilio in."""
    if body in SLOW_BODIES and nth == 0:
        return fake.SLOW
    if body in LAGGED_BODIES and nth == 0:
        return fake.CREATED_500
    if nth >= 4:
        return fake.CREATED
    draw = random.Random(f"{SEED}:{body}:{nth}").random()
    for answer, below in ((fake.CREATED, 0.55), (fake.CREATED_500, 0.63),
                          (fake.ERROR_500, 0.71), (fake.ERROR_503, 0.79),
                          (fake.THROTTLED, 0.88)):
        if draw < below:
            return answer
    return fake.UNSUBSCRIBED if nth == 0 else fake.CREATED


class Fleet:
    """The worker processes: started as the Procfile's `worker:` line, killed and replaced."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.lock = threading.Lock()
        self.running: list[subprocess.Popen] = []
        self.all: list[subprocess.Popen] = []
        self.paused: set[int] = set()
        self.stops: dict[int, list[float]] = {}  # pid -> [stopped at, resumed at]
        self.kills = 0
        self.pauses = 0

    def start(self) -> None:
        commsvc = str(Path(sys.executable).parent / "commsvc")
        log = open(self.logs / f"worker-{len(self.all)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen([commsvc, "worker", "--interval", "0.2", "--batch", "5"],
                                   env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        with self.lock:
            self.running.append(process)
            self.all.append(process)

    def pids(self) -> list[int]:
        with self.lock:
            return [p.pid for p in self.running]

    def kill(self, pid: int | None = None, rng: random.Random | None = None) -> None:
        """kill -9 the worker `pid` (else one chosen by `rng`, not a stopped one), and start
        another in its place."""
        with self.lock:
            candidates = [p for p in self.running if p.pid not in self.paused
                          and (pid is None or p.pid == pid)]
            if not candidates:
                return
            victim = (rng or random).choice(candidates)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            self.running.remove(victim)
            self.kills += 1
        self.start()

    def pause(self, pid: int | None) -> None:
        """SIGSTOP the worker `pid` until its lease is well past, then SIGCONT it."""
        if pid is None:
            return
        with self.lock:
            if pid in self.paused:
                return
            self.paused.add(pid)
            self.stops[pid] = [time.monotonic(), float("inf")]
            self.pauses += 1
        os.kill(pid, signal.SIGSTOP)

    def resume(self, pid: int) -> None:
        os.kill(pid, signal.SIGCONT)
        with self.lock:
            self.paused.discard(pid)
            self.stops[pid][1] = time.monotonic()

    def stop(self) -> None:
        for process in self.all:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
        for process in self.all:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


STALLED = "a worker stalled past its lease with its request in flight"
UNLISTED = "Twilio's list did not show the first copy yet"
NO_CALLBACK = "its callback never reached the app, so nothing knew of it (left at Twilio)"


def _checked(accepted, rows, twilio, stops, extra_copies) -> tuple[list[str], Counter]:
    """What breaks the promise (problems) and the second copies by the documented case.

    Identical texts (same number, same body) are checked as a group: a lookup may give each
    the other's copy (docs/sending.md), so what counts is one copy per text sent."""
    problems, cases = [], Counter()
    groups: dict[tuple[str, str], list[str]] = {}
    for message_id, text in accepted.items():
        groups.setdefault(text, []).append(message_id)
    held = Counter(r.twilio_sid for r in rows.values() if r.twilio_sid)
    problems += [f"{sid} held by {count} texts" for sid, count in held.items() if count > 1]
    for ids in groups.values():
        copies = sorted((c for i in ids for c in twilio.creates_of(i)), key=lambda c: c.at)
        sids = {c.sid for c in copies}
        for message_id in ids:
            row = rows[message_id]
            tried = [(c.answer, c.pid) for c in twilio.creates if c.outbound_id == message_id]
            where = f"{message_id} {accepted[message_id][1]!r} ({row.status}, {tried},"
            where += f" {row.last_error!r})"
            if row.status in ("sent", "delivered"):
                if row.twilio_sid not in sids:
                    problems.append(f"{where}: sent without a copy at Twilio")
            elif row.status in ("failed", "blocked"):
                if not row.last_error:
                    problems.append(f"{where}: {row.status} without a reason")
            else:
                problems.append(f"{where}: not in a final state")
        for copy in copies:
            if copy.sid in held:
                continue
            later = [c for c in copies if c.at > copy.at]
            stopped, resumed = stops.get(copy.pid, (0.0, 0.0))
            if stopped - 1 <= copy.at <= resumed + 1:  # its request was in flight meanwhile
                case = STALLED
            elif later and twilio.stored[copy.sid].visible_from > later[0].at:
                case = UNLISTED
            else:
                problems.append(f"{ids}: copy {copy.sid} ({copy.answer}, pid {copy.pid}) held"
                                f" by no text, no documented case: "
                                f"{[(c.answer, c.pid) for c in copies]}")
                continue
            cases[case] += 1
            print(case, [(c.answer, c.pid, round(c.at - copies[0].at, 1), c.sid[-2:],
                          c.outbound_id[-4:]) for c in copies],
                  [(i[-4:], rows[i].status, (rows[i].twilio_sid or "")[-2:]) for i in ids])
            if copy.sid not in extra_copies:
                if copy.sid in twilio.reported:
                    problems.append(f"{ids}: second copy {copy.sid} not queued for deletion")
                else:
                    cases[NO_CALLBACK] += 1
    return problems, cases


@pytest.fixture
def live_app(config, committed_database):
    """The web side, on the real clock: accepts texts, takes Twilio's status callbacks."""
    return create_app(config, clock=utcnow, twilio=SimulatedTwilio(), database=committed_database)


def test_texts_survive_killed_and_stopped_workers_and_a_failing_twilio(
        live_app, engine, tmp_path):
    _chaos(live_app, engine, tmp_path)


def test_texts_survive_the_same_with_the_database_cut_under_the_workers(
        live_app, engine, tmp_path):
    """As above, and the workers' connections to PostgreSQL are cut twice (the web side and
    Twilio's callbacks keep theirs): refused and dropped mid-pass, then back."""
    _chaos(live_app, engine, tmp_path, database_cuts=DATABASE_CUTS)


def _chaos(live_app, engine, tmp_path, *, database_cuts=()) -> None:
    booking = pool_and_booking_key(live_app, utcnow, 0, first=0)
    callbacks = threading.local()

    def post_callback(path: str, form: dict) -> None:
        if not hasattr(callbacks, "poster"):
            callbacks.poster = TwilioPoster(live_app.test_client(), AUTH_TOKEN, BASE_URL)
        answer = callbacks.poster(path, form)
        assert answer.status_code == 200, answer.data

    rng = random.Random(SEED)
    takes, counting = Counter(), threading.Lock()
    stall: dict = {}  # the stalled request: its text, its worker, how long it was held
    fleet: Fleet | None = None

    def before_create(pid: int | None, outbound_id: str, body: str, planned: str) -> str | None:
        with counting:
            takes["requests"] += 1
            stalls = (takes["requests"] >= PAUSE_BEFORE_TAKE and pid is not None and not stall
                      and planned == fake.CREATED and body not in TWIN_BODIES
                      and not twilio.creates_of(outbound_id))
            if stalls:
                stall.update(text=outbound_id, pid=pid)
        if stalls:
            # A stalled VM with the request in flight: Twilio gets it (and takes it) once the
            # worker wakes, after another worker took the text over: the second copy
            # docs/sending.md names. (This request is not among twilio.creates yet.)
            fleet.pause(pid)
            stopped = time.monotonic()
            latest = stopped + LEASE + STALL_PAST_LEASE_AT_MOST
            while time.monotonic() < latest and not twilio.creates_of(outbound_id):
                time.sleep(0.2)
            fleet.resume(pid)
            stall.update(seconds=round(time.monotonic() - stopped, 1))
            return fake.CREATED
        return None

    def on_create(create: fake.Create) -> None:
        if create.sid is None or create.pid is None:
            return
        with counting:
            takes["taken"] += 1
            nth = takes["taken"]
        if nth in KILL_MID_SEND:
            fleet.kill(create.pid)  # Twilio took it; the worker never reads the answer
        elif nth >= PAUSE_AFTER_TAKE and not takes["paused after"] \
                and create.pid not in fleet.paused:
            takes["paused after"] = 1
            fleet.pause(create.pid)
            threading.Timer(LEASE + 4, fleet.resume, args=(create.pid,)).start()

    twilio = fake.FakeTwilio(ACCOUNT_SID, tmp_path, plan=plan, seed=SEED,
                             list_failure_rate=0.1, callback=post_callback, callback_rate=0.7,
                             list_lag=lambda body: LIST_LAG if body in LAGGED_BODIES else 0.0,
                             before_create=before_create, on_create=on_create,
                             pids=lambda: fleet.pids())
    twilio.start()
    database_url = engine.url
    proxy = None
    if database_cuts:
        proxy = CuttableProxy(database_url.host or "127.0.0.1", database_url.port or 5432)
        database_url = database_url.set(host="127.0.0.1", port=proxy.start())
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("TWILIO_", "DATABASE_", "OUTBOX_", "HTTP", "NO_PROXY",
                                        "REQUESTS_", "CURL_", "COMMSVC_", "ENCRYPTION_",
                                        "HMAC_", "PUBLIC_BASE_URL", "LOG_"))}
    env.update(twilio.env(), COMMSVC_ENV="test", LOG_FORMAT="text",
               DATABASE_URL=database_url.render_as_string(hide_password=False),
               ENCRYPTION_KEYS=TEST_KEY, HMAC_KEY="h" * 32, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_SENDER_NUMBER=SENDER,
               PUBLIC_BASE_URL=BASE_URL, OUTBOX_LEASE_SECONDS=str(LEASE),
               OUTBOX_BACKOFF_BASE_SECONDS="0.5", OUTBOX_BACKOFF_MAX_SECONDS="2")
    fleet = Fleet(env, tmp_path)
    client = live_app.test_client()
    accepted: dict[str, tuple[str, str]] = {}  # id -> (to, body)
    events = sorted([(at, lambda: fleet.kill(rng=rng)) for at in RANDOM_KILLS]
                    + [(at, proxy.cut) for at, _ in database_cuts]
                    + [(at + seconds, proxy.restore) for at, seconds in database_cuts],
                    key=lambda event: event[0])
    try:
        for _ in range(WORKERS):
            fleet.start()
        started = time.monotonic()

        def timeline() -> None:
            for at, action in events:
                time.sleep(max(0.0, started + at - time.monotonic()))
                action()

        chaos = threading.Thread(target=timeline)
        chaos.start()
        for round_ in range(ROUNDS):
            texts = [(recipient(round_, i), body_of(round_, i)) for i in range(PER_ROUND)]
            if round_ in TWINS:
                texts.append(texts[0])
            for to, body in texts:
                answer = client.post("/v1/messages", headers=booking, json={
                    "to": to, "body": body, "purpose": "transactional"})
                assert answer.status_code == 202, answer.json
                accepted[answer.json["id"]] = (to, body)
            time.sleep(max(0.0, started + round_ + 1 - time.monotonic()))
        chaos.join()

        settled_by = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < settled_by:
            with live_app.extensions["db"].sessionmaker() as db:
                due = db.scalar(select(OutboundMessage.id)
                                .where(OutboundMessage.status.in_(DUE_STATUSES)).limit(1))
            if due is None and not fleet.paused:
                break
            time.sleep(0.5)
        time.sleep(2)  # the last status callbacks
    finally:
        fleet.stop()
        twilio.close()
        if proxy is not None:
            proxy.cut()

    with live_app.extensions["db"].sessionmaker() as db:
        rows = {row.id: row for row in db.scalars(select(OutboundMessage))}
        extra_copies = set(db.scalars(select(RemoteDeletion.sid)
                                      .where(RemoteDeletion.cause == EXTRA_COPY)))
    # What the run did, for whoever reads it with -s (a failure shows it too).
    print({"texts": len(accepted), "kills": fleet.kills, "pauses": fleet.pauses,
           "Twilio's answers": dict(twilio.answers),
           "statuses": dict(Counter(r.status for r in rows.values()))})

    assert set(rows) == set(accepted)
    # The workers reached PostgreSQL through the proxy the cuts cut (97ec333 moved the fake
    # Twilio off 6500-6599, the range the proxy's port was looked for above, and the workers
    # went to PostgreSQL directly: nothing was cut).
    assert proxy is None or proxy.connections > 0
    problems, cases = _checked(accepted, rows, twilio, fleet.stops, extra_copies)
    print({"second copies": dict(cases)})

    logs = "\n".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
    for to, body in accepted.values():
        if to in logs or to[2:] in logs:
            problems.append(f"a worker log holds {to}")
        if body in logs:
            problems.append(f"a worker log holds the body {body!r}")
    if "Traceback" in logs:
        at = logs.index("Traceback")
        problems.append("a worker logged a traceback:\n" + logs[max(0, at - 300):at + 3000])
    assert problems == [], "\n".join(problems[:40])
    # The stall made the second copy docs/sending.md names, every run (else the checks of that
    # case above ran on none).
    stalled = [c for c in twilio.creates_of(stall.get("text", "")) if c.pid == stall.get("pid")]
    creates = [(c.answer, c.pid, c.sid and c.sid[-4:], round(c.at, 1))
               for c in twilio.creates if c.outbound_id == stall.get("text")]
    print({"stalled request": stall, "its creates": creates})
    assert stalled and cases[STALLED] >= 1, (
        f"the stalled request made no second copy: {stall}, its creates {creates},"
        f" stops {fleet.stops}")
