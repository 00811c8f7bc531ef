"""GET /v1/consent/check's answers pinned byte for byte (status, Content-Type, body without its
request_id), good and bad queries, with and without a live key, so that a change to how the
hot check parses its query, reads the key and writes its answer cannot change what a client
sees. Written before such a change (consent2), from the answers the code gave then."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from commsvc.auth import service as keys
from commsvc.records.models import AuditEvent

PHONE = "+14155550101"
REVOKE_ALL = {"channel": "all", "purpose": "all", "action": "revoke", "source": "support",
              "evidence": {"ticket": "T-1"}}
GRANT_MARKETING = {"channel": "sms", "purpose": "marketing", "action": "grant",
                   "source": "signup_form", "evidence": {"form": "signup"}}
JSON, PROBLEM = "application/json", "application/problem+json"
MISSING = "Missing data for required field."


def ok(allowed: bool, reason: str) -> tuple:
    return 200, JSON, json.dumps({"allowed": allowed, "reason": reason},
                                 separators=(",", ":")).encode() + b"\n"


def invalid(errors: dict) -> tuple:
    return 422, PROBLEM, {"detail": "The request has invalid or missing fields.",
                          "errors": errors, "status": 422, "title": "Invalid request",
                          "type": "validation-error"}


# query string -> (status, Content-Type, body: bytes for a 200, the problem without request_id)
ANSWERS = {
    'phone=%2B14155550101&channel=sms&purpose=relay':
        ok(True, "default_allowed"),
    'phone=%2B14155550101&channel=sms&purpose=marketing':
        ok(True, "granted"),
    'phone=%2B14155550101&channel=voice&purpose=marketing':
        ok(False, "no_grant"),
    'phone=%2B16465550123&channel=voice&purpose=transactional':
        ok(False, "revoked"),
    'phone=%2B16465550123&channel=sms&purpose=marketing':
        ok(False, "revoked"),
    'phone=+16465550123&channel=sms&purpose=relay':
        ok(False, "revoked"),
    'phone=6465550123&channel=sms&purpose=relay':
        ok(False, "revoked"),
    'phone=(646)%20555-0123&channel=sms&purpose=relay':
        ok(False, "revoked"),
    'phone=%206465550123&channel=sms&purpose=relay':
        ok(False, "revoked"),
    'channel=sms&purpose=relay':
        invalid({'phone': [MISSING]}),
    'phone=&channel=sms&purpose=relay':
        invalid({'phone': [MISSING]}),
    'phone=123&channel=sms&purpose=relay':
        invalid({'phone': ['not a valid, dialable phone number']}),
    'phone=abc&channel=fax&purpose=all':
        invalid({'channel': ['Must be one of: sms, voice.'], 'phone': ['not a phone number'],
                 'purpose': ['Must be one of: relay, transactional, marketing.']}),
    'phone=%2B14155550101&channel=SMS&purpose=relay':
        invalid({'channel': ['Must be one of: sms, voice.']}),
    'phone=%2B14155550101&channel=&purpose=relay':
        invalid({'channel': [MISSING]}),
    'phone=%2B14155550101&channel=sms':
        invalid({'purpose': [MISSING]}),
    'phone=%2B14155550101&channel=sms&purpose=relay&outcome=x':
        invalid({'outcome': ['Unknown field.']}),
    'phone=%2B14155550101&channel=sms&channel=sms&purpose=relay':
        invalid({'channel': ['given more than once: give each query argument once']}),
    'phone=%2B14155550101&phone=%2B16465550123&channel=sms&purpose=relay':
        invalid({'phone': ['given more than once: give each query argument once']}),
    '':
        invalid({'channel': [MISSING], 'phone': [MISSING], 'purpose': [MISSING]}),
    'x=1':
        invalid({'channel': [MISSING], 'phone': [MISSING], 'purpose': [MISSING],
                 'x': ['Unknown field.']}),
    'phone=%2B14155550101&channel=sms&purpose=relay&':
        ok(True, "default_allowed"),
    'phone=%2B1415555010&channel=sms&purpose=relay':
        invalid({'phone': ['not a valid, dialable phone number']}),
    'phone=%2B999&channel=sms&purpose=relay':
        invalid({'phone': ['not a phone number']}),
    'phone=%FF&channel=sms&purpose=relay':
        (400, PROBLEM, {'detail': 'The query string is not valid UTF-8 once its %-escapes are'
                                  ' decoded.', 'status': 400, 'title': 'Bad Request',
                        'type': 'bad-request'}),
    'phone=%2B14155550101&channel=sms&purpose=relay%00':
        (422, PROBLEM, {'detail': 'The request carries a character that no field may hold.',
                        'errors': {'purpose': ['must not contain the NUL character (U+0000)']},
                        'status': 422, 'title': 'Invalid request', 'type': 'validation-error'}),
    'Phone=%2B14155550101&channel=sms&purpose=relay':
        invalid({'Phone': ['Unknown field.'], 'phone': [MISSING]}),
}


def _answer(response):
    if response.status_code == 200:
        return response.status_code, response.content_type, response.data
    body = json.loads(response.data)
    body.pop("request_id", None)
    return response.status_code, response.content_type, body


@pytest.mark.parametrize("query", list(ANSWERS))
def test_each_query_gets_the_answer_it_got_before(client, api_key, query):
    booking = api_key("booking")
    client.post("/v1/consent/%2B16465550123", json=REVOKE_ALL, headers=booking)
    client.post("/v1/consent/%2B14155550101", json=GRANT_MARKETING, headers=booking)

    response = client.get("/v1/consent/check?" + query, headers=booking)

    assert _answer(response) == ANSWERS[query]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]


UNAUTHORIZED = {"detail": "The API key is unknown or revoked.", "status": 401,
                "title": "Missing, unknown or revoked API key", "type": "unauthorized"}
GOOD, BAD = ("phone=%2B14155550101&channel=sms&purpose=relay",
             "phone=123&channel=fax&purpose=relay&outcome=x")


@pytest.mark.parametrize("query", [GOOD, BAD, ""])
def test_without_a_live_key_every_query_is_a_401_first(client, api_key, db, clock, query):
    booking = api_key("booking")
    assert client.get("/v1/consent/check?" + GOOD, headers=booking).status_code == 200
    keys.revoke_key(db, keys.list_keys(db)[0].id, now=clock())
    db.commit()

    answers = [client.get("/v1/consent/check?" + query, headers=headers)
               for headers in (booking, {"Authorization": "Bearer csk_unknown"}, {})]

    assert _answer(answers[0]) == (401, PROBLEM, UNAUTHORIZED)  # revoked: at once
    assert _answer(answers[1]) == (401, PROBLEM, UNAUTHORIZED)
    assert _answer(answers[2]) == (401, PROBLEM, {
        "detail": "Send Authorization: Bearer <api key>.", "status": 401,
        "title": "Missing, unknown or revoked API key", "type": "unauthorized"})


@pytest.mark.parametrize("query", [GOOD, BAD])
def test_a_reason_from_a_role_that_may_not_send_one_is_a_403_before_the_query(
        client, api_key, query):
    headers = {**api_key("booking"), "X-Access-Reason": "ticket 7"}

    response = client.get("/v1/consent/check?" + query, headers=headers)

    assert _answer(response) == (403, PROBLEM, {
        "detail": "The booking role may not send X-Access-Reason.", "status": 403,
        "title": "This API key's role may not do this", "type": "forbidden"})


@pytest.mark.parametrize("role", ["ops", "privacy", "admin"])
def test_every_reader_gets_the_same_answer_and_a_reason_writes_no_audit(
        client, api_key, db, role):
    headers = {**api_key(role), "X-Access-Reason": "ticket 7"} if role != "ops" else api_key(role)
    audited = db.scalar(select(func.count()).select_from(AuditEvent))

    response = client.get("/v1/consent/check?" + GOOD, headers=headers)

    assert _answer(response) == (200, JSON, b'{"allowed":true,"reason":"default_allowed"}\n')
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == audited


def test_a_plain_valid_query_is_read_without_webargs(client, api_key, monkeypatch):
    """The hot path: webargs and marshmallow were a tenth of a check's CPU (consent2); a query
    of the three arguments, each valid, is read by the view itself, with the same answer."""
    from commsvc.api_docs import Blueprint

    parsed = []
    parse = Blueprint.ARGUMENTS_PARSER.parse
    monkeypatch.setattr(Blueprint.ARGUMENTS_PARSER, "parse",
                        lambda *a, **k: parsed.append(1) or parse(*a, **k))
    booking = api_key("booking")

    good = client.get("/v1/consent/check?" + GOOD, headers=booking)
    bad = client.get("/v1/consent/check?" + BAD, headers=booking)

    assert _answer(good) == ok(True, "default_allowed")
    assert bad.status_code == 422 and parsed == [1]  # only the bad query went through webargs



def test_flask_asks_once_per_function_whether_it_is_a_coroutine(client, api_key, monkeypatch):
    """Flask's ensure_sync asked inspect at each request, for every hook, the view and every
    teardown (six a check, 1% of its instructions, consent3): remembered, the second check
    asks nothing, and answers the same."""
    import flask.app

    asked = []
    ask = flask.app.iscoroutinefunction
    monkeypatch.setattr(flask.app, "iscoroutinefunction",
                        lambda func: asked.append(func) or ask(func))
    booking = api_key("booking")
    assert _answer(client.get("/v1/consent/check?" + GOOD, headers=booking)) == ok(
        True, "default_allowed")
    asked.clear()

    assert _answer(client.get("/v1/consent/check?" + GOOD, headers=booking)) == ok(
        True, "default_allowed")
    assert asked == []
