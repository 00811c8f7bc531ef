"""A reply's status callback racing the erasure of the text it answered (PostgreSQL)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from commsvc.auth import service as keys
from commsvc.records import remote
from commsvc.records.models import RemoteDeletion
from commsvc.relay.models import Message
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.twilio_signing import TwilioPoster
from tests.webhooks import factories as f

pytestmark = pytest.mark.pg_only

STRANGER, PROXY = "+14155550303", "+16465550001"
TEXT_SID, REPLY_SID = "SM" + "e" * 32, "SM" + "9" * 32


def test_a_reply_reported_while_its_text_is_erased_is_deleted_at_twilio(
        committed_app, clock, monkeypatch):
    """The erasure read the text's row (no reply SID yet), the reply's callback stored the SID
    and committed, then the erasure deleted the row: nothing queued the reply's deletion, and
    Twilio kept a message to the erased number for good."""
    app = committed_app
    database = app.extensions["db"]
    with database.sessionmaker() as db:
        f.proxy_number(db, PROXY, clock())
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
    told = poster("/webhooks/twilio/sms", {"From": STRANGER, "To": PROXY, "Body": "hello?",
                                           "NumMedia": "0", "MessageSid": TEXT_SID})
    assert told.status_code == 200 and b"statusCallback" in told.data
    with database.sessionmaker() as db:
        message_id = db.scalar(select(Message.id).where(Message.twilio_sid == TEXT_SID))

    callbacks = []

    def report_the_reply():
        callbacks.append(TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)(
            f"/webhooks/twilio/message-status?r={message_id}&s={TEXT_SID}",
            {"MessageSid": REPLY_SID, "MessageStatus": "delivered"}))

    enqueue_many = remote.enqueue_many
    reporter = threading.Thread(target=report_the_reply, daemon=True)

    def rows_chosen(db, **kwargs):
        # The erasure has read the rows it deletes and queues their SIDs: the callback now.
        if kwargs["cause"] == "erasure" and kwargs["resource"] == remote.MESSAGE \
                and not reporter.is_alive() and not callbacks:
            reporter.start()
            reporter.join(timeout=2)
        return enqueue_many(db, **kwargs)

    monkeypatch.setattr(remote, "enqueue_many", rows_chosen)
    erased = app.test_client().post(f"/v1/subjects/{STRANGER}/erase", headers={
        "Authorization": f"Bearer {raw}", "X-Access-Reason": "subject request #7"})
    reporter.join(timeout=30)

    assert erased.status_code == 200, erased.json
    assert erased.json["removed"]["messages"] == 1
    assert [r.status_code for r in callbacks] == [200]
    with database.sessionmaker() as db:
        assert db.scalar(select(Message.id).where(Message.id == message_id)) is None
        deleted = set(db.scalars(select(RemoteDeletion.sid).where(
            RemoteDeletion.resource == remote.MESSAGE, RemoteDeletion.action == remote.DELETE)))
    assert {TEXT_SID, REPLY_SID} <= deleted
