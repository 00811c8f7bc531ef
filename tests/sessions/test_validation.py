"""Bad input to the Sessions API is a problem+json 422 (or 400 for malformed JSON)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from commsvc.errors import ValidationFailed
from commsvc.paging import encode_cursor
from commsvc.sessions.models import Session
from commsvc.sessions.service import resolve_expiry
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS

GOOD = {"booking_id": "bk_1", "requester": {"phone": REQUESTER}, "pro": {"phone": PRO}}


def _with(**changes):
    body = {**GOOD, **changes}
    return {k: v for k, v in body.items() if v is not ...}


@pytest.mark.parametrize(("body", "field"), [
    (_with(requester={"phone": "+1415555"}), "requester.phone"),
    (_with(requester={"phone": "not a phone"}), "requester.phone"),
    (_with(pro={"phone": "911"}), "pro.phone"),  # not a dialable subscriber number
    (_with(pro={"phone": 14155550202}), "pro.phone"),
    (_with(pro={}), "pro.phone"),
    (_with(mode="fax"), "mode"),
    (_with(booking_id=...), "booking_id"),
    (_with(booking_id=""), "booking_id"),
    (_with(booking_id="x" * 129), "booking_id"),
    # " bk_1 " and "bk_1" would be two bookings: a retry that trims opened a second session
    (_with(booking_id="   "), "booking_id"),
    (_with(booking_id=" bk_pad "), "booking_id"),
    (_with(booking_id="bk_pad\u00a0"), "booking_id"),
    (_with(booking_id="bk_nl\n"), "booking_id"),  # a code review: "$" matched before it
    (_with(booking_id="\ufeffbk_bom"), "booking_id"),
    (_with(booking_id="bk\u00ad1"), "booking_id"),  # soft hyphen: invisible
    (_with(booking_id="bk\u2066_1"), "booking_id"),  # a bidi isolate
    (_with(booking_id="bk\x851"), "booking_id"),  # a C1 control
    # a regression audit: an Arabic letter mark, a tag, a filler, a braille blank
    (_with(booking_id="bk\u061cx"), "booking_id"),
    (_with(booking_id="bk\U000e0041"), "booking_id"),
    (_with(booking_id="bk\u3164"), "booking_id"),
    (_with(booking_id="bk\u2800"), "booking_id"),
    (_with(requester=...), "requester"),
    (_with(pro=...), "pro"),
    (_with(ttl_seconds=0), "ttl_seconds"),
    (_with(ttl_seconds=1e-9), "ttl_seconds"),
    (_with(ttl_seconds=1e-7), "ttl_seconds"),
    (_with(ttl_seconds=-60), "ttl_seconds"),
    (_with(ttl_seconds="3600"), "ttl_seconds"),
    (_with(ttl_seconds=True), "ttl_seconds"),
    (_with(ttl_seconds=10 ** 400), "ttl_seconds"),
    (_with(ttl_seconds=10**30), "ttl_seconds"),
    (_with(ttl_seconds=366 * 86400 + 1), "ttl_seconds"),
    (_with(expires_at="2026-06-01T11:59:59Z"), "expires_at"),
    (_with(expires_at="2026-06-01T12:00:00Z"), "expires_at"),
    (_with(expires_at="tomorrow"), "expires_at"),
    (_with(expires_at="2030-01-01T00:00:00Z"), "expires_at"),
    (_with(ttl_seconds=60, expires_at="2026-06-02T00:00:00Z"), "expires_at"),
    (_with(record_calls="maybe"), "record_calls"),
    (_with(record_calls="true"), "record_calls"),  # JSON booleans only
    (_with(record_calls=1), "record_calls"),  # found by an audit: 1 == True in Python
    (_with(record_calls=0), "record_calls"),
    (_with(booking_id="bk\x001"), "booking_id"),
    (_with(colour="blue"), "colour"),  # unknown fields are refused, not ignored
    (_with(requester={"phone": REQUESTER, "name": "Ann"}), "requester.name"),
])
def test_invalid_create_is_422_problem_naming_the_field(client, booking, add_numbers, db,
                                                        body, field):
    add_numbers(*SF_NUMBERS)
    response = client.post("/v1/sessions", json=body, headers=booking)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422 and problem["type"] == "validation-error"
    assert field in problem["errors"]
    assert db.scalar(select(func.count()).select_from(Session)) == 0


MAX_TTL_MESSAGE = f"must be a positive number of seconds (0.000001 or more) up to {366 * 86400}"


@pytest.mark.parametrize("ttl", [0, 1e-9, 1e-7, -1, 366 * 86400 + 0.5])
def test_a_ttl_that_is_not_positive_or_past_the_maximum_is_refused_on_create_and_patch(
        create, add_numbers, client, booking, db, ttl):
    add_numbers(*SF_NUMBERS)
    refused = create("bk_short", ttl_seconds=ttl)
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"ttl_seconds": [MAX_TTL_MESSAGE]}
    assert db.scalar(select(func.count()).select_from(Session)) == 0
    session = create(ttl_seconds=3600).get_json()
    patched = client.patch(f"/v1/sessions/{session['id']}", json={"ttl_seconds": ttl},
                           headers=booking)
    assert patched.status_code == 422
    assert patched.get_json()["errors"] == {"ttl_seconds": [MAX_TTL_MESSAGE]}
    again = client.get(f"/v1/sessions/{session['id']}", headers=booking).get_json()
    assert again["status"] == "open" and again["expires_at"] == session["expires_at"]


def _ttl_written_as(literal: str, **fields) -> str:
    """A JSON body whose ttl_seconds is `literal` as written (NaN, 1e400: no Python value
    json.dumps writes so)."""
    return json.dumps({**fields, "ttl_seconds": 0}).replace('"ttl_seconds": 0',
                                                            f'"ttl_seconds": {literal}')


@pytest.mark.parametrize(("literal", "message"), [
    ("NaN", MAX_TTL_MESSAGE), ("Infinity", MAX_TTL_MESSAGE), ("1e400", MAX_TTL_MESSAGE),
    ("1" + "0" * 400, MAX_TTL_MESSAGE),  # past a float's range: "Number too large."
    ('"3600"', 'must be a number of seconds written as a JSON number (3600, not "3600")'),
    ("true", 'must be a number of seconds written as a JSON number (3600, not "3600")'),
])
def test_a_ttl_that_is_no_finite_json_number_says_what_is_wanted_on_create_and_patch(
        create, add_numbers, client, booking, literal, message):
    """Found by fuzzing: "3600" was refused as "must be a number of seconds" (it is one,
    written as a string), and an integer past a float's range as "Number too large."."""
    add_numbers(*SF_NUMBERS)
    session = create(ttl_seconds=3600).get_json()
    sent = {"content_type": "application/json", "headers": booking}
    refused = client.post("/v1/sessions", data=_ttl_written_as(literal, **GOOD), **sent)
    patched = client.patch(f"/v1/sessions/{session['id']}", data=_ttl_written_as(literal),
                           **sent)
    assert refused.status_code == patched.status_code == 422
    assert refused.get_json()["errors"] == patched.get_json()["errors"] == {
        "ttl_seconds": [message]}


def test_any_positive_ttl_is_accepted_on_create_and_patch(create, add_numbers, client,
                                                          booking):
    """API.md: "any positive number of seconds"; half a second is one."""
    add_numbers(*SF_NUMBERS)
    created = create(ttl_seconds=0.5)
    assert created.status_code == 201
    assert created.get_json()["expires_at"] == "2026-06-01T12:00:00.500000Z"
    assert created.get_json()["status"] == "open"
    patched = client.patch(f"/v1/sessions/{created.get_json()['id']}",
                           json={"ttl_seconds": 1.5}, headers=booking)
    assert patched.status_code == 200 and patched.get_json()["status"] == "open"


def test_resolve_expiry_refuses_a_session_born_expired_for_every_caller(clock):
    with pytest.raises(ValidationFailed) as refused:
        resolve_expiry(now=clock(), max_ttl=3600, ttl_seconds=1e-9)
    assert refused.value.errors == {
        "ttl_seconds": ["must be a positive number of seconds (0.000001 or more) up to 3600"]}


@pytest.mark.parametrize("schema", ["CreateSession", "ExtendSession"])
def test_the_openapi_document_gives_ttl_seconds_a_positive_minimum(client, schema):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["schemas"][schema]["properties"]["ttl_seconds"]["minimum"] == 1e-6


def test_a_body_that_is_not_an_object_is_422(client, booking):
    response = client.post("/v1/sessions", json=["bk_1"], headers=booking)
    assert response.status_code == 422


def test_malformed_json_is_400_problem(client, booking):
    response = client.post("/v1/sessions", data='{"booking_id": "bk_1",',
                           content_type="application/json", headers=booking)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.get_json()["status"] == 400


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=ten", "status=done",
                                   "colour=blue", "booking_id=bk%00"])
def test_invalid_list_query_is_422(client, booking, query):
    response = client.get(f"/v1/sessions?{query}", headers=booking)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("cursor", [
    "%%%", "bm90LWEtY3Vyc29y", "0.0", "W10",
    encode_cursor("1", "ses_0", of="sessions", filters={}),
    encode_cursor(10**30, "ses_0", of="sessions", filters={}),
    encode_cursor(1, of="sessions", filters={}), "A" * 500,
    encode_cursor(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "ses_0", of="holds", filters={})])
def test_a_cursor_the_list_did_not_give_out_is_422_on_cursor(client, booking, cursor):
    response = client.get("/v1/sessions", query_string={"cursor": cursor}, headers=booking)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "cursor" in response.get_json()["errors"]


def test_a_well_formed_cursor_past_every_session_gives_an_empty_page(client, booking):
    past_everything = encode_cursor(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "ses_0",
                                    of="sessions", filters={})
    page = client.get(f"/v1/sessions?cursor={past_everything}", headers=booking).get_json()
    assert page == {"data": [], "next_cursor": None}


def test_unknown_session_is_404_problem_on_every_endpoint(client, booking):
    for method, path, body in [
        ("get", "/v1/sessions/ses_nope", None),
        ("get", "/v1/sessions/" + "ses_" + "a" * 60, None),
        ("patch", "/v1/sessions/ses_nope", {"ttl_seconds": 60}),
        ("post", "/v1/sessions/ses_nope/close", None),
    ]:
        response = getattr(client, method)(path, json=body, headers=booking)
        assert response.status_code == 404, path
        assert response.content_type == "application/problem+json"


def test_a_nul_in_a_session_id_is_a_422_naming_the_path(client, booking):
    response = client.get("/v1/sessions/ses_%00", headers=booking)
    assert response.status_code == 422
    assert "path" in response.get_json()["errors"]


@pytest.mark.parametrize("phone", ["+19005550123", "+8821612345678", "+870772000000"],
                         ids=["premium rate", "global network", "satellite"])
@pytest.mark.parametrize("role", ["requester", "pro"])
def test_a_premium_rate_or_global_network_phone_is_422_naming_the_field(
        create, add_numbers, db, role, phone):
    """Bridged calls to such numbers cost the platform many times a person's line: toll fraud
    is paid out through them."""
    add_numbers("+14155559001", "+14155559002")
    response = create(**{"requester": "+14155550101", "pro": "+14155550202", role: phone})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {f"{role}.phone": [
        "is a premium-rate or global-network number, which the service does not call or text"]}
    assert db.scalar(select(func.count()).select_from(Session)) == 0


def test_the_openapi_document_says_when_create_and_extend_answer_409_422_and_503(client):
    """Found by a walk of API.md against /openapi.json: PATCH's 409 (a closed or expired
    session) and 422 (a time before the current end), and POST's 200, 409 and
    pool-exhausted 503 were listed only as 'Conflicts with the current state' and the like."""
    paths = client.get("/openapi.json").get_json()["paths"]
    create = paths["/v1/sessions"]["post"]["description"]
    extend = paths["/v1/sessions/{session_id}"]["patch"]["description"]
    close = paths["/v1/sessions/{session_id}/close"]["post"]["description"]
    assert "409: the booking has an" in create and "`pool-exhausted`" in create
    assert "retry with the same two phones" in create
    # Found by sending them: an invalid phone, a past expires_at and an unknown field are 422s
    # too, which the list (read as the 422s there are) left out.
    words = " ".join(create.split())
    assert "each field that fails its check, named in `errors`" in words
    assert "not a dialable number" in words and "not in the future" in words
    assert "409: the session is closed or expired" in extend
    assert "before the session's current end" in extend
    assert "expired one" in close


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/sessions", _with(booking_id="")),
    ("/v1/messages", {"to": REQUESTER, "body": "hi", "purpose": "transactional",
                      "booking_id": ""}),
])
def test_an_empty_booking_id_is_refused_once_for_its_length(client, booking, path, body):
    """Found by fuzzing: "" was also told "without spaces at either end", which it has not."""
    response = client.post(path, json=body, headers=booking)

    assert response.status_code == 422
    assert response.json["errors"] == {"booking_id": ["Length must be between 1 and 128."]}
