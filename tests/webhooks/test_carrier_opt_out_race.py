"""A 21610 status callback racing the recipient's START (PostgreSQL, READ COMMITTED)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from commsvc.consent import relay as consent_relay
from commsvc.consent.decisions import check
from commsvc.relay.models import Message
from tests.concurrency import once_it_waits_on
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.twilio_signing import TwilioPoster
from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, PRO_PROXY, REQUESTER, REQUESTER_PROXY


@pytest.mark.pg_only
def test_a_21610_callback_arriving_while_the_recipients_start_commits_keeps_their_grant(
        committed_app, clock):
    """The forwarded text failed with 21610; the pro's START is being recorded when Twilio's
    callback arrives. The callback read "no grant since the text" before the START committed,
    then revoked every purpose after it: its events, later in the ledger, undid the START."""
    database = committed_app.extensions["db"]
    with database.sessionmaker() as db:
        f.open_session(db, clock())
    poster = TwilioPoster(committed_app.test_client(), AUTH_TOKEN, BASE_URL)
    text_sid = f.sid("SM")
    relayed = poster("/webhooks/twilio/sms", {"From": REQUESTER, "To": REQUESTER_PROXY,
                                              "Body": "hello", "MessageSid": text_sid,
                                              "NumMedia": "0"})
    assert relayed.status_code == 200 and PRO.encode() in relayed.data
    with database.sessionmaker() as db:
        message_id = db.scalar(select(Message.id).where(Message.twilio_sid == text_sid))
    clock.advance(minutes=1)

    # The pro's START, recorded in its webhook's transaction, not committed yet.
    start = database.sessionmaker()
    decision = consent_relay.inbound_decision(start, from_phone=PRO, body="START",
                                              opt_out_type=None, now=clock())
    assert decision.consumed and decision.intent == "opt_in"
    consent_relay.record_inbound(start, decision, from_phone=PRO, to_phone=PRO_PROXY,
                                 message_sid=f.sid("SM"), body="START", now=clock())
    clock.advance(seconds=5)

    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    poster = TwilioPoster(committed_app.test_client(), AUTH_TOKEN, BASE_URL)
    responses = once_it_waits_on(start, database.engine, lambda: poster(
        f"/webhooks/twilio/message-status?m={message_id}&s={text_sid}", form))

    assert [r.status_code for r in responses] == [200]
    with database.sessionmaker() as db:
        assert check(db, phone=PRO, channel="sms", purpose="relay", now=clock()).allowed
        assert check(db, phone=PRO, channel="sms", purpose="transactional",
                     now=clock()).allowed
        assert db.scalar(select(Message.error_code).where(Message.id == message_id)) == 21610
