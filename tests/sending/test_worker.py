"""The outbox worker against Twilio's real REST URLs (mocked with `responses`)."""
from __future__ import annotations

import datetime as dt
import json
from email.utils import format_datetime

import pytest
import requests
import responses
from sqlalchemy import select

from commsvc.consent import decisions as consent_decisions
from commsvc.consent.models import ConsentEvent
from commsvc.sending.worker import run_once
from tests.conftest import BASE_URL
from tests.sending.conftest import (
    CALIFORNIA,
    FLORIDA,
    MESSAGES_URL,
    NEW_YORK,
    SENDER,
    form,
    message_list,
    posts,
    run_until_settled,
    twilio_error,
    twilio_message,
    utc,
)

SID = "SM" + "a" * 32


def accepted(mocked, sid: str = SID, *, to: str = NEW_YORK, body: str = "") -> None:
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(sid, to=to, body=body))


def failing(mocked, status: int, code: int, headers: dict | None = None) -> None:
    mocked.post(MESSAGES_URL, status=status, json=twilio_error(status, code), headers=headers)


def listing(mocked, *messages: dict) -> None:
    mocked.get(MESSAGES_URL, status=200, json=message_list(*messages))


def due_again(outbox, clock) -> None:
    """Move the clock to when the (single) row is next due."""
    [row] = outbox()
    clock.set(max(clock(), row.next_attempt_at))


def test_simulated_twilio_records_the_send_as_simulated(app, send, outbox, twilio):
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    counts = run_once(app)
    assert counts.simulated == 1
    [row] = outbox()
    assert (row.status, row.attempts, row.send_started_at, row.lease_token) == (
        "simulated", 1, None, None)
    assert twilio.sent == [{"sid": row.twilio_sid, "to": NEW_YORK, "from": SENDER,
                            "body": "Your pro arrives at 3pm."}]
    assert run_once(app).claimed == 0, message_id


def test_send_posts_to_twilio_with_the_status_callback_of_the_message(
        app, send, outbox, mocked, real_twilio):
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    accepted(mocked)
    assert run_once(app, real_twilio).sent == 1
    [call] = posts(mocked)
    assert form(call) == {
        "To": NEW_YORK, "From": SENDER, "Body": "Your pro arrives at 3pm.",
        "StatusCallback": f"{BASE_URL}/webhooks/twilio/message-status?o={message_id}",
    }
    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", SID)


def test_5xx_429_and_network_errors_are_retried_until_exactly_one_send_succeeds(
        app, send, outbox, clock, mocked, real_twilio):
    """Twilio took no other text meanwhile: an outage, whose failures spend no attempt."""
    send()
    failing(mocked, 500, 20500)
    failing(mocked, 503, 20503)
    failing(mocked, 429, 20429, headers={"Retry-After": "120"})
    mocked.post(MESSAGES_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    accepted(mocked)
    listing(mocked)  # after the timeout: Twilio has no such message, so it is sent again
    retry_delays = []
    for _ in range(5):
        started = clock()
        run_once(app, real_twilio)
        [row] = outbox()
        if row.status == "queued":
            retry_delays.append(row.next_attempt_at - started)
            due_again(outbox, clock)
    [row] = outbox()
    assert (row.status, row.twilio_sid, row.attempts) == ("sent", SID, 1)
    outcomes = [getattr(c.response, "status_code", "network error") for c in posts(mocked)]
    assert outcomes == [500, 503, 429, "network error", 201]
    assert retry_delays[2] >= dt.timedelta(seconds=120)  # Twilio's Retry-After is honoured
    assert all(delay > dt.timedelta(0) for delay in retry_delays)


def test_retries_stop_at_the_maximum_attempts_and_the_message_fails(
        app, send, outbox, clock, mocked, real_twilio, config, twilio_took_another_text):
    """While Twilio takes other texts, the 500s are this text's own (tests/sending/
    test_worker_outage.py: when it takes none, an outage)."""
    message_id = send().json["id"]
    failing(mocked, 500, 20500)
    listing(mocked)  # each retry looks first: Twilio has no such message
    for _ in range(config.outbox_max_attempts + 2):
        twilio_took_another_text()
        run_once(app, real_twilio)
        [row] = [row for row in outbox() if row.id == message_id]
        if row.status == "queued":
            clock.set(max(clock(), row.next_attempt_at))
    assert (row.status, row.attempts) == ("failed", config.outbox_max_attempts)
    assert len(posts(mocked)) == config.outbox_max_attempts


def test_other_4xx_fail_at_once_without_retry(app, send, outbox, mocked, real_twilio):
    send()
    failing(mocked, 400, 21211)  # invalid 'To'
    assert run_once(app, real_twilio).failed == 1
    [row] = outbox()
    assert (row.status, row.error_code, row.attempts) == ("failed", 21211, 1)
    assert len(posts(mocked)) == 1


def test_twilio_refusing_the_credentials_retries_so_a_fixed_token_still_sends_it(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by an audit: a 401 (the auth token rotated in Twilio's console, not yet in the
    worker's settings) failed every text the worker took, for good, as a 4xx about the text."""
    send()
    failing(mocked, 401, 20003)
    accepted(mocked)  # TWILIO_AUTH_TOKEN updated meanwhile
    assert run_once(app, real_twilio).retried == 1
    [row] = outbox()
    assert (row.status, row.error_code, row.last_error) == ("queued", 20003, "Twilio error 20003")
    due_again(outbox, clock)
    assert run_once(app, real_twilio).sent == 1
    [row] = outbox()
    # Twilio refused the first: nothing to look up, and no attempt of the text's spent
    assert (row.status, row.twilio_sid, row.attempts) == ("sent", SID, 1)
    assert len(posts(mocked)) == 2


def test_once_twilio_refuses_the_credentials_the_pass_asks_it_nothing_more(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by an audit: with the auth token rotated in Twilio's console, every queued text
    was POSTed and refused in turn, each time it came due (60 texts: 320 refused requests in
    40 s), though the first 401 said every other request would meet the same. The others of
    the pass wait as the refused one does, asking Twilio nothing."""
    for n in range(3):
        send(to=f"+1212555{n:04d}", body=f"notice {n}")
    failing(mocked, 401, 20003)
    counts = run_once(app, real_twilio)
    assert (counts.claimed, counts.retried) == (3, 3)
    assert len(mocked.calls) == 1
    rows = outbox()
    assert {(r.status, r.error_code, r.attempts) for r in rows} == {("queued", 20003, 0)}
    assert all(r.next_attempt_at > clock() for r in rows)
    mocked.remove(responses.POST, MESSAGES_URL)  # TWILIO_AUTH_TOKEN fixed
    for n in range(3):
        accepted(mocked, f"SM{n:032d}")
    clock.set(max(r.next_attempt_at for r in rows))
    assert run_once(app, real_twilio).sent == 3
    assert len(posts(mocked)) == 4


def test_a_lost_send_met_after_a_refused_token_is_not_looked_up_and_stays_uncertain(
        app, db, send, outbox, clock, mocked, real_twilio):
    send(to="+12125550001", body="first")
    clock.advance(seconds=1)
    send(to="+12125550002", body="lost")
    [_, lost] = outbox()
    lost.send_started_at = clock()  # its answer was lost: looked up before any resend
    db.commit()
    failing(mocked, 401, 20003)
    mocked.get(MESSAGES_URL, status=401, json=twilio_error(401, 20003))
    assert run_once(app, real_twilio).retried == 2
    assert [c.request.method for c in mocked.calls] == ["POST"]
    [_, lost] = outbox()
    assert (lost.status, lost.error_code, lost.send_started_at) == ("queued", 20003, clock())


def test_once_a_senders_queue_at_twilio_is_full_the_pass_sends_nothing_more_from_it(
        app, send, outbox, mocked, real_twilio):
    """Found by an audit: during a marketing blast whose sender's queue at Twilio was full,
    every text of each pass was POSTed and refused with 21611 alike."""
    for n in range(3):
        send(to=f"+1212555{n:04d}", body=f"notice {n}")
    failing(mocked, 400, 21611)
    assert run_once(app, real_twilio).retried == 3
    assert len(mocked.calls) == 1
    assert {(r.status, r.error_code, r.attempts) for r in outbox()} == {("queued", 21611, 0)}


def test_a_full_queue_at_twilio_holds_back_only_its_own_senders_texts(
        app, db, send, outbox, clock, mocked, real_twilio):
    from tests.webhooks import factories as f

    app.extensions["config"] = app.extensions["config"].with_overrides(sender_number=None)
    for number in ("+16465550002", "+16465550003"):  # the oldest first
        f.proxy_number(db, number, clock())
    f.open_session(db, clock(), requester=NEW_YORK, requester_proxy="+16465550002",
                   pro="+14155550202", pro_proxy="+16465550003")
    for to in ("+12125550009", NEW_YORK, "+12125550008"):  # from ...02, ...03, ...02
        send(to=to)
        clock.advance(seconds=1)
    failing(mocked, 400, 21611)
    accepted(mocked)
    counts = run_once(app, real_twilio)
    assert (counts.retried, counts.sent) == (2, 1)
    assert [form(c)["From"] for c in posts(mocked)] == ["+16465550002", "+16465550003"]
    assert [(r.from_phone, r.status) for r in outbox()] == [
        ("+16465550002", "queued"), ("+16465550003", "sent"), ("+16465550002", "queued")]


def test_a_sender_whose_queue_at_twilio_is_full_is_retried_not_failed(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by an audit: 21611 (the sender's queue at Twilio holds 10 hours of texts: a
    marketing blast from the one sender number) failed the text for good, as a 4xx about it;
    a "your pro is on the way" queued behind the blast was never sent."""
    send()
    failing(mocked, 400, 21611)
    accepted(mocked)  # the queue drained meanwhile
    assert run_once(app, real_twilio).retried == 1
    [row] = outbox()
    assert (row.status, row.error_code, row.send_started_at) == ("queued", 21611, None)
    due_again(outbox, clock)
    assert run_once(app, real_twilio).sent == 1
    [row] = outbox()
    assert (row.status, row.twilio_sid, row.attempts) == ("sent", SID, 1)
    assert len(posts(mocked)) == 2


def test_the_api_says_why_a_text_failed_and_never_with_twilios_words(
        app, send, client, booking, mocked, real_twilio):
    """Found by an audit: a failed or blocked text's reason was only in the database, while
    docs/sending.md promised it ("failed with the reason, never in silence"). Twilio's own
    message, which may name the number, is not kept: only its code."""
    message_id = send(to=NEW_YORK).json["id"]
    mocked.post(MESSAGES_URL, status=400, json=twilio_error(
        400, 21211, f"The 'To' number {NEW_YORK} is not a valid phone number."))
    run_once(app, real_twilio)

    shown = client.get(f"/v1/messages/{message_id}", headers=booking).json

    assert (shown["status"], shown["last_error"]) == ("failed", "Twilio error 21211")


def test_a_blocked_text_says_why_in_the_api(app, send, grant, client, booking, real_twilio):
    message_id = send(to=NEW_YORK).json["id"]
    grant(NEW_YORK, action="revoke", purpose="transactional")
    run_once(app, real_twilio)

    shown = client.get(f"/v1/messages/{message_id}", headers=booking).json

    assert shown["status"] == "blocked" and shown["last_error"]


def test_21610_fails_the_message_and_records_a_revocation_in_the_ledger(
        app, send, outbox, db, mocked, real_twilio, clock):
    message_id = send(to=FLORIDA).json["id"]
    failing(mocked, 400, 21610)
    run_once(app, real_twilio)
    [row] = outbox()
    assert (row.status, row.error_code) == ("failed", 21610)
    [event] = db.scalars(select(ConsentEvent).where(ConsentEvent.phone == FLORIDA))
    assert (event.channel, event.purpose, event.action, event.source) == (
        "sms", "all", "revoke", "twilio_21610")
    assert event.evidence["outbound_id"] == message_id
    assert event.evidence["error_code"] == 21610
    for purpose in ("relay", "transactional", "marketing"):
        assert not consent_decisions.check(db, phone=FLORIDA, channel="sms", purpose=purpose,
                                 now=clock()).allowed


def test_consent_revoked_between_acceptance_and_send_blocks_it_without_a_post(
        app, send, grant, outbox, mocked, real_twilio, db, clock):
    send(to=NEW_YORK)
    [row] = outbox()  # a worker claimed it and stopped before its send: its lease lapses now
    row.status, row.lease_token, row.lease_until = "sending", "t" * 32, clock()
    db.commit()
    grant(NEW_YORK, action="revoke", purpose="transactional")  # no send begun: blocked at once
    [row] = outbox()
    assert (row.status, row.last_error, row.lease_token) == ("blocked", "consent: revoked", None)
    assert run_once(app, real_twilio).claimed == 0
    assert len(mocked.calls) == 0


def test_consent_revoked_after_a_send_that_may_be_at_twilio_is_checked_by_the_worker(
        app, send, grant, outbox, mocked, real_twilio, db, clock):
    send(to=NEW_YORK)
    [row] = outbox()  # an attempt whose answer was lost: it may be at Twilio
    row.send_started_at, row.from_phone = clock(), SENDER
    db.commit()
    grant(NEW_YORK, action="revoke", purpose="transactional")  # left to the worker
    assert outbox()[0].status == "queued"
    listing(mocked)  # Twilio has no such message
    assert run_once(app, real_twilio).blocked == 1
    [row] = outbox()
    assert (row.status, row.last_error) == ("blocked", "consent: revoked")
    assert "POST" not in [c.request.method for c in mocked.calls]  # looked up, never sent


@pytest.mark.parametrize("answer", [(429, 20429), (400, 21611)], ids=["429", "sender-queue-full"])
def test_consent_revoked_while_a_send_is_refused_blocks_the_text_then_and_there(
        app, send, grant, outbox, mocked, real_twilio, answer):
    """Found by a review of 93e98a4/a905a19: a revocation recorded while the POST was in flight
    passed the text over (its send had begun: left to the worker); Twilio then refused it
    without taking it (a 429, a full queue of the sender: 21611), so the worker put
    it back as `queued` for its retry with no attempt at Twilio left to look up: it said
    `queued` after the revocation until the next attempt came due."""
    send(to=NEW_YORK)
    status, code = answer

    def revoked_meanwhile(_request):
        grant(NEW_YORK, action="revoke", purpose="transactional")
        return status, {"Retry-After": "600"}, json.dumps(twilio_error(status, code))
    mocked.add_callback(responses.POST, MESSAGES_URL, callback=revoked_meanwhile)

    counts = run_once(app, real_twilio)

    [row] = outbox()
    assert (row.status, row.last_error) == ("blocked", "consent: revoked")
    assert (counts.blocked, counts.retried) == (1, 0)
    assert len(mocked.calls) == 1


def test_scheduled_marketing_waits_for_its_time_then_goes(
        app, send, grant, outbox, clock, twilio):
    clock.set(utc(2026, 6, 2, 0, 30))  # 20:30 in Miami
    grant(FLORIDA)
    send(to=FLORIDA, purpose="marketing")
    assert run_once(app).claimed == 0
    clock.set(utc(2026, 6, 2, 11, 59))
    assert run_once(app).claimed == 0
    clock.set(utc(2026, 6, 2, 12, 0))
    assert run_once(app).simulated == 1
    assert len(twilio.sent) == 1


def test_a_marketing_retry_that_falls_in_quiet_hours_waits_for_the_morning(
        app, send, grant, outbox, clock, mocked, real_twilio):
    clock.set(utc(2026, 6, 2, 0, 59, 58))  # 20:59:58 in New York
    grant(NEW_YORK)
    send(to=NEW_YORK, purpose="marketing")
    failing(mocked, 503, 20503)
    listing(mocked)
    run_once(app, real_twilio)
    due_again(outbox, clock)  # a few seconds later: past 21:00
    counts = run_once(app, real_twilio)
    assert counts.deferred == 1
    [row] = outbox()
    assert (row.status, row.next_attempt_at) == ("scheduled", utc(2026, 6, 2, 12, 0))
    assert len(posts(mocked)) == 1


def _slow_twilio(mocked, clock, answers: list[tuple[int, dict, dict]], seconds: int) -> None:
    """Twilio answering each send after `seconds` (the clock moves on while the pass waits),
    with the next of `answers` (status, headers, JSON)."""
    pending = iter(answers)

    def answer(_request):
        clock.advance(seconds=seconds)
        status, headers, body = next(pending)
        return status, headers, json.dumps(body)

    mocked.add_callback(responses.POST, MESSAGES_URL, callback=answer)


def test_a_retry_after_counts_from_twilios_answer_not_from_the_start_of_the_pass(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by a fault audit: a pass that waited 40 s on Twilio retried a 429 with
    Retry-After: 30 at once, as the back-off was added to the time the pass began."""
    send()
    _slow_twilio(mocked, clock, [(429, {"Retry-After": "30"}, twilio_error(429, 20429))], 40)

    run_once(app, real_twilio)

    [row] = outbox()
    assert row.status == "queued"
    assert row.next_attempt_at >= clock() + dt.timedelta(seconds=30)


def test_marketing_claimed_before_quiet_hours_waits_if_they_begin_during_the_pass(
        app, send, grant, outbox, clock, mocked, real_twilio):
    """Found by a fault audit: the window was checked at the time the pass began, so a
    marketing text behind a slow send went out after 21:00."""
    clock.set(utc(2026, 6, 2, 0, 59, 45))  # 20:59:45 in New York
    grant(NEW_YORK)
    send(to=NEW_YORK, body="Your pro arrives at 3pm.")
    clock.advance(seconds=1)
    send(to=NEW_YORK, purpose="marketing", body="20% off gutter cleaning")
    _slow_twilio(mocked, clock, [(201, {}, twilio_message(SID, to=NEW_YORK))], 30)

    counts = run_once(app, real_twilio)

    assert (counts.sent, counts.deferred) == (1, 1)
    assert len(posts(mocked)) == 1
    marketing = next(row for row in outbox() if row.purpose == "marketing")
    assert (marketing.status, marketing.next_attempt_at) == ("scheduled", utc(2026, 6, 2, 12, 0))


class DiesAround:
    """A worker process killed just before or just after Twilio took the message."""

    simulated = False

    def __init__(self, real, *, after_twilio: bool):
        self.real, self.after_twilio = real, after_twilio

    def send_message(self, **kwargs):
        if self.after_twilio:
            self.real.send_message(**kwargs)
        raise SystemExit("worker killed")

    def find_messages(self, **kwargs):
        return self.real.find_messages(**kwargs)


@pytest.mark.parametrize("crash_after_twilio_accepted", [True, False])
def test_a_worker_killed_mid_send_is_reconciled_not_blindly_resent(
        app, send, outbox, clock, mocked, real_twilio, config, crash_after_twilio_accepted):
    send(body="Your pro arrives at 3pm.")
    accepted(mocked, body="Your pro arrives at 3pm.")
    with pytest.raises(SystemExit):
        run_once(app, DiesAround(real_twilio, after_twilio=crash_after_twilio_accepted))
    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sending", None)
    assert row.send_started_at == clock()

    assert run_once(app, real_twilio).claimed == 0  # the lease still holds
    clock.advance(seconds=config.outbox_lease_seconds)
    if crash_after_twilio_accepted:
        listing(mocked, twilio_message(SID, to=NEW_YORK, body="Your pro arrives at 3pm."))
    else:
        listing(mocked)
    counts = run_once(app, real_twilio)

    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", SID)
    assert len(posts(mocked)) == 1  # one POST in all: Twilio got it exactly once
    assert counts.reconciled == (1 if crash_after_twilio_accepted else 0)
    sent, newest = [c.request.url for c in mocked.calls if c.request.method == "GET"]
    for lookup in (sent, newest):
        assert "To=%2B12125550123" in lookup and "From=%2B16465550000" in lookup
    assert "DateSent%3E=" in sent and "DateSent" not in newest


def test_a_worker_killed_after_the_texts_delivery_callback_leaves_its_attempt_counted(
        app, send, outbox, mocked, real_twilio, twilio_post):
    """The attempt counts while its POST is in flight: here no worker ever records its
    outcome (the callback moved the text on, then the worker died), and a count taken only
    from the outcome showed a delivered text with no attempt."""
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    accepted(mocked, body="Your pro arrives at 3pm.")

    class DiesAfterTheCallback(DiesAround):
        def send_message(self, **kwargs):
            sid = self.real.send_message(**kwargs).sid
            assert twilio_post(f"/webhooks/twilio/message-status?o={message_id}",
                               {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 200
            raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        run_once(app, DiesAfterTheCallback(real_twilio, after_twilio=True))
    [row] = outbox()
    assert (row.status, row.twilio_sid, row.attempts) == ("delivered", SID, 1)
    assert run_once(app, real_twilio).claimed == 0


def test_a_lapsed_lease_is_logged_as_mid_send_only_for_a_text_whose_send_began(
        app, send, outbox, clock, mocked, real_twilio, config, caplog):
    """Found by an audit (kill -9 of a worker mid-batch): every text it had claimed was logged
    'lease lapsed mid-send; reconciling with Twilio', the ones it never began to send too,
    which told ops that a batch of texts might be at Twilio twice."""
    began = send(body="Your pro arrives at 3pm.").json["id"]
    clock.advance(seconds=1)  # claimed, and taken up, after the first
    waited = send(body="Your pro arrives at 4pm.").json["id"]
    with pytest.raises(SystemExit):
        run_once(app, DiesAround(real_twilio, after_twilio=False))
    clock.advance(seconds=config.outbox_lease_seconds)
    listing(mocked)
    accepted(mocked)
    caplog.set_level("WARNING", logger="commsvc.sending.worker")
    assert run_once(app, real_twilio).claimed == 2
    assert f"{began}: lease lapsed mid-send; reconciling with Twilio" in caplog.text
    assert f"{waited}: lease lapsed before its send began; sending" in caplog.text
    assert len([c for c in mocked.calls if c.request.method == "GET"]) == 2  # one lookup


def test_a_lost_send_still_queued_at_twilio_is_found_and_not_resent(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by a review: the lookup asked only for messages sent since the attempt, and one
    still queued at Twilio (its queue backed up) has no DateSent yet: it was sent again."""
    send(body="Your pro arrives at 3pm.")
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    run_once(app, real_twilio)
    due_again(outbox, clock)
    queued = twilio_message(SID, to=NEW_YORK, body="Your pro arrives at 3pm.")
    queued["date_created"] = format_datetime(clock(), usegmt=True)
    listing(mocked)  # nothing sent since the attempt
    listing(mocked, queued)  # the newest between the two numbers: the text, still queued
    assert run_once(app, real_twilio).reconciled == 1
    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", SID)
    assert len(posts(mocked)) == 1


def test_an_older_queued_message_between_the_same_numbers_is_not_taken_for_a_lost_send(
        app, send, outbox, clock, mocked, real_twilio):
    send(body="Your pro arrives at 3pm.")
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    run_once(app, real_twilio)
    due_again(outbox, clock)
    older = twilio_message(SID, to=NEW_YORK, body="Your pro arrives at 3pm.")
    older["date_created"] = format_datetime(clock() - dt.timedelta(days=1), usegmt=True)
    listing(mocked)
    listing(mocked, older)
    accepted(mocked, "SM" + "c" * 32, body="Your pro arrives at 3pm.")
    assert run_once(app, real_twilio).reconciled == 0
    [row] = outbox()
    assert row.twilio_sid == "SM" + "c" * 32


@pytest.mark.parametrize("answer", ["read timeout", 500, 502, 504])
def test_a_send_whose_answer_was_lost_is_found_at_twilio_and_not_resent(
        app, send, outbox, clock, mocked, real_twilio, answer):
    """A 5xx too (found by a failure-path review): a 502 from Twilio's edge may come after
    Twilio created the message, and it was sent again blindly, a duplicate."""
    send(body="Your pro arrives at 3pm.")
    if answer == "read timeout":
        mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    else:
        failing(mocked, answer, 20500)
    run_once(app, real_twilio)
    [row] = outbox()
    assert row.status == "queued" and row.send_started_at is not None
    due_again(outbox, clock)
    listing(mocked, twilio_message(SID, to=NEW_YORK, body="Your pro arrives at 3pm."))
    assert run_once(app, real_twilio).reconciled == 1
    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", SID)
    assert len(posts(mocked)) == 1


def test_reconciliation_ignores_twilio_messages_already_recorded_for_another_row(
        app, send, outbox, clock, mocked, real_twilio, config):
    first = send(body="Reminder: visit tomorrow").json["id"]
    accepted(mocked, SID)
    run_once(app, real_twilio)
    second = send(body="Reminder: visit tomorrow").json["id"]
    with pytest.raises(SystemExit):
        run_once(app, DiesAround(real_twilio, after_twilio=False))
    clock.advance(seconds=config.outbox_lease_seconds)
    # Twilio's list shows the first text (same body): it is not the second one.
    listing(mocked, twilio_message(SID, to=NEW_YORK, body="Reminder: visit tomorrow"))
    other = "SM" + "b" * 32
    accepted(mocked, other)
    run_once(app, real_twilio)
    rows = {r.id: r for r in outbox()}
    assert (rows[first].twilio_sid, rows[second].twilio_sid) == (SID, other)
    assert len(posts(mocked)) == 2


def test_a_failed_reconciliation_lookup_is_retried_not_resent(
        app, send, outbox, clock, mocked, real_twilio, config):
    send()
    with pytest.raises(SystemExit):
        run_once(app, DiesAround(real_twilio, after_twilio=False))
    clock.advance(seconds=config.outbox_lease_seconds)
    mocked.get(MESSAGES_URL, status=503, json=twilio_error(503, 20503))
    assert run_once(app, real_twilio).retried == 1
    [row] = outbox()
    assert row.status == "queued" and row.send_started_at is not None
    assert posts(mocked) == []


def test_a_throttled_reconciliation_lookup_waits_for_twilios_retry_after(
        app, send, outbox, clock, mocked, real_twilio, config):
    """Found by an audit: a 429 on the lookup (a list page) lost its Retry-After and code, so
    the lookup was retried on the short back-off, into more 429s, spending the attempts."""
    send()
    with pytest.raises(SystemExit):
        run_once(app, DiesAround(real_twilio, after_twilio=False))
    clock.advance(seconds=config.outbox_lease_seconds)
    mocked.get(MESSAGES_URL, status=429, json=twilio_error(429, 20429),
               headers={"Retry-After": "300"})
    started = clock()
    assert run_once(app, real_twilio).retried == 1
    [row] = outbox()
    assert row.status == "queued" and row.send_started_at is not None
    assert row.error_code == 20429
    assert row.next_attempt_at - started >= dt.timedelta(seconds=300)
    assert posts(mocked) == []


def test_a_message_that_kills_every_worker_is_failed_after_the_maximum_attempts(
        app, send, outbox, clock, mocked, real_twilio, config):
    send()
    listing(mocked)
    for _ in range(config.outbox_max_attempts):
        with pytest.raises(SystemExit):
            run_once(app, DiesAround(real_twilio, after_twilio=False))
        clock.advance(seconds=config.outbox_lease_seconds)
    assert run_once(app, real_twilio).failed == 1
    [row] = outbox()
    assert (row.status, row.attempts) == ("failed", config.outbox_max_attempts)
    assert "gave up" in row.last_error
    assert posts(mocked) == []


def test_a_text_whose_lookup_raises_an_unexpected_error_ends_failed_not_sending_for_good(
        app, send, outbox, clock, mocked, real_twilio, caplog):
    """Found by an audit: an error no rule expects (a bug, a surprise from the twilio client)
    left the text `sending` under its lease, taken up again each time the lease lapsed; met
    before the attempt and deadline checks (here in the lookup of a lost send), for ever:
    the booking app saw `sending` for good, never `failed` with a reason."""
    send(body="Your pro arrives at 3pm.")
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))

    class SurprisingLookup(DiesAround):
        def find_messages(self, **kwargs):
            raise ValueError("a list Twilio's client cannot read")

    run_once(app, real_twilio)  # the answer is lost: looked up before any resend
    [row] = run_until_settled(app, SurprisingLookup(real_twilio, after_twilio=False), outbox,
                              clock, hours=3)
    assert row.status == "failed" and row.send_started_at is not None  # may be at Twilio
    assert row.last_error.startswith("expired")  # alone: a bug that may meet every text
    assert len(posts(mocked)) == 1
    assert "unexpected error while sending" in caplog.text


def test_a_lookup_answer_the_database_cannot_store_ends_the_text_not_sending_for_good(
        app, db, send, outbox, clock, mocked, real_twilio, config):
    """Found by a review of 26e69af: a database error no rule expects kept the row's lease
    as a deadlock does; met before the attempt and deadline checks, for ever. Here Twilio's
    lookup answered an error code past PostgreSQL's integer (a garbled answer): recording it
    raised DataError on every pass, the text `sending` for good, looked up at each lapse."""
    send()
    [row] = outbox()
    row.send_started_at = row.created_at  # an earlier send's answer was lost
    db.commit()
    mocked.get(MESSAGES_URL, status=500, json={"code": 2**31, "message": "?", "status": 500})

    [row] = run_until_settled(app, real_twilio, outbox, clock, hours=3)

    assert row.status == "failed" and row.last_error.startswith("expired")
    assert posts(mocked) == []  # never resent blindly: it may be at Twilio


def test_a_worker_without_the_bodys_key_retries_instead_of_failing_the_message(
        app, send, outbox, clock, twilio):
    """Mid-rotation, a worker may lack the key the web encrypted with: the text is not lost."""
    from cryptography.fernet import Fernet

    from commsvc import crypto
    from tests.conftest import TEST_KEY

    send(body="Your pro arrives at 3pm.")
    crypto.install(crypto.Keyring((Fernet.generate_key().decode(),)))
    try:
        counts = run_once(app)
        [row] = outbox()
        # a setting to fix, not a fault of the text: no attempt of the text's spent
        assert (counts.retried, counts.failed, row.status, row.attempts) == (1, 0, "queued", 0)
        assert "ENCRYPTION_KEYS" in row.last_error
        assert twilio.sent == []
    finally:
        crypto.install(crypto.Keyring((TEST_KEY,)))
    due_again(outbox, clock)
    assert run_once(app).simulated == 1
    assert [m["body"] for m in twilio.sent] == ["Your pro arrives at 3pm."]


def test_a_body_whose_key_is_not_configured_reads_as_null_and_unavailable(
        client, booking, send):
    from cryptography.fernet import Fernet

    from commsvc import crypto
    from tests.conftest import TEST_KEY

    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    crypto.install(crypto.Keyring((Fernet.generate_key().decode(),)))
    try:
        data = client.get(f"/v1/messages/{message_id}", headers=booking).json
    finally:
        crypto.install(crypto.Keyring((TEST_KEY,)))
    assert (data["body"], data["body_unavailable"]) == (None, True)
    shown = client.get(f"/v1/messages/{message_id}", headers=booking).json
    assert shown["body"] == "Your pro arrives at 3pm." and "body_unavailable" not in shown


@pytest.mark.parametrize("held", [True, False])
def test_a_text_waiting_to_retry_is_never_sent_after_its_recipient_is_erased(
        app, send, outbox, clock, mocked, real_twilio, client, api_key, held):
    """Found by a code review: a network error leaves the text queued with its send begun;
    the erasure (under a hold, which keeps the row) left it alone, and the retry, finding
    nothing at Twilio, sent it to the erased number."""
    send(booking_id="bk_erase")
    mocked.post(MESSAGES_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    listing(mocked)  # Twilio has no such message
    run_once(app, real_twilio)
    [row] = outbox()
    assert (row.status, row.send_started_at is not None) == ("queued", True)
    if held:
        client.post("/v1/holds", headers=api_key("privacy"),
                    json={"scope": "booking", "value": "bk_erase", "reason": "dispute"})
    erased = client.post(f"/v1/subjects/{NEW_YORK}/erase",
                         headers={**api_key("privacy"), "X-Access-Reason": "request #7"})
    assert erased.status_code == 200
    clock.advance(hours=1)
    accepted(mocked)

    run_once(app, real_twilio)

    assert [getattr(c.response, "status_code", "network error") for c in posts(mocked)] == [
        "network error"]  # never sent again
    if held:
        [row] = outbox()
        assert row.status == "blocked" and "may have reached Twilio" in row.last_error
    else:
        assert outbox() == []


def test_a_text_a_worker_is_sending_during_an_erasure_is_never_retried_after_it(
        app, send, outbox, clock, mocked, real_twilio, db, config):
    """In flight when the erasure came (left to finish, so a SID Twilio holds is not lost);
    its attempt failed: the worker finds the erasure before the retry."""
    from commsvc.crypto import phone_hmac
    from commsvc.records.models import Erasure

    send()
    mocked.post(MESSAGES_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    listing(mocked)
    run_once(app, real_twilio)
    db.add(Erasure(subject_hmac=phone_hmac(config.hmac_key, NEW_YORK), requested_by="test",
                   reason="r", created_at=clock(), result={}))
    db.commit()
    due_again(outbox, clock)
    accepted(mocked)

    assert run_once(app, real_twilio).blocked == 1
    [row] = outbox()
    assert row.status == "blocked" and len(posts(mocked)) == 1


def test_a_database_that_cannot_serve_mid_pass_ends_the_pass_for_the_serving_loop(
        app, send, outbox, mocked, real_twilio, monkeypatch, caplog):
    """Found by an audit: SQLite's write lock held by an erasure made every claimed text an
    'unexpected error' with a traceback, each after busy_timeout. The pass now ends at the
    first such error; the serving loop waits and retries, the claimed texts keep their leases."""
    from sqlalchemy.exc import OperationalError

    from commsvc.sending import worker as worker_module

    send(body="one")
    send(body="two")
    tried = []

    def locked(self, claim):
        tried.append(claim.id)
        raise OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(worker_module.Worker, "process", locked)
    with pytest.raises(OperationalError):
        run_once(app, real_twilio)
    assert len(tried) == 1 and "unexpected error" not in caplog.text
    assert [row.status for row in outbox()] == ["sending", "sending"]  # leases kept
    assert posts(mocked) == []


def test_a_deadlock_on_one_text_does_not_hold_back_the_others(
        app, send, outbox, mocked, real_twilio, monkeypatch):
    """A review: only a database that cannot serve ends the pass; a deadlock, a serialization
    failure or a lock wait run out is that one text's, and the others go out now."""
    from sqlalchemy.exc import OperationalError

    from commsvc.sending import worker as worker_module

    class Deadlock(Exception):
        sqlstate = "40P01"

    send(body="one")
    send(body="two")
    accepted(mocked)
    process, calls = worker_module.Worker.process, []

    def first_deadlocks(self, claim):
        calls.append(claim.id)
        if len(calls) == 1:
            raise OperationalError("UPDATE", {}, Deadlock("deadlock detected"))
        return process(self, claim)

    monkeypatch.setattr(worker_module.Worker, "process", first_deadlocks)
    run_once(app, real_twilio)
    assert sorted(row.status for row in outbox()) == ["sending", "sent"]
    assert len(posts(mocked)) == 1


def test_a_lost_send_behind_fifty_later_texts_to_the_same_number_is_found_not_resent(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by a production audit: the lookup read 50 messages per list, and a recipient sent
    more than 50 texts from the same number within its minutes (a busy pair) had the text
    looked for fall off the page: it was sent twice (2 in 192 sends at 20 texts/s)."""
    send(body="Your pro arrives at 3pm.")
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    run_once(app, real_twilio)
    due_again(outbox, clock)
    later = [twilio_message(f"SM{n:032d}", to=NEW_YORK, body=f"Later text {n}")
             for n in range(60)]
    listing(mocked, *later, twilio_message(SID, to=NEW_YORK, body="Your pro arrives at 3pm."))
    listing(mocked)

    assert run_once(app, real_twilio).reconciled == 1

    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", SID)
    assert len(posts(mocked)) == 1
    sent_lookup = next(c.request.url for c in mocked.calls if c.request.method == "GET")
    assert "PageSize=1000" in sent_lookup


@pytest.mark.parametrize("revocation", ["STOP", "POST /v1/consent"])
def test_a_waiting_text_is_blocked_as_soon_as_its_recipient_opts_out(
        app, send, grant, client, booking, clock, twilio, twilio_post, revocation):
    """Found in review: a marketing text scheduled for the morning kept saying `scheduled`
    after its recipient's STOP, until the worker reached it hours later and blocked it."""
    clock.set(utc(2026, 6, 2, 4, 0))  # 21:00 in San Francisco: marketing waits for 08:00
    grant(CALIFORNIA)
    scheduled = send(to=CALIFORNIA, purpose="marketing").json
    assert scheduled["status"] == "scheduled"
    other = send(to=NEW_YORK, purpose="transactional").json["id"]  # another number's

    if revocation == "STOP":
        answer = twilio_post("/webhooks/twilio/sms", {
            "MessageSid": "SM" + "5" * 32, "AccountSid": "AC" + "0" * 32,
            "From": CALIFORNIA, "To": SENDER, "Body": "STOP", "NumMedia": "0"})
        assert answer.status_code == 200
    else:
        assert client.post(f"/v1/consent/{CALIFORNIA}", headers=booking, json={
            "channel": "sms", "purpose": "marketing", "action": "revoke",
            "source": "support_call", "evidence": {"ticket": "1"}}).status_code == 201

    def shown(message_id):
        return client.get(f"/v1/messages/{message_id}", headers=booking).json

    assert (shown(scheduled["id"])["status"], shown(scheduled["id"])["last_error"]) == (
        "blocked", "consent: revoked")
    assert shown(other)["status"] == "queued"
    clock.set(utc(2026, 6, 2, 15, 0))  # its hour comes: nothing goes, it stays blocked
    run_once(app)
    assert shown(scheduled["id"])["status"] == "blocked"
    assert CALIFORNIA not in [sent["to"] for sent in twilio.sent]


def test_a_marketing_revocation_leaves_the_numbers_transactional_texts_waiting(
        send, grant, client, booking, clock):
    clock.set(utc(2026, 6, 2, 4, 0))
    grant(CALIFORNIA)
    marketing = send(to=CALIFORNIA, purpose="marketing").json["id"]
    notice = send(to=CALIFORNIA, purpose="transactional").json["id"]

    grant(CALIFORNIA, action="revoke", purpose="marketing")

    assert client.get(f"/v1/messages/{marketing}", headers=booking).json["status"] == "blocked"
    assert client.get(f"/v1/messages/{notice}", headers=booking).json["status"] == "queued"


@pytest.mark.parametrize("answer", [(429, 20429), (400, 21611)], ids=["429", "sender-queue-full"])
def test_an_erasure_while_a_send_is_refused_blocks_the_text_then_and_there(
        app, send, outbox, clock, mocked, real_twilio, db, config, answer):
    """Found by a review of db625159: an erasure recorded while the POST was in flight passes
    the text over as a revocation does (left to finish); Twilio then refused it without taking
    it, and the worker, which read consent again then, did not read the erasure: the text went
    back `queued` for its retry, the erased number on it, saying `queued` after the erasure
    until the retry came due (a Retry-After: minutes)."""
    from commsvc.crypto import phone_hmac
    from commsvc.records.models import Erasure
    from commsvc.sending import service

    send()
    status, code = answer

    def erased_meanwhile(_request):
        db.add(Erasure(subject_hmac=phone_hmac(config.hmac_key, NEW_YORK), requested_by="test",
                       reason="r", created_at=clock(), result={}))
        db.commit()
        return status, {"Retry-After": "600"}, json.dumps(twilio_error(status, code))
    mocked.add_callback(responses.POST, MESSAGES_URL, callback=erased_meanwhile)

    counts = run_once(app, real_twilio)

    [row] = outbox()
    assert (row.status, row.last_error) == ("blocked", service.ERASED_BEFORE_SENDING)
    assert (counts.blocked, counts.retried) == (1, 0)
    assert len(mocked.calls) == 1
