"""Validation errors are always the contract's flat {field: [messages]}, nested fields dotted."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from commsvc.errors import ValidationFailed, flat_errors, render_problem
from tests.conftest import pool_and_booking_key

REQUESTER, PRO = "+14155550101", "+14155550202"


def _is_flat(errors) -> bool:
    return all(isinstance(field, str) and isinstance(messages, list)
               and all(isinstance(m, str) for m in messages) for field, messages in errors.items())


def test_a_bad_list_item_is_named_by_its_dotted_position(client, api_key):
    response = client.post("/v1/numbers", headers=api_key("admin"),
                           json={"phone_number": "+16465550009", "capabilities": ["sms", "fax"]})
    assert response.status_code == 422
    assert response.json["errors"] == {"capabilities.1": ["Must be one of: sms, mms, voice."]}


@pytest.mark.parametrize(("party", "field"), [
    ({"phone": "+1415555"}, "requester.phone"),
    ({"phone": 14155550101}, "requester.phone"),
    ({}, "requester.phone"),
    ({"phone": REQUESTER, "name": "Ann"}, "requester.name"),
    ("+14155550101", "requester"),  # not an object: the object's own error
])
def test_a_bad_nested_field_is_named_by_its_dotted_path(client, api_key, party, field):
    response = client.post("/v1/sessions", headers=api_key("booking"),
                           json={"booking_id": "bk_1", "requester": party, "pro": {"phone": PRO}})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert list(errors) == [field] and _is_flat(errors)


@pytest.mark.parametrize(("role", "path", "body", "field"), [
    ("booking", "/v1/sessions", {"booking_id": "bk_1", "requester": "+14155550101",
                                 "pro": {"phone": PRO}}, "requester"),
    ("booking", "/v1/sessions", {"booking_id": "bk_1", "requester": {"phone": REQUESTER},
                                 "pro": [PRO]}, "pro"),
    ("booking", "/v1/sessions", [], "request_body"),
    ("booking", "/v1/sessions/ses_0/close", [], "request_body"),
    ("booking", "/v1/messages", ["+14155550101"], "request_body"),
    ("booking", "/v1/consent/+14155550101", "revoke", "request_body"),
    ("admin", "/v1/numbers", 5, "request_body"),
    ("privacy", "/v1/holds", None, "request_body"),
])
def test_a_body_or_nested_object_that_is_not_an_object_says_an_object_is_wanted(
        client, api_key, role, path, body, field):
    """Found by a contract walk: marshmallow's "Invalid input type." named no type, so a
    client that sent "requester": "+1415..." could not tell what was wanted."""
    response = client.post(path, headers=api_key(role), data=json.dumps(body),
                           content_type="application/json")
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {field: ["must be a JSON object"]}


@pytest.mark.parametrize(("role", "method", "path", "body", "field"), [
    ("booking", "post", "/v1/sessions", {"booking_id": "bk_1", "requester": {"phone": REQUESTER},
                                         "pro": {"phone": PRO}, "expires_at": "next week"},
     "expires_at"),
    ("booking", "patch", "/v1/sessions/ses_0", {"expires_at": 1790000000}, "expires_at"),
    ("ops", "get", "/v1/logs/messages?since=yesterday", None, "since"),
    ("privacy", "get", "/v1/audit?until=2026-13-01", None, "until"),
])
def test_a_time_that_is_not_iso_8601_is_refused_saying_which_form_is_wanted(
        client, api_key, role, method, path, body, field):
    """Found by a contract walk: marshmallow's "Not a valid datetime." did not say what a
    time should look like (the CLI's --since said it; the API did not)."""
    response = client.open(path, method=method, headers=api_key(role), json=body)
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {
        field: ["not an ISO 8601 time, such as 2026-06-01T12:00:00Z"]}


@pytest.mark.parametrize(("written", "message"), [
    ("2026-12-31T23:59:60Z", "has second 60 (a leap second), which a time here cannot hold:"
                             " give 59, or 00 of the next minute"),
    ("2026-12-31t23:59:60.5+01:00", "has second 60 (a leap second), which a time here cannot"
                                    " hold: give 59, or 00 of the next minute"),
    ("2026-12-01T24:00:00Z", "has hour 24, which a time here cannot hold: give 00:00 of the"
                             " next day"),
    ("0000-06-01T12:00:00Z", "is outside the years 1 to 9999 once in UTC"),
    ("+10000-06-01T12:00:00Z", "is outside the years 1 to 9999 once in UTC"),
    ("2026-06-31T12:00:00Z", "not an ISO 8601 time, such as 2026-06-01T12:00:00Z"),
])
@pytest.mark.parametrize(("role", "path", "field"), [
    ("ops", "/v1/logs/messages?since=", "since"), ("privacy", "/v1/audit?until=", "until")])
def test_an_iso_8601_time_a_time_here_cannot_hold_is_not_called_not_iso_8601(
        client, api_key, written, message, role, path, field):
    """review4: a leap second, hour 24 and the years 0000 and 10000 on are ISO 8601 (RFC 3339
    has the leap second too), so "not an ISO 8601 time" (0d75732) told a client its valid
    time was malformed; each now says what cannot be held. An impossible date still gets
    the form wanted."""
    response = client.get(path + quote(written), headers=api_key(role))

    assert response.status_code == 422, response.json
    assert response.json["errors"] == {field: [message]}


@pytest.mark.parametrize("written", [
    "2026-02-30T23:59:60Z", "2026-12-31T25:59:60Z", "2026-12-31T23:75:60Z",
    "2026-12-31T23:59:60+99:00", "2026-02-30T24:00:00Z", "2026-13-01T24:00Z",
    "0000-13-45T00:00:00Z", "+10000-06-01T12:99:00Z",
])
def test_a_time_second_60_hour_24_or_year_0000_do_not_make_valid_is_not_iso_8601(
        client, api_key, written):
    """Found in review of a1b40c0: only the leap second, the hour 24 or the year was read, so
    February 30th at 23:59:60, 25:59:60 or a month 13 at hour 24 were told to give second 59
    or 00:00 of the next day, which made a time no more valid: an impossible date or hour is
    still not an ISO 8601 time, whatever else it holds."""
    response = client.get("/v1/logs/messages?since=" + quote(written), headers=api_key("ops"))

    assert response.status_code == 422, response.json
    assert response.json["errors"] == {
        "since": ["not an ISO 8601 time, such as 2026-06-01T12:00:00Z"]}


def test_a_nested_error_raised_by_a_service_is_flat_too(app, clock):
    booking = pool_and_booking_key(app, clock, 2, first=14155559001)
    response = app.test_client().post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER}, "pro": {"phone": REQUESTER}})
    assert response.status_code == 422
    assert response.json["errors"] == {"pro.phone": ["must differ from the requester's"]}


def test_problem_renders_any_nesting_as_dotted_fields_with_lists_of_strings(app):
    error = ValidationFailed(errors={
        "capabilities": {0: ["bad"], 2: ["worse"]},
        "requester": {"phone": ["invalid"], "_schema": ["whole object"]},
        "items": [{"name": ["missing"]}, "loose"],
        "limit": "not a list",
    })
    with app.test_request_context("/v1/x"):
        body = render_problem(error).get_json()
    assert body["errors"] == {
        "capabilities.0": ["bad"], "capabilities.2": ["worse"],
        "requester.phone": ["invalid"], "requester": ["whole object"],
        "items.name": ["missing"], "items": ["loose"],
        "limit": ["not a list"],
    }


def test_flat_errors_leaves_flat_errors_as_they_are():
    errors = {"cursor": ["not a cursor this list gave out"], "X-Access-Reason": ["why?"]}
    assert flat_errors(errors) == errors


@pytest.mark.parametrize("url", [
    "/v1/logs/messages?outcome=forwarded",
    "/v1/logs/calls?outcome=forwarded",
    "/v1/audit?outcome=x",
    "/v1/holds?outcome=x",
    "/v1/consent/check?phone=%2B14155550101&channel=sms&purpose=relay&outcome=x",
    "/v1/consent/%2B14155550101/history?outcome=x",
    "/v1/sessions?outcome=x",
    "/v1/numbers?outcome=x",
])
def test_an_unknown_query_argument_is_a_422_naming_it_not_silently_ignored(client, api_key,
                                                                          url):
    """A filter the API does not have must not answer an unfiltered list as if applied."""
    response = client.get(url, headers=api_key("admin"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {"outcome": ["Unknown field."]}


def test_every_validation_error_says_the_same_detail_whoever_raised_it(client, api_key):
    """webargs' 422 (a missing field) and the service's own (an empty X-Access-Reason) read the
    same; `errors` says which field and why."""
    by_webargs = client.post("/v1/holds", json={}, headers=api_key("privacy"))
    by_guard = client.get("/v1/logs/calls", headers=api_key("privacy") | {
        "X-Access-Reason": " "})
    for response in (by_webargs, by_guard):
        assert response.status_code == 422
        assert response.json["detail"] == "The request has invalid or missing fields."


def test_options_under_v1_needs_a_key_like_everything_else(client, api_key):
    without = client.options("/v1/sessions")
    assert without.status_code == 401
    assert without.content_type == "application/problem+json"
    with_key = client.options("/v1/sessions", headers=api_key("booking"))
    assert with_key.status_code == 204  # no content: the answer is the Allow header
    assert {"GET", "POST"} <= set(with_key.headers["Allow"].split(", "))



@pytest.fixture
def strict_session(app, client, clock):
    """(booking key headers, session id) of one open session."""
    from tests.conftest import pool_and_booking_key

    booking = pool_and_booking_key(app, clock, 2, first=16465550100)
    response = client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_strict", "requester": {"phone": "+14155550101"},
        "pro": {"phone": "+14155550202"}})
    assert response.status_code == 201, response.json
    return booking, response.json["id"]


def test_a_query_argument_to_an_operation_that_takes_none_is_a_422(client, strict_session):
    booking, session_id = strict_session
    for method, url in (("GET", f"/v1/sessions/{session_id}?foo=1"),
                        ("POST", f"/v1/sessions/{session_id}/close?foo=1")):
        response = client.open(url, method=method, headers=booking)
        assert response.status_code == 422, (method, url)
        assert response.json["errors"] == {"foo": ["Unknown field."]}
    assert client.get(f"/v1/sessions/{session_id}", headers=booking).json["status"] == "open"


def test_retiring_a_number_with_a_stray_argument_retires_nothing(client, api_key,
                                                                 strict_session):
    admin = api_key("admin")
    response = client.delete("/v1/numbers/+16465550100?x=1", headers=admin)
    assert response.status_code == 422
    numbers = client.get("/v1/numbers", headers=admin).json["data"]
    assert {n["status"] for n in numbers} == {"active"}


@pytest.mark.parametrize(("body", "status", "errors"), [
    ({"reason": "x"}, 422, {"reason": ["Unknown field."]}),
    (["x"], 422, {"request_body": ["must be a JSON object"]}),
    ({}, 200, None),
])
def test_a_body_to_an_operation_that_takes_none_must_be_empty(client, strict_session, body,
                                                              status, errors):
    booking, session_id = strict_session
    response = client.post(f"/v1/sessions/{session_id}/close", headers=booking, json=body)
    assert response.status_code == status
    if errors:
        assert response.json["errors"] == errors
        assert client.get(f"/v1/sessions/{session_id}",
                          headers=booking).json["status"] == "open"


@pytest.mark.parametrize("body", ["[]", "null", '""', "5", '["x"]'])
def test_a_body_that_is_not_an_object_is_refused_by_close_as_by_every_view_taking_a_body(
        client, strict_session, body):
    booking, session_id = strict_session
    sent = {"data": body, "content_type": "application/json", "headers": booking}
    closed = client.post(f"/v1/sessions/{session_id}/close", **sent)
    created = client.post("/v1/sessions", **sent)
    assert closed.status_code == created.status_code == 422, closed.json
    assert closed.content_type == created.content_type == "application/problem+json"
    assert {**closed.json, "request_id": None} == {**created.json, "request_id": None}
    assert client.get(f"/v1/sessions/{session_id}", headers=booking).json["status"] == "open"


def test_malformed_json_to_an_operation_that_takes_none_is_a_400(client, strict_session):
    booking, session_id = strict_session
    response = client.post(f"/v1/sessions/{session_id}/close", headers=booking, data="{bad",
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json["detail"] == "The request body is not valid JSON."


@pytest.mark.parametrize(("role", "method", "path"), [
    ("ops", "get", "/v1/sessions/{}"),
    ("privacy", "delete", "/v1/holds/{}"),
    ("admin", "delete", "/v1/numbers/{}"),
])
def test_a_404_repeats_the_clients_input_masked_and_cut_short(client, api_key, role, method,
                                                              path):
    """Found by a black-box audit: a phone number sent where an id goes came back in full in
    the detail, and 3,000 characters came back whole."""
    phone = client.open(path.format("+14155550101"), method=method.upper(),
                        headers=api_key(role))
    assert phone.status_code == 404, phone.json
    assert "14155550101" not in phone.json["detail"] and "+1******0101" in phone.json["detail"]

    if method == "delete" and "numbers" in path:
        return  # a pool number's path takes only phone numbers (422 otherwise)
    long = client.open(path.format("a" * 3000), method=method.upper(), headers=api_key(role))
    assert long.status_code == 404
    assert len(long.json["detail"]) < 100 and long.json["detail"].endswith("a…")


@pytest.mark.parametrize("written", ["+1\u00a0415\u00a0555\u00a00101",
                                     "+1\u2013415\u2013555\u20130101",
                                     "[415] 555 0101", "415*555*0101",
                                     # found by an audit: glued to a word, it came back whole
                                     "ses_4155550101", "x_415_555_0101"])
def test_a_404_masks_a_number_written_with_unicode_or_unusual_separators(client, api_key,
                                                                         written):
    response = client.get(f"/v1/sessions/{written}", headers=api_key("ops"))
    assert response.status_code == 404
    assert "555" not in response.json["detail"] and "0101" in response.json["detail"]


@pytest.mark.parametrize("given", ["csk_CbYPWKt2TAPVD1ZYWnTum72qnRLLRB5jcoVzYUcnG8",
                                   "4-1-5-5-5-5-0-1-0-1"])
def test_a_404_never_repeats_an_api_key_or_a_number_in_any_grouping(client, api_key, given):
    """Found by a regression audit: the key came back whole in the detail."""
    response = client.get(f"/v1/sessions/{given}", headers=api_key("ops"))
    assert response.status_code == 404
    assert "CbYPWKt2" not in response.json["detail"] and "5-5-5" not in response.json["detail"]


@pytest.mark.parametrize("own", ["4155550101x", "x415-555-0101", "a4155550101", "415555010E1"])
def test_a_clients_request_id_with_a_number_glued_to_a_letter_is_replaced(client, api_key, own):
    """Found by a README walk: such an id was kept, so every log line of the request wrote the
    number in full, though the access log masks the same text in a URL (the API reads
    /v1/consent/4155550101x as +14155550101's consent)."""
    response = client.get("/v1/sessions/ses_nope", headers={**api_key("ops"), "X-Request-Id": own})
    assert response.status_code == 404
    replaced = response.headers["X-Request-Id"]
    assert replaced == response.json["request_id"] != own
    # Not "555": a fresh random id holds those three digits one run in twenty.
    assert not any(part in replaced for part in ("555010", "555-0101", own))


@pytest.mark.parametrize(("role", "path"), [("ops", "/v1/sessions/{}"),
                                            ("privacy", "/v1/holds/{}")])
@pytest.mark.parametrize("given", ["4155550101x", "x415-555-0101", "a4155550101"])
def test_a_404_masks_a_number_glued_to_a_letter_as_the_access_log_does(client, api_key, role,
                                                                       path, given):
    """Found by a README walk: "no session 4155550101x" came back in full; a 404 repeats an id
    masked as the logs mask it in the URL (README)."""
    response = client.open(path.format(given), method="DELETE" if "holds" in path else "GET",
                           headers=api_key(role))
    assert response.status_code == 404
    assert "555" not in response.json["detail"] and "0101" in response.json["detail"]


@pytest.mark.parametrize("name", ["4155550101", "+14155550303", "4155550404x",
                                  "csk_CbYPWKt2TAPVD1ZYWnTum72qnRLLRB5jcoVzYUcnG8", "a" * 3000])
@pytest.mark.parametrize("where", ["query", "json"])
def test_an_unknown_fields_name_is_repeated_masked_and_cut_short(client, api_key, name, where):
    """Found by a README walk: a 422 named an unknown field as the client wrote it, so a phone
    number or an API key sent as a field's name came back whole, and 3,000 characters too,
    where a 404 repeats the same input masked and cut short."""
    booking = api_key("booking")
    response = (client.get(f"/v1/sessions?{name}=1", headers=booking) if where == "query"
                else client.post("/v1/sessions", json={name: 1}, headers=booking))
    assert response.status_code == 422
    unknown = [field for field, messages in response.json["errors"].items()
               if messages == ["Unknown field."]]
    assert len(unknown) == 1
    assert "555" not in unknown[0] and "CbYPWKt2" not in unknown[0] and len(unknown[0]) <= 100


@pytest.mark.parametrize("path", ["/v1//sessions", "/webhooks//twilio/sms", "/v1/sessions//x"])
def test_a_doubled_slash_is_a_404_problem_not_a_redirect_to_the_requests_own_host(
        client, path):
    """Found by an audit: Werkzeug merged the slashes with a 308 in HTML whose Location was
    built from the request's Host and scheme (http behind a TLS proxy)."""
    response = client.post(path, headers={"Host": "attacker.example"})

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert "Location" not in response.headers


def test_a_clients_request_id_is_repeated_unless_it_holds_a_number_or_a_key(client, api_key):
    """The request id is in every log line of the request, never masked: a client's id that
    holds a phone number or an API key is replaced by one of ours."""
    ops = api_key("ops")
    kept = client.get("/v1/sessions/ses_nope", headers={**ops, "X-Request-Id": "bk-1001.try-2"})
    assert kept.headers["X-Request-Id"] == kept.json["request_id"] == "bk-1001.try-2"
    for own in ("14155550101", "bk-415-555-0101-retry", "csk_" + "a" * 40):
        response = client.get("/v1/sessions/ses_nope", headers={**ops, "X-Request-Id": own})
        assert response.status_code == 404
        assert response.headers["X-Request-Id"] == response.json["request_id"] != own
        assert "5550101" not in response.headers["X-Request-Id"] and "csk" not in (
            response.headers["X-Request-Id"])


@pytest.mark.parametrize("send", [
    lambda client, key: client.get("/v1/sessions?=x", headers=key),
    lambda client, key: client.post("/v1/numbers", headers=key, json={
        "phone_number": "+16465550100", "": 1}),
])
def test_a_field_with_an_empty_name_is_named_as_sent_not_as_the_whole_object(
        client, api_key, send):
    """Found by an audit: `?=x` was reported under "_schema", the name that says the whole
    request is wrong (as for a body that is not an object)."""
    response = send(client, api_key("admin"))
    assert response.status_code == 422
    assert response.json["errors"] == {"": ["Unknown field."]}


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/nope"), ("POST", "/v1/keys/x/revoke"),
                                              ("GET", "/nope"), ("POST", "/webhooks/twilio/nope")])
def test_a_path_no_route_has_is_titled_as_every_other_not_found(client, api_key, method, path):
    """Found by a contract pass: type "not-found" came with two titles, "Not Found" (a path no
    route serves, Werkzeug's) and "Not found" (a session, hold or number not found); RFC 9457
    gives a type one title."""
    missing = client.get("/v1/sessions/ses_nope", headers=api_key("ops")).json
    response = client.open(path, method=method, headers=api_key("admin"))

    assert response.status_code == 404
    assert (response.json["type"], response.json["title"]) == (missing["type"], missing["title"])


@pytest.mark.parametrize(("role", "method", "path", "sent"), [
    ("ops", "GET", "/v1/sessions/%ff%FE", "%FF%FE"),
    ("ops", "GET", "/v1/sessions/ses_caf%C3%A9%E2%82", "ses_café%E2%82"),
    ("privacy", "DELETE", "/v1/holds/%C0%AF", "%C0%AF"),
])
def test_a_404_repeats_an_id_whose_escapes_are_not_utf8_as_sent(client, api_key, role, method,
                                                                path, sent):
    """Found by a contract pass: "no session \ufffd\ufffd", a character the client never wrote
    (Werkzeug reads each byte that is no UTF-8 as U+FFFD); the status stays 404, as the
    contract is silent on such a path."""
    response = client.open(path, method=method, headers=api_key(role))

    assert response.status_code == 404
    assert "\ufffd" not in response.json["detail"]
    assert f" {sent} " in response.json["detail"] and "not UTF-8" in response.json["detail"]


def test_a_404_repeats_a_replacement_character_the_client_did_send(client, api_key):
    response = client.get("/v1/sessions/ses_%EF%BF%BD", headers=api_key("ops"))

    assert response.status_code == 404
    assert response.json["detail"] == "no session ses_\ufffd"


@pytest.mark.parametrize(("path", "detail"), [
    ("/v1/sessions/+14155550101%FF", "no session +1******0101%FF"),
    ("/v1/sessions/ses_4155550101%E2%82", "no session ses_******0101%E2%82"),
    ("/v1/sessions/%EF%BF%BD%FF", "no session \ufffd%FF"),
])
def test_a_404_repeats_bytes_that_are_not_utf8_as_sent_beside_a_masked_number(
        client, api_key, path, detail):
    """Found by review27: c3df44b repeated such bytes as sent (%FF) but masked that form, and
    the masking reads a number glued to letters through its %-escapes, so "+14155550101%FF"
    came back "+1******0101\ufffd", the character the client never wrote. The id is masked as
    read, then each U+FFFD the bytes became is written back as sent."""
    response = client.get(path, headers=api_key("ops"))

    assert response.status_code == 404
    assert response.json["detail"] == f"{detail} (the path's %-escapes are not UTF-8)"
