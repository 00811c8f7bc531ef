"""Idempotency-Key on POST /v1/consent/{phone}: a booking app that retries a grant after its
answer was lost records one event, and a retry landing after the person's STOP does not
overrule it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commsvc.auth import service as key_service
from commsvc.consent.models import ConsentEvent
from tests.concurrency import all_at_once
from tests.consent.test_api import GRANT_MARKETING, PHONE, check
from tests.webhooks import factories as f
from tests.webhooks.conftest import send_sms, session_open  # noqa: F401  (fixtures)


@pytest.fixture
def booking(api_key):
    return api_key("booking")


def _post(client, headers, key=None, payload=GRANT_MARKETING, phone=PHONE):
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post(f"/v1/consent/{phone}", json=payload, headers=headers)


def _events(db, phone=PHONE) -> int:
    return db.scalar(select(func.count()).select_from(ConsentEvent)
                     .where(ConsentEvent.phone == phone))


def test_a_retry_with_the_same_key_gets_the_event_already_recorded(client, booking, db):
    first = _post(client, booking, "signup-42")
    second = _post(client, booking, "signup-42")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json() == first.get_json()
    assert _events(db) == 1


def test_a_retried_grant_after_the_persons_stop_does_not_overrule_it(
        client, booking, db, session_open, send_sms):  # noqa: F811
    """The grant's answer was lost; the customer texted STOP; the booking app retries."""
    first = _post(client, booking, "signup-43",
                  payload={**GRANT_MARKETING, "channel": "all", "purpose": "all"})
    assert first.status_code == 201
    stop = send_sms(f.REQUESTER, f.REQUESTER_PROXY, "STOP")
    assert stop.status_code == 200 and check(client, booking, phone=f.REQUESTER).get_json()[
        "allowed"] is False

    retry = _post(client, booking, "signup-43",
                  payload={**GRANT_MARKETING, "channel": "all", "purpose": "all"})
    assert (retry.status_code, retry.get_json()) == (201, first.get_json())
    for purpose in ("relay", "marketing"):
        assert check(client, booking, phone=f.REQUESTER, purpose=purpose).get_json() == {
            "allowed": False, "reason": "revoked"}


def test_the_same_key_with_another_decision_is_a_409_and_records_nothing(client, booking, db):
    _post(client, booking, "k1")
    response = _post(client, booking, "k1", payload={**GRANT_MARKETING, "action": "revoke"})
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert "Idempotency-Key" in response.get_json()["detail"]
    other_phone = _post(client, booking, "k1", phone="+14155550199")
    assert other_phone.status_code == 409
    assert _events(db) == 1 and _events(db, "+14155550199") == 0


def test_how_the_request_reached_us_is_not_part_of_the_decision(client, booking, db):
    """The retry comes from another address (the evidence's `received` differs)."""
    first = _post(client, booking, "k2")
    again = client.post(f"/v1/consent/{PHONE}", json=GRANT_MARKETING,
                        headers={**booking, "Idempotency-Key": "k2",
                                 "X-Forwarded-For": "198.51.100.7"},
                        environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert (again.status_code, again.get_json()["id"]) == (201, first.get_json()["id"])


def test_keys_belong_to_the_api_key_and_posts_without_one_each_record(client, api_key, db):
    _post(client, api_key("booking", "app-1"), "same")
    _post(client, api_key("booking", "app-2"), "same")
    _post(client, api_key("booking", "app-3"))
    _post(client, api_key("booking", "app-3"))
    assert _events(db) == 4


@pytest.mark.parametrize("key", ["", "x" * 101, "has space", "caf\u00e9", "a,b"])
def test_a_malformed_key_is_a_422(client, booking, db, key):
    response = _post(client, booking, key)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert _events(db) == 0


def test_the_openapi_document_describes_the_header(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/v1/consent/{phone}"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert "409" in operation["responses"]


@pytest.mark.pg_only
def test_concurrent_retries_with_one_key_record_one_event(committed_app, clock):
    with committed_app.extensions["db"].sessionmaker() as db:
        _, raw = key_service.create_key(db, name="racer", role="booking", now=clock())
        db.commit()
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "race-1"}

    def post():
        response = committed_app.test_client().post(f"/v1/consent/{PHONE}", json=GRANT_MARKETING,
                                                     headers=headers)
        return response.status_code, response.get_json()["id"]

    answers = all_at_once(4, post)
    assert len(answers) == 4
    assert {status for status, _ in answers} == {201}
    assert len({event_id for _, event_id in answers}) == 1
    with committed_app.extensions["db"].sessionmaker() as db:
        assert _events(db) == 1
