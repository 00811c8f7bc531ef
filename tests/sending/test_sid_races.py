"""A status callback or a worker's answer racing a worker's lookup that records the same Twilio
SID for another text (PostgreSQL, READ COMMITTED: the unique SID is where the two meet)."""
from __future__ import annotations

import datetime as dt

import pytest
import requests
from sqlalchemy import update

from commsvc.sending import service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import run_once
from commsvc.sending.worker.last_errors import UNEXPECTED
from tests.concurrency import once_it_waits_on
from tests.conftest import AUTH_TOKEN, BASE_URL, pool_and_booking_key
from tests.sending.conftest import MESSAGES_URL, NEW_YORK, message_list, twilio_message
from tests.twilio_signing import TwilioPoster

COPY = "SM" + "e" * 32
BODY = "Your pro arrives at 3pm."


def _two_identical_texts(app, clock) -> tuple[str, str]:
    """Two identical texts to one number, accepted (committed): their ids."""
    booking = pool_and_booking_key(app, clock, 0, first=0)
    client = app.test_client()
    first, second = (client.post("/v1/messages", headers=booking, json={
        "to": NEW_YORK, "body": BODY, "purpose": "transactional",
    }).json["id"] for _ in range(2))
    return first, second


def _outbox(database) -> dict[str, OutboundMessage]:
    with database.sessionmaker(expire_on_commit=False) as db:
        return {m.id: m for m in db.query(OutboundMessage)}


def _recording_uncommitted(database, message_id: str, *, proof: bool, now):
    """A session in which `message_id` holds COPY (record_sid), flushed, not committed: a
    worker's lookup (proof=False) or a status callback (proof=True) at that moment."""
    session = database.sessionmaker()
    assert service.record_sid(session, session.get(OutboundMessage, message_id), COPY,
                              proof=proof, now=now)
    session.flush()
    return session


@pytest.mark.pg_only
def test_a_callback_naming_the_copy_a_lookup_is_recording_for_an_identical_text_is_applied(
        committed_app, clock):
    """Two identical texts, both answers lost. A worker's lookup is recording the second's copy
    for the first (a guess) when Twilio's status callback for the second names it: neither saw
    the other's row, so the callback's write met the unique SID once the lookup committed. It
    answered Twilio 500 and its proof was lost; it is run once more, sees the pick, and takes
    the copy back for the text Twilio named it for."""
    first, second = _two_identical_texts(committed_app, clock)
    database = committed_app.extensions["db"]

    lookup = _recording_uncommitted(database, first, proof=False, now=clock())  # a worker's

    poster = TwilioPoster(committed_app.test_client(), AUTH_TOKEN, BASE_URL)
    answers = once_it_waits_on(lookup, database.engine, lambda: poster(
        f"/webhooks/twilio/message-status?o={second}",
        {"MessageSid": COPY, "MessageStatus": "delivered", "To": NEW_YORK}))

    assert [a.status_code for a in answers] == [200]
    held = {m.id: (m.twilio_sid, m.sid_from_lookup, m.status)
            for m in _outbox(database).values()}
    assert held[second] == (COPY, False, "delivered")
    assert held[first] == (None, False, "queued")  # looked up again, or sent


@pytest.mark.pg_only
def test_a_workers_answer_naming_the_copy_a_lookup_is_recording_for_an_identical_text_is_kept(
        committed_app, clock, mocked, real_twilio):
    """The worker side of the race above: Twilio answers the second text's send with its copy
    while another worker's lookup is recording that copy for the first (a guess). The answer
    met the unique SID once the lookup committed: a traceback, the second back in the queue as
    an unexpected error, an attempt maybe spent, the first left holding the second's copy. It
    is recorded once more: the answer is proof, so the second keeps its copy and the first is
    looked up again or sent."""
    first, second = _two_identical_texts(committed_app, clock)
    database = committed_app.extensions["db"]
    with database.sessionmaker() as db:  # only the second is due
        db.execute(update(OutboundMessage).where(OutboundMessage.id == first)
                   .values(next_attempt_at=clock() + dt.timedelta(hours=1)))
        db.commit()
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(COPY, to=NEW_YORK, body=BODY))

    lookup = _recording_uncommitted(database, first, proof=False, now=clock())  # a worker's
    counts = once_it_waits_on(lookup, database.engine,
                              lambda: run_once(committed_app, real_twilio, limit=1))

    assert [c.sent for c in counts] == [1]
    rows = _outbox(database)
    assert (rows[second].status, rows[second].twilio_sid, rows[second].last_error) == (
        "sent", COPY, None)
    assert (rows[first].status, rows[first].twilio_sid) == ("queued", None)


@pytest.mark.pg_only
def test_a_lookups_pick_a_callback_is_recording_for_an_identical_text_is_left_to_it(
        committed_app, clock, mocked, real_twilio):
    """Two identical texts, both answers lost; the first's lookup picks the second's copy while
    the second's status callback is recording it (not committed yet). The pick met the unique
    SID once the callback committed: a traceback, and the first spent an attempt as an
    unexpected error where the pick is none. It is recorded once more, sees the copy is the
    second's, and the first is looked up again at once, still uncertain."""
    first, second = _two_identical_texts(committed_app, clock)
    database = committed_app.extensions["db"]
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    assert run_once(committed_app, real_twilio).retried == 2
    with database.sessionmaker() as db:  # the first's retry due first
        due = max(m.next_attempt_at for m in db.query(OutboundMessage))
        db.execute(update(OutboundMessage).where(OutboundMessage.id == second)
                   .values(next_attempt_at=due + dt.timedelta(hours=1)))
        db.commit()
    mocked.get(MESSAGES_URL, status=200, json=message_list(
        twilio_message(COPY, to=NEW_YORK, body=BODY)))
    clock.set(due)
    spent = _outbox(database)[first].attempts

    callback = _recording_uncommitted(database, second, proof=True, now=clock())
    counts = once_it_waits_on(callback, database.engine,
                              lambda: run_once(committed_app, real_twilio, limit=1))

    assert [c.retried for c in counts] == [1]
    rows = _outbox(database)
    assert rows[second].twilio_sid == COPY
    assert (rows[first].status, rows[first].twilio_sid) == ("queued", None)
    assert rows[first].last_error != UNEXPECTED
    assert rows[first].attempts == spent  # the pick was no attempt
    assert rows[first].send_started_at is not None  # still looked up before any send
