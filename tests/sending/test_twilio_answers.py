"""The send path against each answer Twilio's REST API gives, through the real `twilio`
client (mocked with `responses` at Twilio's URLs), as GET /v1/messages/{id} shows it."""
from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import pytest

from commsvc.app import create_app
from commsvc.sending.worker import run_once
from tests.sending.conftest import (
    ACCOUNT_SID,
    MESSAGES_URL,
    NEW_YORK,
    message_list,
    posts,
    twilio_error,
    twilio_message,
)

SID = "SM" + "7" * 32


def test_a_429_whose_retry_after_is_an_http_date_is_not_retried_before_it(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by an audit: Retry-After may be an HTTP-date (RFC 9110), not only seconds; the
    date was read as no Retry-After at all, and the text retried 5 s later, into more 429s."""
    send()
    twilio_now = clock() + dt.timedelta(seconds=3)  # Twilio's clock, a little ahead of ours
    mocked.post(MESSAGES_URL, status=429, json=twilio_error(429, 20429), headers={
        "Date": format_datetime(twilio_now, usegmt=True),
        "Retry-After": format_datetime(twilio_now + dt.timedelta(minutes=10), usegmt=True)})

    assert run_once(app, real_twilio).retried == 1

    [row] = outbox()
    assert row.next_attempt_at >= clock() + dt.timedelta(minutes=10)
    assert row.next_attempt_at <= clock() + dt.timedelta(minutes=11)  # nor much later


def test_a_retry_after_date_in_an_answer_without_a_date_counts_from_the_apps_clock(
        config, clock, database, send, outbox, mocked):
    """Found by a review: an HTTP-date Retry-After in an answer with no Date header was
    counted from this machine's clock, not the clock create_app was given (DESIGN.md): with
    the two apart, the wait asked for was lost (or stretched) in tests and replays alike."""
    send()
    with_twilio = create_app(config.with_overrides(twilio_account_sid=ACCOUNT_SID,
                                                   twilio_auth_token="test-token"),
                             clock=clock, database=database, startup_warnings=False)
    mocked.post(MESSAGES_URL, status=429, json=twilio_error(429, 20429), headers={
        "Retry-After": format_datetime(clock() + dt.timedelta(minutes=10), usegmt=True)})

    assert run_once(with_twilio).retried == 1

    [row] = outbox()
    assert clock() + dt.timedelta(minutes=10) <= row.next_attempt_at
    assert row.next_attempt_at <= clock() + dt.timedelta(minutes=11)


@pytest.mark.parametrize("value", ["soon", "", "Wed, 99 Foo 2026 25:00:00 GMT"])
def test_a_retry_after_that_reads_as_neither_is_ignored(
        app, send, outbox, clock, mocked, real_twilio, value):
    send()
    mocked.post(MESSAGES_URL, status=429, json=twilio_error(429, 20429),
                headers={"Retry-After": value})
    assert run_once(app, real_twilio).retried == 1
    [row] = outbox()
    assert clock() < row.next_attempt_at <= clock() + dt.timedelta(seconds=5)


def _shown(client, booking, message_id) -> dict:
    return client.get(f"/v1/messages/{message_id}", headers=booking).json


@pytest.mark.parametrize("code", [21211, 21408, 21614])
def test_a_refusal_about_the_text_fails_it_at_once_and_says_so(
        app, send, client, booking, mocked, real_twilio, code):
    """Invalid To (21211), a region not enabled (21408), not a mobile number (21614)."""
    message_id = send().json["id"]
    mocked.post(MESSAGES_URL, status=400, json=twilio_error(400, code))
    assert run_once(app, real_twilio).failed == 1
    shown = _shown(client, booking, message_id)
    assert (shown["status"], shown["error_code"], shown["last_error"], shown["attempts"]) == (
        "failed", code, f"Twilio error {code}", 1)
    assert run_once(app, real_twilio).claimed == 0 and len(posts(mocked)) == 1


def test_a_send_whose_answer_is_not_json_is_looked_up_at_twilio_not_left_sending(
        app, send, client, booking, outbox, clock, mocked, real_twilio):
    """Found by an audit: a 2xx whose body was not JSON (a proxy's page, a garbled answer)
    raised out of the twilio client as a JSONDecodeError: logged as an unexpected error with
    its traceback, the text shown `sending` with no last_error until its lease lapsed (2 min);
    a lookup answered so kept it `sending` for ever, never counting an attempt. Twilio may
    have taken the text, as after a timeout: it is looked up before any resend."""
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    mocked.post(MESSAGES_URL, status=201, body="<html>upstream answered</html>")
    assert run_once(app, real_twilio).retried == 1
    shown = _shown(client, booking, message_id)
    assert (shown["status"], shown["last_error"]) == ("queued", "Twilio answer unreadable")
    [row] = outbox()
    assert row.send_started_at is not None
    clock.set(row.next_attempt_at)
    mocked.get(MESSAGES_URL, json=message_list(
        twilio_message(SID, to=NEW_YORK, body="Your pro arrives at 3pm.")))
    assert run_once(app, real_twilio).reconciled == 1
    shown = _shown(client, booking, message_id)
    assert (shown["status"], shown["twilio_sid"], shown["last_error"]) == ("sent", SID, None)
    assert len(posts(mocked)) == 1


@pytest.mark.parametrize("answer", ["{}", '{"status": "queued"}', "[]", "null"])
def test_a_send_answered_with_json_that_is_not_a_message_is_looked_up_not_taken_as_sent(
        app, send, client, booking, outbox, mocked, real_twilio, answer):
    """Found by a review of b5f145a: a 2xx JSON answer that is no message was read by the
    twilio client as one: an object without a `sid` recorded the text `sent` with no SID
    (never retried, never looked up: lost if Twilio had not taken it); a list or null raised
    AttributeError, the text left `sending` with no reason until its lease lapsed. Unreadable
    alike: retried, and looked up before any resend."""
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    mocked.post(MESSAGES_URL, status=201, body=answer, content_type="application/json")

    assert run_once(app, real_twilio).retried == 1

    shown = _shown(client, booking, message_id)
    assert (shown["status"], shown["last_error"]) == ("queued", "Twilio answer unreadable")
    [row] = outbox()
    assert row.send_started_at is not None and row.twilio_sid is None


def test_a_lookup_whose_answer_is_not_json_counts_an_attempt_and_waits(
        app, db, send, outbox, mocked, real_twilio, twilio_took_another_text):
    message_id = send().json["id"]
    [row] = outbox()
    row.send_started_at = row.created_at  # an earlier send's answer was lost
    db.commit()
    twilio_took_another_text()  # else an outage, which counts no attempt
    mocked.get(MESSAGES_URL, status=200, body="<html>upstream answered</html>")
    assert run_once(app, real_twilio).retried == 1
    [row] = [row for row in outbox() if row.id == message_id]
    assert (row.status, row.attempts, row.last_error) == ("queued", 1,
                                                          "Twilio answer unreadable")
    assert row.send_started_at is not None and not posts(mocked)


@pytest.mark.parametrize("answer", ['{"error": "upstream maintenance"}',
                                    '{"messages": null, "meta": {"key": "messages"}}',
                                    '{"messages": [null]}'])
def test_a_lookup_answered_with_json_that_is_not_a_list_of_messages_counts_an_attempt_and_waits(
        app, db, send, outbox, mocked, real_twilio, twilio_took_another_text, answer):
    """Found by a review of 842bc41: a 200 JSON object that is no page of messages (a proxy's
    JSON error) raised AttributeError or TypeError out of the twilio client: logged with a
    traceback, the text left `sending` with no reason, looked up again at every lease."""
    message_id = send().json["id"]
    [row] = outbox()
    row.send_started_at = row.created_at  # an earlier send's answer was lost
    db.commit()
    twilio_took_another_text()  # else an outage, which counts no attempt
    mocked.get(MESSAGES_URL, status=200, body=answer, content_type="application/json")
    assert run_once(app, real_twilio).retried == 1
    [row] = [row for row in outbox() if row.id == message_id]
    assert (row.status, row.attempts, row.last_error) == ("queued", 1,
                                                          "Twilio answer unreadable")
    assert row.send_started_at is not None and not posts(mocked)


def test_the_status_follows_the_lifecycle_whatever_order_twilios_callbacks_come_in(
        app, send, client, booking, mocked, real_twilio, twilio_post):
    message_id = send().json["id"]
    assert _shown(client, booking, message_id)["status"] == "queued"
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(SID, to=NEW_YORK))
    run_once(app, real_twilio)
    assert _shown(client, booking, message_id)["status"] == "sent"
    seen = []
    for status in ["delivered", "sent", "delivered", "queued", "sending", "undelivered"]:
        answer = twilio_post(f"/webhooks/twilio/message-status?o={message_id}",
                             {"MessageSid": SID, "MessageStatus": status})
        assert answer.status_code == 200
        seen.append(_shown(client, booking, message_id)["status"])
    assert seen == ["delivered"] * 6
    shown = _shown(client, booking, message_id)
    assert (shown["twilio_sid"], shown["error_code"], shown["attempts"]) == (SID, None, 1)


def test_a_carrier_filtered_text_30007_shows_undelivered_with_the_code(
        app, send, client, booking, mocked, real_twilio, twilio_post):
    message_id = send().json["id"]
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(SID, to=NEW_YORK))
    run_once(app, real_twilio)
    for _ in range(2):  # Twilio repeats a callback
        twilio_post(f"/webhooks/twilio/message-status?o={message_id}",
                    {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "30007"})
    shown = _shown(client, booking, message_id)
    assert (shown["status"], shown["error_code"]) == ("undelivered", 30007)


def test_after_21610_the_phone_gets_no_more_platform_texts_from_any_sender(
        app, send, grant, client, booking, outbox, mocked, real_twilio):
    """docs/consent.md: a carrier opt-out revokes sms for every purpose, channel-wide (not per
    sender number): later sends are a 409 before Twilio, a text queued meanwhile is blocked."""
    grant(NEW_YORK)
    first = send(to=NEW_YORK).json["id"]
    queued = send(to=NEW_YORK, body="Your pro is on the way.").json["id"]
    mocked.post(MESSAGES_URL, status=400, json=twilio_error(400, 21610))
    counts = run_once(app, real_twilio)
    # The refusal's revocation blocked the other text the worker had claimed with it: blocked
    # while the worker held it, not a lease lost to another worker.
    assert (counts.failed, counts.blocked, counts.lost_lease) == (1, 1, 0)
    assert [_shown(client, booking, i)["status"] for i in (first, queued)] == [
        "failed", "blocked"]
    for purpose in ("transactional", "marketing"):
        refused = send(to=NEW_YORK, purpose=purpose)
        assert refused.status_code == 409
        assert refused.json["type"].endswith("consent-required")
        assert refused.json["reason"] == "revoked"
    other_sender = app.extensions["config"].with_overrides(sender_number="+16465550999")
    app.extensions["config"] = other_sender
    assert send(to=NEW_YORK).status_code == 409
    assert send(to="+14155550123").status_code == 202  # someone else: unaffected
    assert len(posts(mocked)) == 1
