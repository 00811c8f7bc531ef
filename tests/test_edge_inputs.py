"""What real clients send at the edges of every /v1 operation: bodies Python's JSON parser
refuses in unusual ways, JSON null and a byte-order mark, repeated query arguments, and times
that UTC cannot hold. Each is a clear 4xx (or accepted), never a 500."""
from __future__ import annotations

import io
import json

import pytest

from tests.webhooks import factories as f

SESSION = {"booking_id": "bk_edge", "requester": {"phone": "+14155550101"},
           "pro": {"phone": "+14155550202"}, "mode": "sms"}


@pytest.fixture
def pooled(client, api_key):
    for number in ("+16465550001", "+16465550002"):
        response = client.post("/v1/numbers", headers=api_key("admin"),
                               json={"phone_number": number, "capabilities": ["sms", "voice"]})
        assert response.status_code == 201


@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/v1/sessions"),
    ("POST", "/v1/messages"),
    ("POST", "/v1/consent/+14155550101"),
    ("POST", "/v1/numbers"),
])
def test_an_integer_of_more_than_4300_digits_is_a_400_not_a_500(client, api_key, method, url):
    body = '{"ttl_seconds": 1' + "0" * 5000 + "}"
    response = client.open(url, method=method, data=body, content_type="application/json",
                           headers=api_key("admin"))

    assert response.status_code == 400, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["detail"] == "The request body is not valid JSON."
    assert response.json["title"] == "Bad Request"


def test_a_body_starting_with_a_byte_order_mark_is_read_as_json(client, api_key, pooled):
    body = b"\xef\xbb\xbf" + json.dumps(SESSION).encode()
    response = client.post("/v1/sessions", data=body, content_type="application/json",
                           headers=api_key("booking"))

    assert response.status_code == 201, response.json


def test_json_null_sent_to_an_operation_taking_no_body_is_refused_as_not_an_object(
        client, api_key, pooled):
    created = client.post("/v1/sessions", json=SESSION, headers=api_key("booking")).json

    response = client.post(f"/v1/sessions/{created['id']}/close", data="null",
                           content_type="application/json", headers=api_key("booking"))

    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"request_body": ["must be a JSON object"]}
    assert client.get(f"/v1/sessions/{created['id']}",
                      headers=api_key("booking")).json["status"] == "open"


def test_invalid_json_sent_to_an_operation_taking_no_body_is_a_400(client, api_key, pooled):
    created = client.post("/v1/sessions", json=SESSION, headers=api_key("booking")).json

    response = client.post(f"/v1/sessions/{created['id']}/close", data="{nope",
                           content_type="application/json", headers=api_key("booking"))

    assert response.status_code == 400
    assert response.json["title"] == "Bad Request"


@pytest.mark.parametrize(("body", "name"), [
    ('{"booking_id": "bk_a", "booking_id": "bk_b", "requester": {"phone": "+14155550101"},'
     ' "pro": {"phone": "+14155550202"}}', "booking_id"),
    ('{"booking_id": "bk_a", "requester": {"phone": "+14155550101", "phone": "+14155550303"},'
     ' "pro": {"phone": "+14155550202"}}', "requester.phone"),
    ('{"booking_id": "bk_a", "requester": {"phone": "+14155550101"},'
     ' "pro": {"phone": "+14155550202"}, "x": [{"k": 1}, {"k": 1, "k": 2}]}', "x.1.k"),
    # The object holding the first one was itself replaced: the member that replaced it.
    ('{"booking_id": "bk_a", "requester": {"phone": "+14155550101"},'
     ' "pro": {"phone": "+14155550202"}, "a": {"x": 1, "x": 2}, "a": 3}', "a"),
    ('{"booking_id": "bk_a", "requester": {"phone": "+14155550101"},'
     ' "pro": {"phone": "+14155550202"}, "' + "k" * 300 + '": {"x": 1, "x": 2}}',
     "k" * 100 + ".x"),
])
def test_a_json_member_given_twice_is_a_422_naming_it_and_nothing_is_stored(
        client, api_key, pooled, body, name, db):
    response = client.post("/v1/sessions", data=body, content_type="application/json",
                           headers=api_key("booking"))

    assert response.status_code == 422, response.json
    assert response.json["errors"] == {name: ["given twice in one JSON object; give it once"]}
    listed = client.get("/v1/sessions", headers=api_key("booking")).json
    assert listed["data"] == []


@pytest.mark.parametrize("url", [
    "/v1/sessions?status=open&status=closed",
    "/v1/logs/messages?booking_id=bk_1&booking_id=bk_2",
    "/v1/logs/calls?limit=200&limit=0",
    "/v1/audit?actor=a&actor=b",
])
def test_a_query_argument_given_twice_is_a_422_naming_it(client, api_key, url):
    response = client.get(url, headers=api_key("admin"))

    assert response.status_code == 422
    name = url.split("?")[1].split("=")[0]
    assert response.json["errors"] == {
        name: ["given more than once: give each query argument once"]}


@pytest.mark.parametrize("url", [
    "/v1/logs/messages?since=0001-01-01T00:00:00%2B14:00",
    "/v1/logs/calls?until=9999-12-31T23:59:59-12:00",
    "/v1/audit?until=9999-12-31T23:59:59-12:00",
    "/v1/audit?since=0001-01-01T00:00:00%2B14:00",
])
def test_a_time_outside_what_utc_can_hold_is_a_422_not_a_500(client, api_key, url):
    response = client.get(url, headers=api_key("admin"))

    assert response.status_code == 422
    [field] = response.json["errors"]
    assert field in ("since", "until")


def test_a_lower_case_z_is_utc_as_rfc_3339_allows(client, api_key, db, clock):
    f.open_session(db, clock())
    response = client.get("/v1/logs/messages?since=2026-01-01t00:00:00z",
                          headers=api_key("admin"))

    assert response.status_code == 200, response.json


def test_the_cli_refuses_a_time_utc_cannot_hold_in_one_line(runner):
    result = runner.invoke(args=["logs", "messages", "--since", "0001-01-01T00:00:00+14:00"])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "outside the years 1 to 9999" in result.output


@pytest.mark.parametrize("option", ["--booking-id", "--session-id"])
def test_the_cli_refuses_an_empty_filter_instead_of_listing_everything(runner, option):
    result = runner.invoke(args=["logs", "messages", option, ""])

    assert result.exit_code == 2
    assert "must not be empty" in result.output


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_an_expiry_utc_cannot_hold_is_a_422_on_expires_at(client, api_key, pooled, expires_at):
    response = client.post("/v1/sessions", json={**SESSION, "expires_at": expires_at},
                           headers=api_key("booking"))

    assert response.status_code == 422
    assert list(response.json["errors"]) == ["expires_at"]


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", "/v1/logs/messages?limit=1&limit=2", None),
    ("GET", "/v1/sessions?bogus=1", None),
    ("GET", "/v1/logs/calls?session_id=s%00x", None),
    ("POST", "/v1/sessions", "not json"),
])
def test_without_a_valid_key_the_answer_is_401_whatever_the_input(client, method, url, body):
    for headers in ({}, {"Authorization": "Bearer csk_unknown"}):
        response = client.open(url, method=method, data=body, headers=headers)

        assert response.status_code == 401, (headers, response.json)


def test_a_role_without_the_scope_gets_403_before_its_input_is_judged(client, api_key):
    response = client.post("/v1/holds", data="not json", content_type="text/plain",
                           headers=api_key("ops"))

    assert response.status_code == 403


def test_options_under_v1_meets_the_same_edge_checks_once_the_key_is_known(client, api_key):
    assert client.options("/v1/sessions").status_code == 401
    response = client.options("/v1/sessions?bogus=1&bogus=2", headers=api_key("booking"))

    assert response.status_code == 422
    assert "bogus" in response.json["errors"]


@pytest.mark.parametrize(("method", "url", "status"), [
    ("DELETE", "/v1/sessions", 405),
    ("POST", "/v1/nope", 404),
])
def test_a_wrong_method_or_unknown_path_is_405_or_404_whatever_the_body(client, method, url,
                                                                        status):
    response = client.open(url, method=method, data="a=1",
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == status
    assert response.content_type == "application/problem+json"


def test_a_405_names_the_methods_the_path_takes(client):
    """Found by the edge audit: the detail was Werkzeug's "The method is not allowed for the
    requested URL.", which names neither; a client had to read the Allow header."""
    response = client.post("/v1/consent/check")
    assert response.status_code == 405
    assert response.get_json()["detail"] == (
        "POST is not allowed on this path; it takes GET, HEAD, OPTIONS.")
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"  # sorted: the same on every run


@pytest.mark.parametrize("path", ["/v1/sessions", "/healthz", "/openapi.json"])
def test_options_is_a_204_with_the_methods_sorted_and_no_body_type(client, api_key, path):
    """Found by an audit: Flask answered OPTIONS with a 200 and an empty body labelled
    text/html, and its Allow header in a set's order, which changes from run to run."""
    response = client.options(path, headers=api_key("ops"))
    assert response.status_code == 204
    assert response.data == b"" and "Content-Type" not in response.headers
    methods = response.headers["Allow"].split(", ")
    assert methods == sorted(methods) and "OPTIONS" in methods and "GET" in methods


def _chunked(client, headers, body: bytes):
    """A POST as gunicorn hands over a Transfer-Encoding: chunked body: no Content-Length,
    the stream terminated by the server."""
    return client.open("/v1/sessions", method="POST", input_stream=io.BytesIO(body),
                       headers={**headers, "Content-Type": "application/json"},
                       environ_overrides={"wsgi.input_terminated": True,
                                          "HTTP_TRANSFER_ENCODING": "chunked"})


def test_a_chunked_body_past_the_limit_is_413_as_with_a_content_length(client, api_key, config):
    body = json.dumps({"booking_id": "bk_big", "requester": {"phone": "+14155550101"},
                       "pro": {"phone": "+14155550202"},
                       "note": "x" * config.max_body_bytes}).encode()

    response = _chunked(client, api_key("booking"), body)

    assert response.status_code == 413
    assert response.content_type == "application/problem+json"


def test_a_413_says_how_large_a_body_may_be(client, api_key, config, twilio_post):
    """Found by the edge audit: a 413 said only Werkzeug's "The data value transmitted exceeds
    the capacity limit.", so a client could not tell what to send instead."""
    limit = f"{config.max_body_bytes:,} bytes"
    too_large = {"booking_id": "bk_big", "note": "x" * config.max_body_bytes}
    for response in (
            client.post("/v1/sessions", json=too_large, headers=api_key("booking")),
            _chunked(client, api_key("booking"), json.dumps(too_large).encode()),
            twilio_post("/webhooks/twilio/sms", {"Body": "x" * config.max_body_bytes})):
        assert response.status_code == 413
        assert limit in response.get_json()["detail"]


def test_a_chunked_body_within_the_limit_is_read_whole(client, api_key):
    body = json.dumps({"booking_id": "bk_small", "requester": {"phone": "+14155550101"},
                       "pro": {"phone": "+14155550202"}, "mode": "teleport"}).encode()

    response = _chunked(client, api_key("booking"), body)

    assert response.status_code == 422  # its fields were read: the mode is what is wrong
    assert "mode" in response.get_json()["errors"]


def test_empty_query_arguments_filter_by_nothing_as_api_md_writes_the_list(
        client, api_key, pooled):
    """Found by an audit: `GET /v1/sessions?booking_id=&status=`, as API.md writes it, was a
    422 on both arguments."""
    created = client.post("/v1/sessions", json=SESSION, headers=api_key("booking")).json

    listed = client.get("/v1/sessions?booking_id=&status=", headers=api_key("booking"))
    one_filter = client.get("/v1/sessions?booking_id=bk_edge&status=",
                            headers=api_key("booking"))

    assert listed.status_code == 200, listed.json
    assert [s["id"] for s in listed.json["data"]] == [created["id"]]
    assert [s["id"] for s in one_filter.json["data"]] == [created["id"]]


@pytest.mark.parametrize("url", ["/v1/logs/messages?phone=&limit=", "/v1/audit?action=",
                                 "/v1/numbers?cursor="])
def test_an_empty_query_argument_is_one_not_given_on_every_list(client, api_key, url):
    response = client.get(url, headers=api_key("admin"))

    assert response.status_code == 200, response.json


def test_an_empty_required_query_argument_is_reported_missing(client, api_key):
    response = client.get("/v1/consent/check?phone=&channel=sms&purpose=relay",
                          headers=api_key("booking"))

    assert response.status_code == 422
    assert list(response.json["errors"]) == ["phone"]


@pytest.mark.parametrize("url", ["/v1/sessions?booking_id=%FF", "/v1/audit?action=%C0%AF",
                                 "/v1/logs/calls?session_id=ses_%E2%82"])
def test_a_query_string_that_is_not_utf8_is_a_400_as_such_a_body_is(client, api_key, url):
    """Found by an audit: the bytes became U+FFFD and the list searched for that (200)."""
    response = client.get(url, headers=api_key("admin"))

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert "UTF-8" in response.json["detail"]


def test_a_query_string_with_escaped_utf8_is_read(client, api_key):
    response = client.get("/v1/sessions?booking_id=caf%C3%A9", headers=api_key("admin"))

    assert response.status_code == 200, response.json


@pytest.mark.parametrize("url", ["/v1/numbers?colour=", "/v1/sessions?foo=",
                                 "/v1/logs/messages?colour=", "/v1/sessions?status=&status=open",
                                 "/v1/audit?actor=&actor=x", "/v1/sessions/ses_abc?bogus=",
                                 "/v1/consent/check?phone=%2B14155550101&channel=sms"
                                 "&purpose=relay&extra="])
def test_an_empty_argument_the_operation_does_not_take_or_one_given_twice_is_still_a_422(
        client, api_key, url):
    """Found by a review: the first rule for empty arguments dropped them before the checks
    for unknown and repeated arguments, so a misspelt filter was silently ignored again."""
    response = client.get(url, headers=api_key("admin"))

    assert response.status_code == 422, response.json


def test_a_413_for_a_form_of_too_many_fields_does_not_blame_the_bodys_size(client, config):
    """Found by a review of e741da6: a multipart form of 1,100 empty fields (59 KB) was
    answered "A request body may be at most 65,536 bytes (64 KiB).": Werkzeug's 413 for a form
    past its number of parts was worded as the body-size one, and sent the client cutting a
    body that was within the limit."""
    body = "".join(f'--b\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n\r\n'
                   for i in range(1100)) + "--b--\r\n"
    assert len(body) < config.max_body_bytes

    response = client.post("/webhooks/twilio/sms", data=body.encode(),
                           content_type="multipart/form-data; boundary=b",
                           headers={"X-Twilio-Signature": "x"})

    assert response.status_code == 413
    assert response.get_json()["detail"] == "A form may have at most 1,000 fields."


def test_a_413_for_a_chunked_form_of_too_many_fields_does_not_blame_the_bodys_size(client,
                                                                                   config):
    """Found by a review of 19b4416: the same form sent chunked (no Content-Length, as gunicorn
    hands it over) was still told "A request body may be at most 65,536 bytes (64 KiB).",
    reproduced against the Procfile's gunicorn with a 61,599-byte body."""
    body = "".join(f'--b\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n\r\n'
                   for i in range(1100)) + "--b--\r\n"
    assert len(body) < config.max_body_bytes

    response = client.open("/webhooks/twilio/sms", method="POST",
                           input_stream=io.BytesIO(body.encode()),
                           headers={"X-Twilio-Signature": "x",
                                    "Content-Type": "multipart/form-data; boundary=b"},
                           environ_overrides={"wsgi.input_terminated": True,
                                              "HTTP_TRANSFER_ENCODING": "chunked"})

    assert response.status_code == 413
    assert response.get_json()["detail"] == "A form may have at most 1,000 fields."


@pytest.mark.parametrize(("content_type", "encoding", "detail"), [
    ("application/json; charset=ISO-8859-1", "latin-1",  # PowerShell 5's default
     "The request body is not valid UTF-8: send JSON encoded as UTF-8 (the Content-Type's"
     " charset=ISO-8859-1 is not read)."),
    ("application/json; charset=utf-16", "utf-16",
     "The request body is not valid UTF-8: send JSON encoded as UTF-8 (the Content-Type's"
     " charset=utf-16 is not read)."),
    ("application/json", "latin-1",
     "The request body is not valid UTF-8: send JSON encoded as UTF-8."),
])
def test_a_body_that_is_not_utf8_is_a_400_saying_so_not_that_it_is_not_json(
        client, api_key, pooled, content_type, encoding, detail):
    """Found by fuzzing: valid JSON in another encoding was "not valid JSON", which sent the
    client looking for a syntax error; RFC 8259 has JSON exchanged as UTF-8."""
    booking = api_key("booking")
    body = json.dumps({**SESSION, "booking_id": "bk_caf\u00e9"}, ensure_ascii=False)
    created = client.post("/v1/sessions", data=body.encode(encoding),
                          content_type=content_type, headers=booking)
    session_id = client.post("/v1/sessions", json=SESSION, headers=booking).json["id"]
    closed = client.post(f"/v1/sessions/{session_id}/close", data='{"\u00e9": 1}'.encode(
        encoding), content_type=content_type, headers=booking)

    assert created.status_code == closed.status_code == 400, created.json
    assert created.json["detail"] == closed.json["detail"] == detail
    assert client.get(f"/v1/sessions/{session_id}", headers=booking).json["status"] == "open"


def test_a_charset_other_than_utf8_is_no_matter_when_the_body_is_ascii(client, api_key,
                                                                       pooled):
    response = client.post("/v1/sessions", data=json.dumps(SESSION),
                           content_type="application/json; charset=ISO-8859-1",
                           headers=api_key("booking"))

    assert response.status_code == 201, response.json


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_a_utf16_or_utf32_body_without_a_bom_is_a_400_saying_it_is_not_utf8(
        client, api_key, pooled, encoding):
    """review4: UTF-16 or UTF-32 without a byte-order mark (.NET's Encoding.Unicode, an
    ASCII-only document) decodes as UTF-8 with a NUL after each character: a view that takes
    a body said "not valid JSON", and one that takes none read it (Flask's parser detects
    UTF-16 by its NULs, RFC 4627) and named its members as unknown fields."""
    booking = api_key("booking")
    created = client.post("/v1/sessions", data=json.dumps(SESSION).encode(encoding),
                          content_type="application/json; charset=utf-16", headers=booking)
    session_id = client.post("/v1/sessions", json=SESSION, headers=booking).json["id"]
    closed = client.post(f"/v1/sessions/{session_id}/close", data='{"x": 1}'.encode(encoding),
                         content_type="application/json", headers=booking)

    assert created.status_code == closed.status_code == 400, (created.json, closed.json)
    assert created.json["detail"] == (
        "The request body is not valid UTF-8: send JSON encoded as UTF-8 (the Content-Type's"
        " charset=utf-16 is not read).")
    assert closed.json["detail"] == (
        "The request body is not valid UTF-8: send JSON encoded as UTF-8.")


def test_a_body_of_a_byte_order_mark_alone_is_no_body_on_views_with_and_without_one(
        client, api_key, pooled):
    """review4: a UTF-8 byte-order mark and nothing else (PowerShell's Out-File of "") is
    read as an empty body where a view takes one (a 422 naming the required fields), but a
    view that takes none answered it 400 "not valid JSON"; it is no body there too."""
    booking = api_key("booking")
    session_id = client.post("/v1/sessions", json=SESSION, headers=booking).json["id"]
    bom = b"\xef\xbb\xbf"

    created = client.post("/v1/sessions", data=bom, content_type="application/json",
                          headers=booking)
    closed = client.post(f"/v1/sessions/{session_id}/close", data=bom,
                         content_type="application/json", headers=booking)

    assert created.status_code == 422 and "booking_id" in created.json["errors"]
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed"
