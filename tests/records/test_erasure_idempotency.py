"""A retry under an Idempotency-Key after its recipient's erasure: never a second text, never
the erased body back (found by a privacy audit: the retry queued and sent the text again)."""
from __future__ import annotations

import pytest

from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import run_once
from tests.conftest import StatementRecording

PERSON = "+14155550101"
REASON = {"X-Access-Reason": "subject access request #92"}
TEXT = {"to": PERSON, "body": "Your pro arrives at 3pm.", "purpose": "transactional"}


@pytest.fixture
def config(config):
    return config.with_overrides(sender_number="+16465550000")


def _erase(client, api_key):
    response = client.post(f"/v1/subjects/{PERSON}/erase",
                           headers={**api_key("privacy"), **REASON})
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize("sent_first", [False, True])
def test_a_retry_after_the_erasure_sends_nothing_and_stores_nothing(
        app, client, api_key, db, twilio, sent_first):
    headers = {**api_key("booking"), "Idempotency-Key": "bk_1-arrival"}
    first = client.post("/v1/messages", headers=headers, json=TEXT)
    assert first.status_code == 202, first.json
    if sent_first:
        assert run_once(app).simulated == 1
    assert _erase(client, api_key)["removed"]["outbound_messages"] == 1

    retry = client.post("/v1/messages", headers=headers, json=TEXT)

    assert retry.status_code == 409, retry.json
    assert retry.content_type == "application/problem+json"
    assert PERSON not in retry.get_data(as_text=True)
    assert TEXT["body"] not in retry.get_data(as_text=True)
    db.expire_all()
    assert db.query(OutboundMessage).count() == 0
    assert run_once(app).claimed == 0
    assert len(twilio.sent) == (1 if sent_first else 0)  # the first send only


def test_the_same_key_of_another_api_key_and_a_new_key_still_send(
        app, client, api_key, db):
    """Only the erased text's own key (of its own API key) is refused: the person may book
    again, and the booking app text them anew."""
    headers = {**api_key("booking", "app-1"), "Idempotency-Key": "k"}
    client.post("/v1/messages", headers=headers, json=TEXT)
    _erase(client, api_key)

    other_app = client.post("/v1/messages", json=TEXT,
                            headers={**api_key("booking", "app-2"), "Idempotency-Key": "k"})
    new_key = client.post("/v1/messages", json=TEXT, headers={**headers, "Idempotency-Key": "k2"})
    no_key = client.post("/v1/messages", json=TEXT, headers=api_key("booking", "app-1"))

    assert [r.status_code for r in (other_app, new_key, no_key)] == [202, 202, 202]


def test_a_held_text_replays_as_accepted_and_stays_blocked(app, client, api_key, db, twilio):
    headers = {**api_key("booking"), "Idempotency-Key": "held-1"}
    first = client.post("/v1/messages", headers=headers, json=TEXT)
    client.post("/v1/holds", headers=api_key("privacy"),
                json={"scope": "phone", "value": PERSON, "reason": "dispute"})
    _erase(client, api_key)

    retry = client.post("/v1/messages", headers=headers, json=TEXT)

    assert (retry.status_code, retry.json) == (202, first.json)
    assert run_once(app).claimed == 0
    assert twilio.sent == []


def test_a_retry_after_the_hold_is_lifted_and_the_erasure_replayed_sends_nothing(
        app, client, api_key, db, twilio, runner):
    headers = {**api_key("booking"), "Idempotency-Key": "held-2"}
    client.post("/v1/messages", headers=headers, json=TEXT)
    hold = client.post("/v1/holds", headers=api_key("privacy"),
                       json={"scope": "phone", "value": PERSON, "reason": "dispute"})
    _erase(client, api_key)
    client.delete(f"/v1/holds/{hold.json['id']}", headers=api_key("privacy"))
    replay = runner.invoke(args=["erasures", "replay"])
    assert replay.exit_code == 0, replay.output
    db.expire_all()
    assert db.query(OutboundMessage).count() == 0

    retry = client.post("/v1/messages", headers=headers, json=TEXT)

    assert retry.status_code == 409, retry.json
    assert run_once(app).claimed == 0
    assert twilio.sent == []


def test_a_keyed_post_to_an_erased_number_reads_no_ledger_json_into_the_process(
        app, client, api_key, db):
    """Found by a review: every keyed POST to an erased number loaded every mark of its
    erasures (10,000 keyed texts: 680 kB of JSON read and parsed per POST, half its time on
    PostgreSQL); the database now looks for the one mark."""
    headers = {**api_key("booking"), "Idempotency-Key": "bk_7-arrival"}
    for key in ("bk_7-arrival", "bk_7-arrival-2", "bk_7"):
        client.post("/v1/messages", headers={**headers, "Idempotency-Key": key}, json=TEXT)
    _erase(client, api_key)

    def fetches_the_ledger(statement: str, _parameters) -> str | None:
        columns = statement.split("FROM", 1)[0]  # what the statement brings back
        return statement if "erasures" in statement and "result" in columns else None

    with StatementRecording(app.extensions["db"].engine, fetches_the_ledger) as fetched:
        near = client.post("/v1/messages", json=TEXT,
                           headers={**headers, "Idempotency-Key": "bk_7-arriva"})
        retry = client.post("/v1/messages", headers=headers, json=TEXT)

    assert (near.status_code, retry.status_code) == (202, 409)
    assert fetched == []
