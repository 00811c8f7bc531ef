"""Idempotency-Key: a booking app that retries a POST after a timeout queues one text, not two."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from commsvc import crypto
from commsvc.auth import service as key_service
from commsvc.records import retention
from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import run_once
from tests.concurrency import all_at_once
from tests.sending.conftest import NEW_YORK, utc


def test_a_retry_with_the_same_key_gets_the_same_message(send, booking, outbox):
    headers = {**booking, "Idempotency-Key": "bk_1001-reminder-1"}
    first = send(headers=headers)
    second = send(headers=headers)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json == first.json
    assert len(outbox()) == 1


def test_the_same_key_with_another_message_is_a_409(send, booking, outbox):
    headers = {**booking, "Idempotency-Key": "k1"}
    send(headers=headers, body="first")
    response = send(headers=headers, body="second")
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert [r.body for r in outbox()] == ["first"]


def test_a_retry_on_a_process_without_the_bodys_key_is_the_same_message_not_a_409(
        send, booking, outbox, monkeypatch):
    """Mid-rotation (docs/retention-and-privacy.md): a web process not yet deployed with the
    key the text was stored under reads its body as unavailable, which is no other message."""
    headers = {**booking, "Idempotency-Key": "k-rotation"}
    first = send(headers=headers, body="first")
    monkeypatch.setitem(crypto._state, "keyring", crypto.Keyring([Fernet.generate_key().decode()]))
    again = send(headers=headers, body="first")
    assert (again.status_code, again.json) == (202, first.json)
    assert len(outbox()) == 1
    assert send(headers=headers, body="first", to="+12125550188").status_code == 409


def test_a_retry_after_retention_removed_the_body_is_the_same_message_not_a_409(
        send, booking, outbox, app, clock):
    """A body past RETENTION_BODIES_DAYS is removed (null), which is no other message either:
    the retry was told 'already used for a different message' for the very text it sent."""
    headers = {**booking, "Idempotency-Key": "k-retained"}
    first = send(headers=headers, body="first")
    with app.extensions["db"].sessionmaker() as db:
        db.get(OutboundMessage, first.json["id"]).status = "delivered"
        db.commit()
    clock.advance(days=app.extensions["config"].retention.message_bodies / 86400 + 1)
    retention.run(app.extensions["db"], retention=app.extensions["config"].retention,
                  now=clock())
    assert [r.body for r in outbox()] == [None]
    again = send(headers=headers, body="first")
    assert (again.status_code, again.json) == (202, first.json)
    assert len(outbox()) == 1
    assert send(headers=headers, body="first", to="+12125550188").status_code == 409


def test_a_replay_answers_as_the_acceptance_did_after_the_text_was_sent(
        send, booking, outbox, app, clock):
    """API.md: 202 {"id", "status": "queued"|"scheduled"}; what became of the text since is
    GET /v1/messages/{id}'s to say."""
    headers = {**booking, "Idempotency-Key": "k3"}
    first = send(headers=headers)
    [message] = outbox()
    with app.extensions["db"].sessionmaker() as db:
        db.get(OutboundMessage, message.id).status = "delivered"
        db.commit()
    again = send(headers=headers)
    assert (first.json["status"], again.json) == ("queued", first.json)


def test_a_replay_answers_even_after_consent_was_revoked(send, booking, grant, outbox):
    headers = {**booking, "Idempotency-Key": "k2"}
    first = send(headers=headers)
    grant(NEW_YORK, action="revoke", purpose="all")
    assert send(headers=headers).json == first.json
    assert len(outbox()) == 1


def test_keys_are_scoped_to_the_api_key_and_absent_keys_never_collide(send, api_key, outbox):
    send(headers={**api_key("booking", "app-1"), "Idempotency-Key": "same"})
    send(headers={**api_key("booking", "app-2"), "Idempotency-Key": "same"})
    send()
    send()
    assert len(outbox()) == 4


# "a,b": the server joins an Idempotency-Key header sent twice so; it is no key of its own.
@pytest.mark.parametrize("key", ["", "x" * 101, "has space", "caf\u00e9", "a,b"])
def test_a_malformed_key_is_a_422(send, booking, outbox, key):
    response = send(headers={**booking, "Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]
    assert outbox() == []


@pytest.mark.pg_only
def test_concurrent_retries_with_one_key_queue_one_message(committed_app, clock, caplog):
    """One text, one answer to all, and one 'accepted' line (its log is its own, not the
    replays')."""
    caplog.set_level("INFO", logger="commsvc")
    with committed_app.extensions["db"].sessionmaker() as db:
        _, raw = key_service.create_key(db, name="racer", role="booking", now=clock())
        db.commit()
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "race-1"}
    payload = {"to": NEW_YORK, "body": "Your pro arrives at 3pm.", "purpose": "transactional"}

    def post():
        response = committed_app.test_client().post("/v1/messages", json=payload,
                                                     headers=headers)
        return response.status_code, response.get_json()

    answers = all_at_once(4, post)
    assert len(answers) == 4
    assert {status for status, _ in answers} == {202}
    [answer] = {tuple(sorted(body.items())) for _, body in answers}
    assert caplog.text.count(f"accepted {dict(answer)['id']}") == 1
    with committed_app.extensions["db"].sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(OutboundMessage)) == 1


def test_a_replay_is_not_logged_as_a_text_accepted_again(send, booking, caplog):
    """Found by a review: a replay was told from a new text by its created_at equalling the
    request's time, which a replay in the same instant (a frozen or coarse clock) matched:
    one text, two 'accepted' lines."""
    caplog.set_level("INFO", logger="commsvc")
    headers = {**booking, "Idempotency-Key": "k-logged"}
    first = send(headers=headers)
    assert send(headers=headers).json == first.json
    assert caplog.text.count(f"accepted {first.json['id']}") == 1


def test_a_replay_answers_as_accepted_though_the_worker_deferred_it_since(
        send, booking, grant, app, clock, twilio):
    """Found by a review: accepted 'queued' at 20:59:58 in New York, deferred by the worker at
    21:00:03, the replay answered 'scheduled' with the worker's time."""
    clock.set(utc(2026, 6, 2, 0, 59, 58))
    grant(NEW_YORK)
    headers = {**booking, "Idempotency-Key": "promo-1"}
    first = send(headers=headers, purpose="marketing", body="20% off")
    assert first.status_code == 202 and first.json["status"] == "queued"
    clock.advance(seconds=5)
    assert run_once(app, twilio).deferred == 1
    again = send(headers=headers, purpose="marketing", body="20% off")
    assert (again.status_code, again.json) == (202, first.json)
    shown = app.test_client().get(f"/v1/messages/{first.json['id']}", headers=booking).json
    assert shown["status"] == "scheduled" and shown["scheduled_for"] is not None  # as it is now
