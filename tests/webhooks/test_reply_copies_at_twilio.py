"""The replies commsvc answers a sender with (the no-session reply, STOP's confirmation, HELP,
"could not be delivered") are messages in Twilio's log too, addressed to that person's number.
Their SIDs come back on the reply's own statusCallback, so erasure and retention delete them
at Twilio with the text they answered; a reply reported after its text was removed is queued
for deletion at once (found by the ops audit: every reply stayed at Twilio for ever)."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.records import retention
from commsvc.records.models import RemoteDeletion
from tests.webhooks import factories as f
from tests.webhooks.factories import REQUESTER_PROXY, STRANGER, twiml

BASE = "https://commsvc.example.com"
PRIVACY = {"X-Access-Reason": "DSAR 12"}


def _deletions(db) -> set[tuple[str, str, str, str]]:
    db.expire_all()
    return {(d.resource, d.sid, d.action, d.cause) for d in db.scalars(select(RemoteDeletion))}


def _reply_callback(twilio_post, reply, reply_sid: str):
    url = reply.get("statusCallback")
    assert url and url.startswith(f"{BASE}/webhooks/twilio/message-status?")
    response = twilio_post(url[len(BASE):], {"MessageSid": reply_sid, "MessageStatus": "sent",
                                             "AccountSid": "AC" + "0" * 32})
    assert response.status_code == 200
    return response


def test_a_reply_names_its_text_in_its_status_callback(session_open, send_sms, db):
    [reply] = twiml(send_sms(STRANGER, REQUESTER_PROXY, "who is this?"))

    stored = f.messages(db)[0]
    assert reply.get("statusCallback") == (
        f"{BASE}/webhooks/twilio/message-status?r={stored.id}&s={stored.twilio_sid}")


def test_erasing_the_sender_deletes_the_reply_at_twilio(
        session_open, send_sms, twilio_post, db, client, api_key):
    [reply] = twiml(send_sms(STRANGER, REQUESTER_PROXY, "who is this?"))
    reply_sid = f.sid("SM")
    _reply_callback(twilio_post, reply, reply_sid)
    stored = f.messages(db)[0]
    assert stored.status == "received"  # the reply's delivery is not the text's

    erased = client.post(f"/v1/subjects/{STRANGER}/erase",
                         headers={**api_key("privacy"), **PRIVACY})

    assert erased.status_code == 200, erased.json
    assert ("message", reply_sid, "delete", "erasure") in _deletions(db)


def test_a_reply_reported_after_its_text_was_erased_is_deleted_at_twilio(
        session_open, send_sms, twilio_post, db, client, api_key):
    [reply] = twiml(send_sms(STRANGER, REQUESTER_PROXY, "STOP"))
    assert client.post(f"/v1/subjects/{STRANGER}/erase",
                       headers={**api_key("privacy"), **PRIVACY}).status_code == 200
    reply_sid = f.sid("SM")

    _reply_callback(twilio_post, reply, reply_sid)

    assert ("message", reply_sid, "delete", "orphan_callback") in _deletions(db)


def test_retention_deletes_the_reply_at_twilio_with_its_text(
        app, session_open, send_sms, twilio_post, db, clock):
    [reply] = twiml(send_sms(STRANGER, REQUESTER_PROXY, "who is this?"))
    reply_sid = f.sid("SM")
    _reply_callback(twilio_post, reply, reply_sid)
    config = app.extensions["config"]
    clock.advance(days=config.retention.metadata / 86400 + 1)

    report = retention.run(app.extensions["db"], retention=config.retention, now=clock())

    assert report.counts["messages"] == 1
    assert ("message", reply_sid, "delete", "retention") in _deletions(db)
