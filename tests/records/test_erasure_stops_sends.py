"""An erasure stops every text still waiting to go to the person: a legal hold keeps such a
text as a record, never as a send (found by a black-box audit: it went out after the erasure)."""
from __future__ import annotations

import pytest

from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import run_once

PERSON = "+14155550101"
REASON = {"X-Access-Reason": "subject access request #91"}


@pytest.fixture
def config(config):
    return config.with_overrides(sender_number="+16465550000")


@pytest.fixture
def queued(client, api_key):
    """A transactional text to PERSON, accepted and not yet sent, of booking bk_q1."""
    response = client.post("/v1/messages", headers=api_key("booking"), json={
        "to": PERSON, "body": "Your pro arrives at 3pm.", "purpose": "transactional",
        "booking_id": "bk_q1"})
    assert response.status_code == 202, response.json
    return response.json["id"]


def _erase(client, api_key):
    response = client.post(f"/v1/subjects/{PERSON}/erase",
                           headers={**api_key("privacy"), **REASON})
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize(("scope", "value"), [("booking", "bk_q1"), ("phone", PERSON)])
def test_a_held_text_not_yet_sent_is_kept_but_never_sent_after_an_erasure(
        app, client, api_key, db, twilio, queued, scope, value):
    hold = client.post("/v1/holds", headers=api_key("privacy"),
                       json={"scope": scope, "value": value, "reason": "dispute"})
    assert hold.status_code == 201, hold.json

    result = _erase(client, api_key)

    assert result["kept"]["held"]["outbound_messages"] == 1
    assert ("blocked 1 held texts not yet sent to this number: they stay on record under the"
            " hold, and are never sent") in result["reasons"]
    assert run_once(app).claimed == 0
    assert twilio.sent == []
    db.expire_all()
    row = db.get(OutboundMessage, queued)
    assert (row.status, row.last_error) == ("blocked", "not sent: the recipient's data was erased")
    assert row.body == "Your pro arrives at 3pm."  # kept whole, as the hold asks
    status = client.get(f"/v1/messages/{queued}", headers=api_key("booking"))
    assert status.json["status"] == "blocked"
    # Not "blocked_consent" (a regression audit): consent was never revoked.
    logged = client.get("/v1/logs/messages?direction=outbound", headers=api_key("ops"))
    assert [row["outcome"] for row in logged.json["data"]] == ["blocked_erased"]


def test_an_unheld_text_not_yet_sent_is_removed_and_never_sent(
        app, client, api_key, db, twilio, queued):
    result = _erase(client, api_key)

    assert result["removed"]["outbound_messages"] == 1
    assert not any("blocked" in reason for reason in result["reasons"])
    assert run_once(app).claimed == 0
    assert twilio.sent == []


def test_a_text_already_sent_is_not_blocked_by_an_erasure_under_hold(
        app, client, api_key, db, twilio, queued):
    assert run_once(app).simulated == 1
    client.post("/v1/holds", headers=api_key("privacy"),
                json={"scope": "phone", "value": PERSON, "reason": "dispute"})

    result = _erase(client, api_key)

    db.expire_all()
    assert db.get(OutboundMessage, queued).status == "simulated"
    assert not any("blocked" in reason for reason in result["reasons"])

