"""A 422 names every wrong field at once, however each is checked (the schema's own rules, a
phone number's, a legal hold's): a client fixes its request in one round, not one per field."""
from __future__ import annotations

import pytest

from commsvc.errors import PROBLEM_JSON


def _invalid(response, *fields: str) -> dict:
    """The response is the contract's 422, and its `errors` names exactly `fields`."""
    assert response.status_code == 422, response.get_json()
    assert response.content_type == PROBLEM_JSON
    body = response.get_json()
    assert body["type"] == "validation-error" and body["status"] == 422
    assert set(body["errors"]) == set(fields), body
    assert all(isinstance(m, str) for messages in body["errors"].values() for m in messages)
    return body["errors"]


@pytest.mark.parametrize("kind", ["messages", "calls"])
def test_a_log_query_with_a_bad_status_and_a_bad_phone_names_both(client, api_key, kind):
    response = client.get(f"/v1/logs/{kind}?status=bogus&phone=123", headers=api_key("ops"))
    _invalid(response, "status", "phone")


def test_a_log_query_names_a_bad_phone_with_a_bad_limit_and_direction(client, api_key):
    response = client.get("/v1/logs/messages?phone=123&limit=0&direction=sideways",
                          headers=api_key("ops"))
    _invalid(response, "phone", "limit", "direction")


@pytest.mark.parametrize("scope, value", [("phone", "123"), ("session", "not-a-session"),
                                          ("booking", " bk_1")])
def test_a_hold_with_a_bad_value_and_an_empty_reason_names_both(client, api_key, scope, value):
    response = client.post("/v1/holds", json={"scope": scope, "value": value, "reason": ""},
                           headers=api_key("privacy"))
    errors = _invalid(response, "value", "reason")
    assert errors["reason"] == ["must state why the data is held"]


def test_a_hold_with_an_unknown_scope_and_an_empty_reason_names_both(client, api_key):
    response = client.post("/v1/holds", json={"scope": "planet", "value": "x", "reason": " "},
                           headers=api_key("privacy"))
    _invalid(response, "scope", "reason")


def test_a_valid_hold_on_a_national_number_is_still_placed_in_e164(client, api_key):
    response = client.post("/v1/holds", json={"scope": "phone", "value": "(415) 555-0101",
                                              "reason": "litigation hold 12"},
                           headers={**api_key("privacy"), "X-Access-Reason": "check"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["value"] == "+14155550101"


def test_a_send_with_a_bad_number_and_a_bad_purpose_names_both(client, api_key):
    response = client.post("/v1/messages", json={"to": "123", "body": "", "purpose": "spam"},
                           headers=api_key("booking"))
    _invalid(response, "to", "body", "purpose")


def test_a_consent_check_with_a_bad_number_and_a_bad_channel_names_both(client, api_key):
    response = client.get("/v1/consent/check?phone=123&channel=fax&purpose=relay",
                          headers=api_key("booking"))
    _invalid(response, "phone", "channel")


@pytest.mark.parametrize("requester, pro", [("+14155550101", "+14155550101"),
                                            ("+19005550123", "+14155550202")])
def test_a_session_with_bad_participants_and_a_bad_mode_names_them_all(client, api_key,
                                                                      requester, pro):
    response = client.post("/v1/sessions", json={
        "booking_id": "bk_every", "requester": {"phone": requester}, "pro": {"phone": pro},
        "mode": "fax"}, headers=api_key("booking"))
    errors = _invalid(response, "mode", "pro.phone" if requester == pro else "requester.phone")
    assert errors["mode"]


PERIOD_BACKWARDS = "since=2026-06-02T00:00:00Z&until=2026-06-01T00:00:00Z"


@pytest.mark.parametrize("url, role, wrong", [
    (f"/v1/logs/messages?status=bogus&{PERIOD_BACKWARDS}", "ops", "status"),
    (f"/v1/logs/calls?direction=up&{PERIOD_BACKWARDS}", "ops", "direction"),
    (f"/v1/audit?limit=0&{PERIOD_BACKWARDS}", "privacy", "limit"),
])
def test_a_period_ending_before_it_starts_is_named_with_the_other_wrong_fields(
        client, api_key, url, role, wrong):
    errors = _invalid(client.get(url, headers=api_key(role)), wrong, "until")
    assert errors["until"] == ["must be after since"]
