"""The worker as a process: racing workers, lost leases, back-off, CLI, SIGTERM, logs."""
from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from commsvc import migrate
from commsvc.db.engine import make_engine
from commsvc.sending import service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import Worker, run_once
from commsvc.twilio_gateway import SendResult
from tests.sending.conftest import MESSAGES_URL, NEW_YORK, twilio_error


class CountingGateway:
    """Thread-safe fake Twilio that remembers which outbound ids it was asked to send."""

    simulated = False

    def __init__(self):
        self.lock = threading.Lock()
        self.sent: list[str] = []

    def send_message(self, *, to, from_, body, status_callback=None, media_urls=None):
        time.sleep(0.002)  # let the other worker interleave
        with self.lock:
            self.sent.append(status_callback.rsplit("o=", 1)[1])
            return SendResult(sid=f"SM{len(self.sent):032d}", status="queued")

    def find_messages(self, **_):
        return []


@pytest.mark.pg_only
def test_two_workers_racing_on_postgresql_send_each_message_exactly_once(committed_app, clock):
    config = committed_app.extensions["config"]
    with committed_app.extensions["db"].sessionmaker() as db:
        ids = [service.accept(db, to=f"+1212555{100 + i:04d}", body=f"notice {i}",
                              purpose="transactional", booking_id=None, requested_by="test",
                              config=config, now=clock()).message.id for i in range(60)]
        db.commit()
    gateway = CountingGateway()
    start = threading.Barrier(2)
    errors = []

    def work():
        try:
            start.wait()
            while run_once(committed_app, gateway, clock(), limit=4).claimed:
                pass
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(gateway.sent) == sorted(ids)  # every message, none twice
    with committed_app.extensions["db"].sessionmaker() as db:
        statuses = set(db.scalars(select(OutboundMessage.status)))
    assert statuses == {"sent"}


def test_a_worker_that_lost_its_lease_does_not_send_or_write(app, send, clock, config, twilio):
    send()
    with app.extensions["db"].sessionmaker() as db:
        slow = Worker(db, twilio, config, clock())
        [claim] = slow.claim(5)
        clock.advance(seconds=config.outbox_lease_seconds + 1)
        assert run_once(app).simulated == 1  # another worker takes the lapsed lease
        slow.process(claim)
    assert slow.counts.lost_lease == 1
    assert len(twilio.sent) == 1


def test_a_text_a_revocation_blocks_while_the_worker_holds_it_is_counted_blocked(
        app, send, grant, clock, config, twilio):
    """Found in review of a905a19: such a text was counted lost_lease, so the pass's log read
    as if leases overlapped ("claimed=1 lost_lease=1"), where the revocation blocked it."""
    send(to=NEW_YORK)
    with app.extensions["db"].sessionmaker() as db:
        worker = Worker(db, twilio, config, clock())
        [claim] = worker.claim(5)
        clock.advance(seconds=config.outbox_lease_seconds - 1)
        grant(NEW_YORK, action="revoke", purpose="transactional")  # blocks it (a905a19)
        clock.advance(seconds=2)  # the block came within the lease, not the check
        worker.process(claim)
    assert (worker.counts.blocked, worker.counts.lost_lease) == (1, 0)
    assert twilio.sent == []


def test_a_text_blocked_once_the_workers_lease_lapsed_is_a_lost_lease(
        app, send, grant, clock, config, twilio):
    """Its lease ran out before the revocation: another worker may have taken it over (and
    blocked it itself), so this worker lost its lease, as it did to one that sent it."""
    send(to=NEW_YORK)
    with app.extensions["db"].sessionmaker() as db:
        slow = Worker(db, twilio, config, clock())
        [claim] = slow.claim(5)
        clock.advance(seconds=config.outbox_lease_seconds + 1)
        grant(NEW_YORK, action="revoke", purpose="transactional")
        slow.process(claim)
    assert (slow.counts.blocked, slow.counts.lost_lease) == (0, 1)
    assert twilio.sent == []


def test_backoff_grows_with_jitter_is_capped_and_honours_retry_after(app, config, clock):
    worker = Worker(None, None, config, clock(), random.Random(7))
    first = [worker.backoff(1, None).total_seconds() for _ in range(50)]
    assert all(2.5 <= d <= 5 for d in first) and len(set(first)) > 1
    assert all(worker.backoff(30, None).total_seconds() <= config.outbox_backoff_max_seconds
               for _ in range(20))
    assert worker.backoff(1, 90).total_seconds() >= 90


@pytest.mark.parametrize("base, cap", [(1e-17, 3600.0), (5e-324, 3_153_600_000.0),
                                       (5.0, 3_153_600_000.0), (3600.0, 3600.0)])
def test_backoff_reaches_its_cap_for_any_base_the_settings_accept(config, clock, base, cap):
    """Found by a review of cce907f: 64 doublings were not past the cap for every base the
    settings accept (OUTBOX_BACKOFF_BASE_SECONDS=1e-17: the back-off stopped growing at 0.18 s
    of a 3600 s cap, retrying a failing send several times a second for good)."""
    worker = Worker(None, None, config.with_overrides(outbox_backoff_base_seconds=base,
                                                      outbox_backoff_max_seconds=cap),
                    clock(), random.Random(7))
    for attempts in (2000, 10**6):
        assert cap / 2 <= worker.backoff(attempts, None).total_seconds() <= cap


def test_a_text_past_a_thousand_attempts_still_backs_off(app, config, send, db, outbox, mocked,
                                                          real_twilio, twilio_took_another_text):
    """Found by a review: with OUTBOX_MAX_ATTEMPTS above 1024 (no ceiling), the 1025th failed
    attempt's back-off raised OverflowError (base * 2**1024 as a float): the pass logged an
    unexpected error and the text, left `sending`, was sent again each time its lease lapsed."""
    app.extensions["config"] = config.with_overrides(outbox_max_attempts=2000)
    message_id = send().json["id"]
    db.get(OutboundMessage, message_id).attempts = 1024
    db.commit()
    twilio_took_another_text()  # the 503 is this text's own, not an outage
    mocked.post(MESSAGES_URL, status=503, json=twilio_error(503, 20500))

    assert run_once(app, real_twilio).retried == 1
    row = db.get(OutboundMessage, message_id, populate_existing=True)
    assert (row.status, row.attempts) == ("queued", 1025)
    assert row.next_attempt_at > row.created_at


def test_worker_once_from_the_cli(runner, send, twilio):
    send()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "simulated=1" in result.output
    assert len(twilio.sent) == 1


def _started_worker(tmp_path, sighup=signal.SIG_DFL) -> subprocess.Popen:
    """`commsvc worker` on a new SQLite database, once it has logged "worker started"; its
    SIGHUP as `sighup` says (not as inherited: a suite run under nohup ignores it)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_"))},
        "COMMSVC_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HMAC_KEY": "k" * 32, "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://example.com",
    }
    engine = make_engine(env["DATABASE_URL"])
    with engine.begin() as connection:
        migrate.upgrade(connection=connection)
    engine.dispose()
    commsvc = str(Path(sys.executable).parent / "commsvc")
    worker = subprocess.Popen([commsvc, "worker", "--interval", "0.1"], env=env,
                              stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGHUP, sighup))
    seen = []
    for line in worker.stderr:  # a passing worker logs "started" within a second or two
        seen.append(line)
        if "worker started" in line:
            break
    if not seen or "worker started" not in seen[-1]:
        _ended(worker)
        pytest.fail("".join(seen)[-2000:])
    return worker


def _ended(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
        worker.wait()
    worker.stderr.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=lambda signum: signum.name)
def test_sigterm_stops_the_worker_gracefully(tmp_path, signum):
    """SIGHUP too (a closed terminal or SSH session, a `kill -HUP` meant as gunicorn's reload):
    it ended the worker at once, mid-send, exit 129 with no line said."""
    worker = _started_worker(tmp_path)
    try:
        worker.send_signal(signum)
        assert worker.wait(timeout=20) == 0
        rest = worker.stderr.read()
        assert f"{signal.Signals(signum).name} received" in rest and "worker stopped" in rest
    finally:
        _ended(worker)


def test_a_worker_started_under_nohup_outlives_the_sighup_of_a_closed_session(tmp_path):
    """Found by a review of bea46a2: `nohup commsvc worker &` and then logging out stopped the
    worker, since its SIGHUP handler replaced the ignore nohup had set. Ignored at start, a
    SIGHUP stays ignored (SIGTERM, sent after it, is what stops the worker here)."""
    worker = _started_worker(tmp_path, sighup=signal.SIG_IGN)
    try:
        worker.send_signal(signal.SIGHUP)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
        rest = worker.stderr.read()
        assert "SIGHUP received" not in rest
        assert "SIGTERM received" in rest and "worker stopped" in rest
    finally:
        _ended(worker)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_logs_carry_neither_bodies_nor_full_numbers(app, send, clock, mocked, real_twilio):
    capture = _Capture()
    logger = logging.getLogger("commsvc")
    logger.addHandler(capture)
    try:
        send(body="Secret gate code 4242")
        mocked.post(MESSAGES_URL, status=400, json=twilio_error(400, 21610))
        run_once(app, real_twilio)
    finally:
        logger.removeHandler(capture)
    text = "\n".join(capture.lines)
    assert capture.lines
    assert "Secret gate code" not in text
    assert NEW_YORK not in text and NEW_YORK[1:] not in text


def test_metrics_show_outbox_depth(client, send, clock):
    send()
    clock.advance(seconds=30)
    data = client.get("/metrics").data.decode()
    assert 'commsvc_outbox_messages{status="queued"} 1.0' in data
    assert "commsvc_outbox_oldest_due_seconds 30.0" in data


def test_metrics_show_how_long_a_text_twilio_keeps_refusing_has_waited(
        app, client, send, clock, mocked, real_twilio):
    """Found by an audit: while Twilio refused every send (a rotated auth token: 401), the
    alert gauge docs/sending.md names for it read 0: each refusal moved the text's next
    attempt into the future, and the gauge counted only from that. It counts from when the
    text was first due."""
    accepted_at = clock()
    send()
    mocked.post(MESSAGES_URL, status=401, json=twilio_error(401, 20003))
    for _ in range(4):
        assert run_once(app, real_twilio).retried == 1
        with app.extensions["db"].sessionmaker() as db:
            clock.set(db.scalar(select(OutboundMessage.next_attempt_at)))
    data = client.get("/metrics").data.decode()
    assert 'commsvc_outbox_messages{status="queued"} 1.0' in data
    # Four refusals later (waits of random length: patience), the text is due again now, and
    # has waited since it was accepted.
    [waited] = [float(line.split()[1]) for line in data.splitlines()
                if line.startswith("commsvc_outbox_oldest_due_seconds ")]
    assert waited == (clock() - accepted_at).total_seconds() >= 4 * 2.5


@pytest.mark.parametrize("option", [["--batch", "0"], ["--batch", "-3"], ["--interval", "-1"],
                                    ["--interval", "0"]])
def test_a_worker_option_that_would_claim_nothing_or_spin_is_a_usage_error(runner, option):
    """Found by an audit: --batch -3 was a traceback with SQL on PostgreSQL and no limit on
    SQLite; --batch 0 a worker that looked healthy and never sent."""
    result = runner.invoke(args=["worker", "--once", *option])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
