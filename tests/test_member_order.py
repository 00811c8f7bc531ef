"""Answers list their members in the order API.md writes them, as the CLI's --json rows do.

Found by a walk of the contract with curl: every JSON answer came back with its members sorted
alphabetically (Flask's default), so a session began with "booking_id", "closed_reason",
"created_at" and a problem with "detail", while API.md writes `{"id", "booking_id", "status",
...}` and `{"type", "title", "status", "detail"}`, and `commsvc logs ... --json` printed the
same rows in the contract's order.
"""
from __future__ import annotations

import json

from tests.conftest import pool_and_booking_key
from tests.records.logdata import add_message, add_session

SESSION = ["id", "booking_id", "status", "closed_reason", "mode", "record_calls",
           "created_at", "expires_at", "requester", "pro"]
PROBLEM = ["type", "title", "status", "detail"]
LOG_ROW = ["id", "session_id", "booking_id", "direction", "from", "to", "status", "outcome",
           "twilio_sid", "created_at"]


def _members(response) -> list[str]:
    """The member names of the answer's top-level object, in the order the bytes carry them."""
    return list(json.loads(response.get_data(as_text=True)))


def test_a_session_lists_its_members_in_the_contracts_order(client, app, clock):
    headers = pool_and_booking_key(app, clock, 2, first=16465550001)
    response = client.post("/v1/sessions", headers=headers, json={
        "booking_id": "bk_1001", "requester": {"phone": "+14155550101"},
        "pro": {"phone": "+14155550202"}})

    assert response.status_code == 201
    assert _members(response) == SESSION
    session = json.loads(response.get_data(as_text=True))
    assert list(session["requester"]) == list(session["pro"]) == ["phone", "proxy_number"]
    listed = client.get("/v1/sessions", headers=headers)
    assert _members(listed) == ["data", "next_cursor"]
    assert list(json.loads(listed.get_data(as_text=True))["data"][0]) == SESSION


def test_a_problem_lists_type_title_status_detail_first(client, api_key):
    response = client.post("/v1/sessions", headers=api_key("booking"), json={})

    assert response.status_code == 422
    assert _members(response)[:5] == [*PROBLEM, "errors"]
    assert _members(client.get("/v1/sessions"))[:4] == PROBLEM  # 401


def test_a_pool_number_a_consent_check_and_a_send_answer_in_the_contracts_order(
        client, app, clock, api_key):
    added = client.post("/v1/numbers", headers=api_key("admin"), json={
        "phone_number": "+16465550009", "capabilities": ["sms", "voice"]})
    headers = pool_and_booking_key(app, clock, 1, first=16465550001)
    check = client.get("/v1/consent/check?phone=%2B14155550101&channel=sms&purpose=relay",
                       headers=headers)
    sent = client.post("/v1/messages", headers=headers, json={
        "to": "+14155550101", "body": "Your pro arrives at 3pm", "purpose": "transactional"})

    assert added.status_code == 201 and _members(added) == [
        "phone_number", "capabilities", "status", "country_code", "area_code", "open_sessions",
        "created_at", "retired_at"]  # docs/sessions.md
    assert _members(check) == ["allowed", "reason"]
    assert sent.status_code == 202 and _members(sent) == ["id", "status"]


def test_a_log_row_lists_its_members_in_the_contracts_order(client, api_key, db, clock):
    add_session(db, now=clock())
    add_message(db, now=clock(), body="Is 9am ok?")
    db.commit()

    response = client.get("/v1/logs/messages", headers=api_key("ops"))

    assert response.status_code == 200
    row = list(json.loads(response.get_data(as_text=True))["data"][0])
    assert row[:len(LOG_ROW)] == LOG_ROW
    assert set(row[len(LOG_ROW):]) == {"media_count", "error_code", "body"}


def test_a_problems_errors_name_their_fields_in_one_order_whatever_the_process(client, api_key,
                                                                              app):
    """marshmallow collects unknown fields from a set, in an order Python's string hashing
    (random for each process) decides: once answers were no longer sorted, the same request
    named them in another order after each restart. `errors` is sorted by field name, as every
    answer was before."""
    from flask import g

    from commsvc.errors import problem

    response = client.get("/v1/consent/check?phone=%2B14155550101&channel=sms&purpose=relay"
                          "&zeta=1&alpha=2&mid=3&beta=4&gamma=5&delta=6",
                          headers=api_key("booking"))
    named = list(json.loads(response.get_data(as_text=True))["errors"])
    with app.test_request_context():
        g.request_id = None
        built = problem(422, "validation-error", "Invalid request", "x",
                        errors={"zeta": ["a"], "alpha": ["b"], "pro.phone": ["c"], "pro": ["d"]})

    assert response.status_code == 422 and named == sorted(named)
    assert list(json.loads(built.get_data(as_text=True))["errors"]) == [
        "alpha", "pro", "pro.phone", "zeta"]
