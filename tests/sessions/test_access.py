"""Who may call each sessions endpoint, and which real numbers each role sees."""
from __future__ import annotations

import pytest

from commsvc.records import audit
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS

ENDPOINTS = {
    "create": ("post", "/v1/sessions", {"booking_id": "bk_9", "requester": {"phone": REQUESTER},
                                        "pro": {"phone": PRO}}),
    "list": ("get", "/v1/sessions", None),
    "get": ("get", "/v1/sessions/{id}", None),
    "extend": ("patch", "/v1/sessions/{id}", {"ttl_seconds": 1209600}),
    "close": ("post", "/v1/sessions/{id}/close", None),
}
ALLOWED = {
    "create": {"booking", "admin"},
    "list": {"booking", "ops", "privacy", "admin"},
    "get": {"booking", "ops", "privacy", "admin"},
    "extend": {"booking", "admin"},
    "close": {"booking", "admin"},
}


@pytest.fixture
def session_id(create, add_numbers):
    add_numbers(*SF_NUMBERS)
    return create().get_json()["id"]


def _call(client, endpoint: str, session_id: str, headers: dict | None):
    method, path, body = ENDPOINTS[endpoint]
    return getattr(client, method)(path.format(id=session_id), json=body, headers=headers or {})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_key_or_a_wrong_key_is_401_before_anything_else(client, session_id, endpoint):
    for headers in (None, {"Authorization": "Bearer csk_unknown"}, {"Authorization": "Basic x"}):
        response = _call(client, endpoint, session_id, headers)
        assert response.status_code == 401
        assert response.content_type == "application/problem+json"


def test_401_comes_before_validation(client):
    response = client.post("/v1/sessions", json={"nonsense": True})
    assert response.status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ["booking", "ops", "privacy", "admin"])
def test_roles_matrix(client, api_key, session_id, endpoint, role):
    response = _call(client, endpoint, session_id, api_key(role))
    if role in ALLOWED[endpoint]:
        assert response.status_code in (200, 201), response.get_json()
    else:
        assert response.status_code == 403
        assert response.content_type == "application/problem+json"


MASKED_SF_NUMBERS = {"+1******9001", "+1******9002", "+1******9003"}


def test_booking_sees_full_real_numbers_and_full_proxy_numbers(client, booking, session_id):
    body = client.get(f"/v1/sessions/{session_id}", headers=booking).get_json()
    assert body["requester"]["phone"] == REQUESTER and body["pro"]["phone"] == PRO
    assert {body["requester"]["proxy_number"], body["pro"]["proxy_number"]} <= set(SF_NUMBERS)


@pytest.mark.parametrize("role, proxy_numbers", [("ops", MASKED_SF_NUMBERS),
                                                 ("privacy", MASKED_SF_NUMBERS),
                                                 ("admin", set(SF_NUMBERS))])
def test_other_roles_see_masked_real_numbers_and_proxy_numbers_by_the_pool_rule(
        client, api_key, role, proxy_numbers, session_id):
    headers = api_key(role)
    one = client.get(f"/v1/sessions/{session_id}", headers=headers).get_json()
    listed = client.get("/v1/sessions", headers=headers).get_json()["data"][0]
    for body in (one, listed):
        assert body["requester"]["phone"] == "+1******0101"
        assert body["pro"]["phone"] == "+1******0202"
        assert body["requester"]["proxy_number"] in proxy_numbers
        assert body["pro"]["proxy_number"] in proxy_numbers


@pytest.mark.parametrize("role", ["privacy", "admin"])
def test_a_stated_reason_shows_full_numbers_and_is_audited(client, api_key, role, session_id,
                                                           monkeypatch):
    recorded = []
    monkeypatch.setattr(audit, "record", lambda db, **event: recorded.append(event))
    headers = {**api_key(role), "X-Access-Reason": "ticket 4411: dispute"}
    body = client.get(f"/v1/sessions/{session_id}", headers=headers).get_json()
    assert body["requester"]["phone"] == REQUESTER and body["pro"]["phone"] == PRO
    assert {body["requester"]["proxy_number"], body["pro"]["proxy_number"]} <= set(SF_NUMBERS)
    assert len(recorded) == 1
    event = recorded[0]
    assert event["action"] == "pii.read" and event["reason"] == "ticket 4411: dispute"
    assert event["target"]["session_id"] == session_id
    assert REQUESTER not in str(event) and PRO not in str(event)


def test_ops_may_not_state_a_reason(client, api_key, session_id):
    headers = {**api_key("ops"), "X-Access-Reason": "curious"}
    assert client.get(f"/v1/sessions/{session_id}", headers=headers).status_code == 403


def test_reads_without_a_reason_are_not_audited(client, api_key, session_id, monkeypatch):
    recorded = []
    monkeypatch.setattr(audit, "record", lambda db, **event: recorded.append(event))
    client.get(f"/v1/sessions/{session_id}", headers=api_key("privacy"))
    assert recorded == []
