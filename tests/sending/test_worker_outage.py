"""A Twilio outage (5xx, network errors, 429 for every text) against a text that alone keeps
failing (a poison message): the first is waited out until the text is too late, the second
still fails after OUTBOX_MAX_ATTEMPTS (docs/sending.md, "How late a text may go")."""
from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs

import pytest
import requests
import responses

from tests.sending.conftest import (
    MESSAGES_URL,
    NEW_YORK,
    message_list,
    posts,
    run_until_settled,
    twilio_error,
    twilio_message,
)

OUTAGES = {
    "503": lambda: (503, {}, json.dumps(twilio_error(503, 20503))),
    "connection error": lambda: requests.exceptions.ConnectionError("connection refused"),
}
POISON = "Your pro arrives at 3pm. (the text Twilio's API chokes on)"


def _twilio(mocked, clock, *, down_until: dt.datetime, outage, sent: dict[str, str],
            fails=lambda body: False) -> None:
    """Twilio as the outage leaves it: every request before `down_until` gets `outage()`;
    then a send is taken (a new SID, recorded in `sent` by body) unless `fails(body)`, which
    gets a 500, and a lookup lists what was taken."""

    def answer(make):
        answered = make()
        if isinstance(answered, Exception):
            raise answered
        return answered

    def post(request):
        if clock() < down_until:
            return answer(outage)
        body = parse_qs(request.body)["Body"][0]
        if fails(body):
            return 500, {}, json.dumps(twilio_error(500, 20500))
        sid = f"SM{len(sent):032x}"
        sent[sid] = body
        return 201, {}, json.dumps(twilio_message(sid, to=NEW_YORK, body=body))

    def lookup(_request):
        if clock() < down_until:
            return answer(outage)
        return 200, {}, json.dumps(message_list(*[
            twilio_message(sid, to=NEW_YORK, body=body) for sid, body in sent.items()]))

    mocked.add_callback(responses.POST, MESSAGES_URL, callback=post)
    mocked.add_callback(responses.GET, MESSAGES_URL, callback=lookup)


@pytest.mark.parametrize("outage", OUTAGES)
def test_texts_queued_during_a_fifteen_minute_outage_go_once_each_when_twilio_is_back(
        app, send, client, booking, outbox, clock, mocked, real_twilio, config, outage):
    """Found by an audit: with the defaults, a 5xx or network error spent one of the text's
    OUTBOX_MAX_ATTEMPTS, so every text queued at the start of an outage of more than 5-10
    minutes was failed, although a transactional text may go up to an hour late."""
    due = clock()
    ids = [send(body=f"Your pro arrives at {hour}pm.").json["id"] for hour in (1, 2, 3)]
    sent: dict[str, str] = {}
    back_at = due + dt.timedelta(minutes=15)
    _twilio(mocked, clock, down_until=back_at, outage=OUTAGES[outage], sent=sent)

    seen = []  # what the booking app sees in GET /v1/messages/{id} while Twilio is down

    def while_down():
        if due < clock() < back_at:
            shown = client.get(f"/v1/messages/{ids[0]}", headers=booking).json
            seen.append((shown["status"], shown["attempts"], shown["last_error"]))

    rows = run_until_settled(app, real_twilio, outbox, clock, hours=1, each_pass=while_down)

    assert [(row.status, row.attempts, row.last_error) for row in rows] == [("sent", 1, None)] * 3
    why = {"503": "Twilio error 20503", "connection error": "Twilio unreachable: ConnectionError"}
    assert set(seen) == {("queued", 0, why[outage])}
    assert sorted(sent.values()) == sorted(row.body for row in rows)  # once each, none twice
    assert all(back_at <= row.sent_at <= due + dt.timedelta(hours=1) for row in rows)
    # the wait after a failure is half to all of the time waited so far: it goes at most as
    # late again as the outage lasted
    assert all(row.sent_at <= back_at + (back_at - due) for row in rows)
    # The waits grew with the outage: Twilio was not hammered. At worst every wait is the
    # shortest (half the time waited, at least 2.5 s: 0, 2.5, 5, 7.5, 11.25, ... 648.7 s), 15
    # requests a text in the 15 minutes, then a lookup (2 requests) and the send: 18 each.
    assert len(mocked.calls) <= 3 * 18


def test_a_transactional_text_an_outage_outlasts_expires_on_time(
        app, send, outbox, clock, mocked, real_twilio, config):
    due = clock()
    send(purpose="transactional")
    _twilio(mocked, clock, down_until=due + dt.timedelta(hours=5), outage=OUTAGES["503"],
            sent={})

    [row] = run_until_settled(app, real_twilio, outbox, clock, hours=3)

    assert (row.status, row.error_code, row.twilio_sid) == ("failed", 20503, None)
    assert row.last_error == ("expired: not sent within 3600 s of when it was due"
                              " (OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS)")
    assert row.updated_at <= due + dt.timedelta(hours=1)
    assert len(mocked.calls) < 30


def test_the_metrics_show_how_long_the_outage_has_held_the_texts(
        app, client, send, outbox, clock, mocked, real_twilio):
    due = clock()
    send()
    _twilio(mocked, clock, down_until=due + dt.timedelta(hours=5), outage=OUTAGES["503"],
            sent={})

    run_until_settled(app, real_twilio, outbox, clock, hours=0.25)

    data = client.get("/metrics").data.decode()
    [waited] = [float(line.split()[1]) for line in data.splitlines()
                if line.startswith("commsvc_outbox_oldest_due_seconds ")]
    assert waited >= 15 * 60


def test_a_text_that_alone_keeps_failing_with_5xx_fails_after_the_maximum_attempts(
        app, send, outbox, clock, mocked, real_twilio, config):
    """A poison message: Twilio takes the other texts, which are not held behind it, and it
    fails after OUTBOX_MAX_ATTEMPTS, well before its deadline, never sent."""
    due = clock()
    poison_id = send(body=POISON).json["id"]
    sent: dict[str, str] = {}
    _twilio(mocked, clock, down_until=due, outage=OUTAGES["503"], sent=sent,
            fails=lambda body: body == POISON)
    others = iter(range(100))

    rows = run_until_settled(app, real_twilio, outbox, clock, hours=1,
                              each_pass=lambda: send(body=f"Your pro is {next(others)} min away."))

    [poison] = [row for row in rows if row.id == poison_id]
    assert (poison.status, poison.attempts, poison.error_code) == (
        "failed", config.outbox_max_attempts, 20500)
    assert poison.updated_at < due + dt.timedelta(minutes=30)  # not held to its deadline
    assert POISON not in sent.values()
    assert all(row.status == "sent" for row in rows if row.id != poison_id)
    bodies = [parse_qs(call.request.body)["Body"][0] for call in posts(mocked)]
    # (its first 500 may come before Twilio took any other text: that one is not counted)
    assert config.outbox_max_attempts <= bodies.count(POISON) <= config.outbox_max_attempts + 1
    assert len(bodies) - bodies.count(POISON) == len(rows) - 1  # the others went once each


def test_a_lone_text_that_keeps_failing_with_5xx_waits_until_its_deadline_then_fails(
        app, send, outbox, clock, mocked, real_twilio, config):
    """The poison message again, with no other text going: it cannot be told from an outage,
    so it spends no attempt and is tried until it is too late (docs/sending.md), never sent."""
    due = clock()
    send(body=POISON)
    _twilio(mocked, clock, down_until=due, outage=OUTAGES["503"], sent={},
            fails=lambda body: body == POISON)

    [poison] = run_until_settled(app, real_twilio, outbox, clock, hours=2)

    assert (poison.status, poison.attempts, poison.error_code) == ("failed", 0, 20500)
    assert poison.last_error.startswith("expired")
    deadline = due + dt.timedelta(seconds=config.outbox_transactional_max_delay_seconds)
    assert poison.updated_at == deadline  # on time: no retry was put off past it
    assert len(posts(mocked)) > config.outbox_max_attempts


def test_a_text_twilio_took_before_answering_500_is_found_after_the_outage_not_sent_again(
        app, send, outbox, clock, mocked, real_twilio):
    """A 500 after Twilio's write: the lookup before any resend still finds it once Twilio
    answers again, however many of the outage's failures came between."""
    due = clock()
    send(body="Your pro arrives at 3pm.")
    sent: dict[str, str] = {}
    first = True

    def taken_then_500():
        nonlocal first
        if first:  # the first send reached Twilio; its answer did not come back
            first = False
            sent["SM" + "f" * 32] = "Your pro arrives at 3pm."
        return 500, {}, json.dumps(twilio_error(500, 20500))

    _twilio(mocked, clock, down_until=due + dt.timedelta(minutes=15), outage=taken_then_500,
            sent=sent)

    [row] = run_until_settled(app, real_twilio, outbox, clock, hours=1)

    assert (row.status, row.twilio_sid, row.last_error) == ("sent", "SM" + "f" * 32, None)
    assert len(posts(mocked)) == 1 and list(sent) == ["SM" + "f" * 32]


def test_texts_twilio_throttles_with_429_while_it_takes_others_all_go_none_failed(
        app, send, outbox, clock, mocked, real_twilio, config):
    """Found by a review: a 429 (20429, the account's concurrency limit) spent an attempt
    whenever Twilio took another text meanwhile, which is what throttles it: during a blast
    faster than the account may send, texts that kept losing the race failed after
    OUTBOX_MAX_ATTEMPTS, never sent, although Twilio processes no request it answers 429 to
    and none of them was at fault."""
    ids = [send(body=f"Your pro is {n} min away.").json["id"] for n in range(12)]
    sent: dict[str, str] = {}
    last_taken: list[dt.datetime] = []

    def post(request):  # one text each 10 s; a request meanwhile is throttled
        if last_taken and clock() - last_taken[-1] < dt.timedelta(seconds=10):
            return 429, {}, json.dumps(twilio_error(429, 20429, "Too Many Requests"))
        last_taken.append(clock())
        body = parse_qs(request.body)["Body"][0]
        sid = f"SM{len(sent):032x}"
        sent[sid] = body
        return 201, {}, json.dumps(twilio_message(sid, to=NEW_YORK, body=body))

    mocked.add_callback(responses.POST, MESSAGES_URL, callback=post)

    rows = run_until_settled(app, real_twilio, outbox, clock, hours=1)

    assert sorted(row.id for row in rows) == sorted(ids)
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1)] * len(ids)
    assert sorted(sent.values()) == sorted(row.body for row in rows)  # once each


class Buggy:
    """The gateway as a worker with a bug sees it: a send of a text `hits` raises an error no
    rule expects before any request; the others, and every lookup, go to Twilio."""

    simulated = False

    def __init__(self, real, hits=lambda body: True):
        self.real, self.hits = real, hits

    def send_message(self, **kwargs):
        if self.hits(kwargs["body"]):
            raise ValueError("a bug in the worker")
        return self.real.send_message(**kwargs)

    def find_messages(self, **kwargs):
        return self.real.find_messages(**kwargs)


def test_a_bug_that_meets_every_text_spends_no_attempt_so_a_fix_deployed_in_time_sends_them(
        app, send, outbox, clock, mocked, real_twilio, config):
    """Found by a review of 26e69af: an unexpected error spent an attempt each time, so a bug
    that met every text failed them all after OUTBOX_MAX_ATTEMPTS (about 5 minutes here),
    although the fix deployed within their deadline would have sent them. It counts as a 5xx
    does: while Twilio takes no other text, none spends an attempt; they wait."""
    due = clock()
    for hour in (1, 2):
        send(body=f"Your pro arrives at {hour}pm.")
    sent: dict[str, str] = {}
    _twilio(mocked, clock, down_until=due, outage=OUTAGES["503"], sent=sent)

    rows = run_until_settled(app, Buggy(real_twilio), outbox, clock, hours=0.5)
    assert [(row.status, row.attempts) for row in rows] == [("queued", 0)] * 2
    assert posts(mocked) == []

    rows = run_until_settled(app, real_twilio, outbox, clock, hours=1)  # the fix, deployed
    assert [(row.status, row.attempts, row.last_error) for row in rows] == [
        ("sent", 1, None)] * 2
    assert sorted(sent.values()) == sorted(row.body for row in rows)  # once each
    assert all(row.sent_at <= due + dt.timedelta(hours=1) for row in rows)


def test_a_bug_that_meets_every_text_and_is_never_fixed_fails_them_as_expired_on_time(
        app, send, outbox, clock, mocked, real_twilio, config):
    due = clock()
    for hour in (1, 2):
        send(body=f"Your pro arrives at {hour}pm.")
    _twilio(mocked, clock, down_until=due, outage=OUTAGES["503"], sent={})

    rows = run_until_settled(app, Buggy(real_twilio), outbox, clock, hours=3)

    deadline = due + dt.timedelta(seconds=config.outbox_transactional_max_delay_seconds)
    assert [(row.status, row.attempts, row.updated_at) for row in rows] == [
        ("failed", 0, deadline)] * 2
    assert all(row.last_error.startswith("expired") for row in rows)
    assert posts(mocked) == []


def test_a_bug_that_meets_one_text_while_others_go_fails_it_after_the_maximum_attempts(
        app, send, outbox, clock, mocked, real_twilio, config):
    due = clock()
    poison_id = send(body=POISON).json["id"]
    sent: dict[str, str] = {}
    _twilio(mocked, clock, down_until=due, outage=OUTAGES["503"], sent=sent)
    others = iter(range(100))

    rows = run_until_settled(app, Buggy(real_twilio, hits=lambda body: body == POISON), outbox,
                             clock, hours=1,
                             each_pass=lambda: send(body=f"Your pro is {next(others)} min away."))

    [poison] = [row for row in rows if row.id == poison_id]
    assert (poison.status, poison.attempts) == ("failed", config.outbox_max_attempts)
    assert poison.last_error == (f"gave up after {config.outbox_max_attempts} attempts:"
                                 " an unexpected error in the worker (its log has the traceback)")
    assert poison.updated_at < due + dt.timedelta(minutes=30)  # not held to its deadline
    assert POISON not in sent.values()
    assert all(row.status == "sent" for row in rows if row.id != poison_id)
