"""A revocation racing a worker that holds the same text (PostgreSQL, real commits, two
threads): the text must not outlive the revocation in a waiting status."""
from __future__ import annotations

import threading
import time

import pytest

from commsvc.consent import service as consent
from commsvc.sending import service as sending_service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import run_once
from tests.concurrency import someone_waits_for_a_lock
from tests.sending.conftest import FLORIDA, utc

pytestmark = pytest.mark.pg_only


def _until_done_or_waiting_on_a_lock(database, thread: threading.Thread) -> None:
    """Return once `thread` has finished, or is waiting for a row lock another transaction
    holds (then it can only go on once that one ends)."""
    for _ in range(400):
        if not thread.is_alive():
            return
        if someone_waits_for_a_lock(database.engine):
            return
        time.sleep(0.025)


def test_a_stop_while_a_worker_decides_to_wait_for_the_morning_still_blocks_the_text(
        committed_app, clock, monkeypatch):
    """Found in review of 93e98a4: a worker that had read consent (allowed) put the text back
    as `scheduled` for the morning after the revocation was recorded, whose block had passed
    the text over as `sending`: it said `scheduled` for hours, the bug 93e98a4 fixed."""
    database = committed_app.extensions["db"]
    clock.set(utc(2026, 6, 1, 23, 30))  # 19:30 in Miami: marketing may go
    with database.sessionmaker() as db:
        consent.record_event(db, phone=FLORIDA, channel="sms", purpose="marketing",
                             action="grant", source="api", evidence={"form": "test"},
                             now=clock())
        text_id = sending_service.new_id()
        db.add(OutboundMessage(
            id=text_id, to_phone=FLORIDA, body="20% off this week.", purpose="marketing",
            status="queued", attempts=0, created_at=clock(), updated_at=clock(),
            next_attempt_at=clock()))
        db.commit()
    clock.set(utc(2026, 6, 2, 0, 30))  # 20:30 in Miami: the worker defers it to 08:00

    def revoke() -> None:
        with database.sessionmaker() as db:
            consent.record_event(db, phone=FLORIDA, channel="sms", purpose="all",
                                 action="revoke", source="sms_keyword",
                                 evidence={"text": "STOP"}, now=clock())
            db.commit()

    revocation = threading.Thread(target=revoke)
    checked = sending_service.check_consent

    def check_then_stop_arrives(*args, **kwargs):
        decision = checked(*args, **kwargs)  # allowed: the STOP is not recorded yet
        revocation.start()
        _until_done_or_waiting_on_a_lock(database, revocation)
        return decision

    monkeypatch.setattr(sending_service, "check_consent", check_then_stop_arrives)
    counts = run_once(committed_app)
    revocation.join(timeout=30)
    assert not revocation.is_alive()

    assert counts.claimed == 1
    with database.sessionmaker() as db:
        row = db.get(OutboundMessage, text_id)
        assert (row.status, row.last_error) == ("blocked", "consent: revoked")
