"""A status callback or a worker's answer racing a worker that records the same Twilio SID for
another text (PostgreSQL, READ COMMITTED: the unique SID is where the two meet)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from commsvc.sending import service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import run_once
from tests.concurrency import once_it_waits_on
from tests.conftest import AUTH_TOKEN, BASE_URL, pool_and_booking_key
from tests.sending.conftest import MESSAGES_URL, NEW_YORK, twilio_message
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


def _picking(database, message_id: str, now):
    """A worker's session whose lookup picked COPY for `message_id`: flushed, not committed."""
    lookup = database.sessionmaker()
    assert service.record_sid(lookup, lookup.get(OutboundMessage, message_id), COPY,
                              proof=False, now=now)
    lookup.flush()
    return lookup


@pytest.mark.pg_only
def test_a_callback_naming_the_copy_a_lookup_is_recording_for_an_identical_text_is_applied(
        committed_app, clock):
    """Two identical texts, both answers lost. A worker's lookup is recording the second's copy
    for the first (a guess) when Twilio's status callback for the second names it: neither saw
    the other's row, so the callback's write met the unique SID once the lookup committed. It
    answered Twilio 500 and its proof was lost; its write is decided once more (record_sid),
    sees the pick, and takes the copy back for the text Twilio named it for."""
    first, second = _two_identical_texts(committed_app, clock)
    database = committed_app.extensions["db"]
    lookup = _picking(database, first, clock())

    poster = TwilioPoster(committed_app.test_client(), AUTH_TOKEN, BASE_URL)
    answers = once_it_waits_on(lookup, database.engine, lambda: poster(
        f"/webhooks/twilio/message-status?o={second}",
        {"MessageSid": COPY, "MessageStatus": "delivered", "To": NEW_YORK}))

    assert [a.status_code for a in answers] == [200]
    with database.sessionmaker() as db:
        held = {m.id: (m.twilio_sid, m.sid_from_lookup, m.status)
                for m in db.query(OutboundMessage)}
    assert held[second] == (COPY, False, "delivered")
    assert held[first] == (None, False, "queued")  # looked up again, or sent


class _ListsTheCopy:
    """Twilio, whose list shows one copy of the text (COPY) and which takes no new text."""

    simulated = False

    def __init__(self, body: str):
        self.body = body

    def find_messages(self, **_):
        return [{"sid": COPY, "body": self.body, "status": "delivered"}]

    def send_message(self, **_):
        raise AssertionError("looked up, never sent")


@pytest.mark.pg_only
def test_a_lookup_recording_the_copy_a_callback_is_recording_for_an_identical_text_looks_again(
        committed_app, clock, caplog):
    """The same race, the other way round: Twilio's status callback for the second text is
    recording its copy (proof) when a worker's lookup for the first, identical, text picks it.
    The worker's write met the unique SID once the callback committed: it was logged as an
    unexpected error, with its traceback, and the text waited out a back-off as one. Now the
    write is made once more, sees the copy is the other text's, and the text is looked up
    again at once, spending nothing: not sent twice, nothing lost."""
    caplog.set_level("INFO", logger="commsvc")
    first, second = _two_identical_texts(committed_app, clock)
    database = committed_app.extensions["db"]
    with database.sessionmaker() as db:  # both sent, both answers lost
        for message in db.query(OutboundMessage):
            message.send_started_at = message.next_attempt_at = clock()
            message.attempts = 1
        db.commit()

    callback = database.sessionmaker()  # the status callback's, not committed yet
    assert service.apply_outbound_status(callback, second, "delivered", None, clock(),
                                         twilio_sid=COPY)
    callback.flush()

    [counts] = once_it_waits_on(callback, database.engine,
                                lambda: run_once(committed_app, _ListsTheCopy(BODY)))

    assert "unexpected error" not in caplog.text
    assert (counts.claimed, counts.retried, counts.failed) == (1, 1, 0)
    with database.sessionmaker() as db:
        held = {m.id: (m.twilio_sid, m.status, m.attempts, m.last_error, m.next_attempt_at,
                       m.send_started_at is not None) for m in db.query(OutboundMessage)}
    assert held[second] == (COPY, "delivered", 1, None, clock(), False)
    # Still uncertain, due at once: its own copy is looked up again (else it is sent).
    assert held[first] == (None, "queued", 1, None, clock(), True)


@pytest.mark.pg_only
def test_a_workers_answer_naming_the_copy_a_lookup_is_recording_for_an_identical_text_is_kept(
        committed_app, clock, mocked, real_twilio):
    """The worker's own answer in the race (review16's test): Twilio answers the second text's
    send with its copy while another worker's lookup is recording that copy for the first (a
    guess). The answer met the unique SID once the lookup committed: a traceback, the second
    back in the queue as an unexpected error, the first left holding the second's copy. The
    answer is proof: the second keeps its copy and the first is looked up again or sent."""
    first, second = _two_identical_texts(committed_app, clock)
    database = committed_app.extensions["db"]
    with database.sessionmaker() as db:  # only the second is due
        db.execute(update(OutboundMessage).where(OutboundMessage.id == first)
                   .values(next_attempt_at=clock() + dt.timedelta(hours=1)))
        db.commit()
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(COPY, to=NEW_YORK, body=BODY))

    lookup = _picking(database, first, clock())
    counts = once_it_waits_on(lookup, database.engine,
                              lambda: run_once(committed_app, real_twilio, limit=1))

    assert [c.sent for c in counts] == [1]
    with database.sessionmaker() as db:
        held = {m.id: (m.status, m.twilio_sid, m.last_error) for m in db.query(OutboundMessage)}
    assert held[second] == ("sent", COPY, None)
    assert held[first][:2] == ("queued", None)
