"""How long a text waits through refusals about the sender, not the text (Twilio 21611: the
sender's queue at Twilio is full; 401: the credentials were refused), and when a text is too
late to send at all (docs/sending.md, "How late a text may go")."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
import responses

from commsvc.sending.worker import run_once
from tests.sending.conftest import (
    MESSAGES_URL,
    NEW_YORK,
    message_list,
    posts,
    run_until_settled,
    twilio_error,
    twilio_message,
)

SID = "SM" + "e" * 32
REFUSALS = {"queue full": (400, 21611), "credentials refused": (401, 20003)}


def _twilio_refusing_until(mocked, clock, until: dt.datetime, status: int, code: int) -> None:
    """Twilio refuses every send with (status, code) before `until`, then takes it."""

    def answer(_request):
        if clock() < until:
            return status, {}, json.dumps(twilio_error(status, code))
        return 201, {}, json.dumps(twilio_message(SID, to=NEW_YORK))

    mocked.add_callback(responses.POST, MESSAGES_URL, callback=answer)


@pytest.mark.parametrize("refusal", REFUSALS)
@pytest.mark.parametrize("purpose", ["transactional", "marketing"])
def test_a_refusal_about_the_sender_waits_past_the_attempt_limit_and_the_text_goes(
        app, send, grant, outbox, clock, mocked, real_twilio, config, refusal, purpose):
    """Found by an audit: 21611 and 401 spent the attempts of the text (OUTBOX_MAX_ATTEMPTS,
    about 10 minutes), so a text behind a marketing blast, or sent while the auth token was
    being rotated, failed although it could still go in time."""
    grant(NEW_YORK)
    send(to=NEW_YORK, purpose=purpose)
    _twilio_refusing_until(mocked, clock, clock() + dt.timedelta(minutes=40), *REFUSALS[refusal])

    [row] = run_until_settled(app, real_twilio, outbox, clock, hours=1)

    assert (row.status, row.twilio_sid, row.last_error) == ("sent", SID, None)
    refused = len(posts(mocked)) - 1
    assert refused > config.outbox_max_attempts  # it waited past the limit of the text's faults
    assert refused < 20  # and did not hammer Twilio: the waits grow with the time waited
    assert row.attempts == 1  # Twilio took nothing before: only the send that went counts


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_transactional_text_still_refused_an_hour_after_it_was_due_expires(
        app, send, outbox, clock, mocked, real_twilio, refusal):
    """"Your pro is on the way" sent an hour late misleads: it fails, saying why, and is
    never sent after that, whatever Twilio would do then."""
    due = clock()
    message_id = send(to=NEW_YORK, purpose="transactional").json["id"]
    _twilio_refusing_until(mocked, clock, due + dt.timedelta(hours=5), *REFUSALS[refusal])

    [row] = run_until_settled(app, real_twilio, outbox, clock, hours=3)

    status, code = REFUSALS[refusal]
    assert (row.status, row.error_code, row.twilio_sid) == ("failed", code, None)
    assert row.last_error.startswith("expired")
    assert "OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS" in row.last_error
    assert row.updated_at <= due + dt.timedelta(hours=1)  # failed on time, not hours later
    assert all(c.response.status_code == status for c in posts(mocked))
    assert message_id == row.id


def test_a_marketing_text_waits_out_a_full_sender_queue_of_many_hours(
        app, send, grant, outbox, clock, mocked, real_twilio):
    """Twilio's queue holds up to 10 hours: marketing may go hours late (not in quiet hours)."""
    grant(NEW_YORK)
    send(to=NEW_YORK, purpose="marketing")  # noon in New York
    _twilio_refusing_until(mocked, clock, clock() + dt.timedelta(hours=6), 400, 21611)

    [row] = run_until_settled(app, real_twilio, outbox, clock, hours=12)

    assert (row.status, row.twilio_sid) == ("sent", SID)
    assert row.sent_at >= clock() - dt.timedelta(hours=1)


def test_a_transactional_text_found_only_after_its_deadline_is_failed_not_sent(
        app, send, outbox, clock, mocked, real_twilio, config):
    """Workers down for hours (or every retry refused): when it is taken up again, a
    transactional text past its deadline is failed with the reason, without a send."""
    send(to=NEW_YORK, purpose="transactional")
    clock.advance(hours=2)
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(SID, to=NEW_YORK))

    assert run_once(app, real_twilio).failed == 1

    [row] = outbox()
    assert row.status == "failed" and row.last_error.startswith("expired")
    assert posts(mocked) == []


def test_a_lost_send_is_still_looked_up_when_its_text_has_expired(
        app, send, outbox, clock, mocked, real_twilio):
    """An attempt whose answer was lost may be at Twilio: found there, it is sent, not expired."""
    send(to=NEW_YORK, purpose="transactional", body="Your pro arrives at 3pm.")
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    run_once(app, real_twilio)
    clock.advance(hours=2)
    mocked.get(MESSAGES_URL, json=message_list(
        twilio_message(SID, to=NEW_YORK, body="Your pro arrives at 3pm.")))

    assert run_once(app, real_twilio).reconciled == 1

    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", SID)


def test_a_lost_send_whose_lookup_twilio_keeps_refusing_expires_instead_of_looping(
        app, send, outbox, clock, mocked, real_twilio):
    """Found by a review of the fix above: a retry is never put off past the send-by time, so
    a text whose answer was lost, and whose lookup Twilio kept refusing (401: counts no
    attempt), came due again at once, every pass, looking up without end."""
    send(to=NEW_YORK, purpose="transactional", body="Your pro arrives at 3pm.")
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    run_once(app, real_twilio)
    mocked.get(MESSAGES_URL, status=401, json=twilio_error(401, 20003))  # token rotated

    for _ in range(60):
        run_once(app, real_twilio)
        [row] = outbox()
        if row.status != "queued":
            break
        clock.set(max(clock(), row.next_attempt_at))

    assert row.status == "failed" and row.last_error.startswith("expired")
    assert row.send_started_at is not None  # Twilio's callback may still say it went
    assert len(posts(mocked)) == 1
    assert len(mocked.calls) - 1 < 20  # the lookups' waits grew; none after the deadline


def test_a_worker_without_the_bodys_key_waits_like_a_refused_token_not_ten_minutes(
        app, send, outbox, clock, mocked, real_twilio, config):
    """Found by an audit of the rule above: a worker lacking the body's key (ENCRYPTION_KEYS
    mid-rotation) is a setting to fix, like a rotated auth token, yet each pass spent one of
    the text's attempts, so a rotation that took a few minutes failed the texts for good."""
    from cryptography.fernet import Fernet

    from commsvc import crypto
    from tests.conftest import TEST_KEY

    send(to=NEW_YORK, purpose="transactional")
    fixed_at = clock() + dt.timedelta(minutes=40)
    crypto.install(crypto.Keyring((Fernet.generate_key().decode(),)))
    try:
        passes = 0
        while clock() < fixed_at:
            run_once(app, real_twilio)
            passes += 1
            [row] = outbox()
            assert row.status == "queued", row.last_error
            clock.set(max(clock(), row.next_attempt_at))
    finally:
        crypto.install(crypto.Keyring((TEST_KEY,)))
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(SID, to=NEW_YORK))

    run_once(app, real_twilio)

    [row] = outbox()
    assert (row.status, row.attempts) == ("sent", 1)
    assert config.outbox_max_attempts < passes < 20
