"""A status callback racing a worker that records the same Twilio SID for another text
(PostgreSQL, READ COMMITTED: the unique SID is where the two meet)."""
from __future__ import annotations

import pytest

from commsvc.sending import service
from commsvc.sending.models import OutboundMessage
from tests.concurrency import once_it_waits_on
from tests.conftest import AUTH_TOKEN, BASE_URL, pool_and_booking_key
from tests.sending.conftest import NEW_YORK
from tests.twilio_signing import TwilioPoster

COPY = "SM" + "e" * 32


@pytest.mark.pg_only
def test_a_callback_naming_the_copy_a_lookup_is_recording_for_an_identical_text_is_applied(
        committed_app, clock):
    """Two identical texts, both answers lost. A worker's lookup is recording the second's copy
    for the first (a guess) when Twilio's status callback for the second names it: neither saw
    the other's row, so the callback's write met the unique SID once the lookup committed. It
    answered Twilio 500 and its proof was lost; it is run once more, sees the pick, and takes
    the copy back for the text Twilio named it for."""
    booking = pool_and_booking_key(committed_app, clock, 0, first=0)
    client = committed_app.test_client()
    first, second = (client.post("/v1/messages", headers=booking, json={
        "to": NEW_YORK, "body": "Your pro arrives at 3pm.", "purpose": "transactional",
    }).json["id"] for _ in range(2))
    database = committed_app.extensions["db"]

    lookup = database.sessionmaker()  # the worker's, not committed yet
    row = lookup.get(OutboundMessage, first)
    assert service.record_sid(lookup, row, COPY, proof=False, now=clock())
    lookup.flush()

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
