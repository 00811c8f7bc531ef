"""The send path against each answer Twilio's REST API gives, through the real `twilio`
client (mocked with `responses` at Twilio's URLs), as GET /v1/messages/{id} shows it."""
from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import pytest

from commsvc.sending.worker import run_once
from tests.sending.conftest import (
    MESSAGES_URL,
    twilio_error,
)


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


@pytest.mark.parametrize("value", ["soon", "", "Wed, 99 Foo 2026 25:00:00 GMT"])
def test_a_retry_after_that_reads_as_neither_is_ignored(
        app, send, outbox, clock, mocked, real_twilio, value):
    send()
    mocked.post(MESSAGES_URL, status=429, json=twilio_error(429, 20429),
                headers={"Retry-After": value})
    assert run_once(app, real_twilio).retried == 1
    [row] = outbox()
    assert clock() < row.next_attempt_at <= clock() + dt.timedelta(seconds=5)
