"""No NUL (U+0000) in a /v1 request: one 422 naming where it was, on SQLite and PostgreSQL alike.

PostgreSQL text cannot hold NUL, so without the guard these were 500s there and accepted on
SQLite. Twilio's webhooks are not /v1 and keep their own form handling.
"""
from __future__ import annotations

import gzip
import io

import pytest
from gunicorn.http.errors import InvalidChunkSize
from sqlalchemy import func, select

from commsvc.pool.models import ProxyNumber
from commsvc.records.models import LegalHold
from tests.records.logdata import add_session
from tests.webhooks import factories as f
from tests.webhooks.factories import REQUESTER, REQUESTER_PROXY, twiml

NUL_MESSAGE = ["must not contain the NUL character (U+0000)"]
PHONE = "+14155550101"


def _assert_nul_refused(response, field):
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.json
    assert problem["type"] == "validation-error" and problem["status"] == 422
    assert problem["errors"] == {field: NUL_MESSAGE}


@pytest.mark.parametrize(("url", "field"), [
    ("/v1/logs/messages?booking_id=bk%00x", "booking_id"),
    ("/v1/logs/calls?session_id=s%00x", "session_id"),
    ("/v1/audit?actor=a%00b", "actor"),
    ("/v1/sessions?booking_id=%00", "booking_id"),
    ("/v1/holds?limit=5&cursor=%00", "cursor"),
    (f"/v1/consent/check?phone={PHONE}&channel=sms&purpose=relay%00", "purpose"),
    ("/v1/numbers?li%00mit=5", "li\x00mit"),  # the argument's name
])
def test_a_nul_in_a_query_argument_is_a_422_naming_the_argument(client, api_key, url, field):
    _assert_nul_refused(client.get(url, headers=api_key("admin")), field)


@pytest.mark.parametrize("header", ["X-Access-Reason", "Idempotency-Key"])
def test_a_nul_in_a_header_is_a_422_naming_the_header(client, api_key, header):
    headers = {**api_key("privacy"), header: "ticket\x00 4411"}
    _assert_nul_refused(client.get("/v1/logs/messages", headers=headers), header)


@pytest.mark.parametrize(("method", "url"), [
    ("GET", "/v1/messages/m%00x"),
    ("DELETE", "/v1/holds/h%00x"),
    ("GET", "/v1/sessions/ses%00"),
    ("POST", "/v1/sessions/ses%00/close"),
    ("GET", f"/v1/consent/{PHONE}%00/history"),
    ("GET", "/v1/nowhere%00"),  # refused before routing: the same answer as any other path
])
def test_a_nul_in_the_path_is_a_422_on_path(client, api_key, method, url):
    _assert_nul_refused(client.open(url, method=method, headers=api_key("admin")), "path")


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/v1/holds", {"scope": "booking", "value": "bk_1001", "reason": "r\x00r"}, "reason"),
    ("/v1/messages", {"to": "+12125550123", "body": "hi", "purpose": "transactional",
                      "booking_id": "b\x00k"}, "booking_id"),
    ("/v1/sessions", {"booking_id": "bk_1", "requester": {"phone": "+1415555\x000101"},
                      "pro": {"phone": "+14155550202"}}, "requester.phone"),
    (f"/v1/consent/{PHONE}", {"channel": "sms", "purpose": "marketing", "action": "grant",
                              "source": "web", "evidence": {"log": ["ok", "\x00"]}},
     "evidence.log.1"),
    ("/v1/numbers", {"phone_number": "+16465550009", "\x00": 1}, "\x00"),  # a key
    ("/v1/numbers", "\x00", "request_body"),  # the body itself, not its field "body"
])
def test_a_nul_in_a_json_body_is_a_422_naming_the_field(client, api_key, url, body, field):
    _assert_nul_refused(client.post(url, json=body, headers=api_key("admin")), field)


def _post_hold_as_json_text(client, api_key, db, clock, reason_json: str):
    """POST /v1/holds with `reason_json` put verbatim between the quotes of the JSON reason."""
    add_session(db, now=clock())
    db.commit()
    body = '{"scope": "booking", "value": "bk_1001", "reason": "' + reason_json + '"}'
    return client.post("/v1/holds", data=body, content_type="application/json",
                       headers=api_key("privacy"))


@pytest.mark.parametrize("reason_json", [r"r\u0000r", r"r\\\u0000r", r"\u0000"])
def test_a_json_nul_escape_is_refused_and_nothing_is_stored(client, api_key, db, clock,
                                                           reason_json):
    _assert_nul_refused(_post_hold_as_json_text(client, api_key, db, clock, reason_json),
                        "reason")
    assert db.scalar(select(func.count()).select_from(LegalHold)) == 0


@pytest.mark.parametrize(("reason_json", "reason"), [(r"r\\u0000r", r"r\u0000r"),
                                                     (r"\\\\u0000", r"\\u0000")])
def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client, api_key, db, clock,
                                                             reason_json, reason):
    response = _post_hold_as_json_text(client, api_key, db, clock, reason_json)
    assert response.status_code == 201
    assert db.get(LegalHold, response.json["id"]).reason == reason


def test_twilio_webhooks_are_not_v1_and_keep_their_own_nul_handling(twilio_post, db, clock):
    f.open_session(db, clock())
    db.commit()
    params = {"From": REQUESTER, "To": REQUESTER_PROXY, "Body": "on\x00 my way",
              "MessageSid": f.sid("SM"), "NumMedia": "0"}

    [message] = twiml(twilio_post("/webhooks/twilio/sms?tag=a%00b", params))

    assert message.find("Body").text == "on my way"  # webhooks.forms drops what XML cannot carry


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_a_415_saying_so(client, api_key, content_type):
    response = client.post("/v1/sessions", data='{"booking_id": "bk_1"}',
                           content_type=content_type, headers=api_key("booking"))
    assert response.status_code == 415
    assert response.content_type == "application/problem+json"
    assert "application/json" in response.get_json()["detail"]


def test_a_415_repeats_the_content_type_cut_short_and_masked(client, api_key):
    """Found by the edge audit: the 415 repeated the client's Content-Type whole (up to
    gunicorn's 8 KiB a header), where every other echo of a client's input is cut at 64
    characters with numbers and keys masked (errors.NotFound.no)."""
    for content_type, secret in (("text/" + "x" * 5000, "x" * 100),
                                 ("text/csk_" + "k" * 43, "kkkkkkkk"),
                                 ("text/tel-4155550101", "5550101")):
        response = client.post("/v1/sessions", data='{"booking_id": "bk_1"}',
                               content_type=content_type, headers=api_key("booking"))
        assert response.status_code == 415
        assert secret not in response.get_json()["detail"]
        assert "(got text/" in response.get_json()["detail"]


def test_a_compressed_json_body_is_a_415_saying_to_send_it_uncompressed(client, api_key, db):
    """Found by an audit: gzip was read as JSON, a 400 "not valid JSON" that sent the client
    hunting for a JSON error in a valid body."""
    body = gzip.compress(b'{"channel": "sms", "purpose": "marketing", "action": "grant",'
                         b' "source": "api", "evidence": {"form": "x"}}')
    response = client.post("/v1/consent/+14155550171", data=body,
                           content_type="application/json",
                           headers={**api_key("booking"), "Content-Encoding": "gzip"})
    assert response.status_code == 415
    assert response.content_type == "application/problem+json"
    assert "uncompressed" in response.get_json()["detail"]
    identity = client.post("/v1/consent/+14155550171", data=gzip.decompress(body),
                           content_type="application/json",
                           headers={**api_key("booking"), "Content-Encoding": "identity"})
    assert identity.status_code == 201


def test_a_body_compressed_as_a_transfer_coding_is_a_415_too(client, api_key, db):
    """Found by the edge audit: `Transfer-Encoding: gzip, chunked` (gunicorn takes it and
    removes only the chunking) was read as JSON: the 400 "not valid JSON" the Content-Encoding
    check above was made against, and the grant was not recorded either way."""
    body = gzip.compress(b'{"channel": "sms", "purpose": "marketing", "action": "grant",'
                         b' "source": "api", "evidence": {"form": "x"}}')
    response = client.post("/v1/consent/+14155550171", input_stream=io.BytesIO(body),
                           headers={**api_key("booking"), "Content-Type": "application/json",
                                    "Transfer-Encoding": "gzip, chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 415
    assert "uncompressed" in response.get_json()["detail"]
    assert "gzip" in response.get_json()["detail"]


def test_a_post_without_a_body_is_not_asked_for_json(client, api_key):
    response = client.post("/v1/sessions/ses_nope/close", headers=api_key("booking"))
    assert response.status_code == 404


def _send_chunked(client, method, url, body, content_type, headers):
    """A body streamed with Transfer-Encoding: chunked and no Content-Length (Node's fetch with
    a stream, requests with a generator, curl -H 'Transfer-Encoding: chunked'), as gunicorn
    hands it to the app."""
    return client.open(url, method=method, input_stream=io.BytesIO(body),
                       headers={**headers, "Transfer-Encoding": "chunked",
                                "Content-Type": content_type},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_body_that_is_not_json_is_a_415_too(client, api_key):
    response = _send_chunked(client, "POST", "/v1/sessions", b'{"booking_id": "bk_1"}',
                             "text/plain", api_key("booking"))
    assert response.status_code == 415
    assert "application/json" in response.get_json()["detail"]


def test_a_chunked_body_on_a_delete_is_refused_and_the_number_stays(client, api_key, db):
    admin = api_key("admin")
    assert client.post("/v1/numbers", json={"phone_number": "+16465550009"},
                       headers=admin).status_code == 201

    response = _send_chunked(client, "DELETE", "/v1/numbers/+16465550009",
                             b'{"dry_run": true}', "application/json", admin)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"dry_run": ["Unknown field."]}
    assert db.scalar(select(ProxyNumber.status)
                     .where(ProxyNumber.phone_number == "+16465550009")) == "active"


def test_a_chunked_body_the_server_did_not_decode_is_a_411_not_ignored(client, api_key, db):
    """Found by a review: behind a WSGI server that passes a chunked stream on undecoded (no
    wsgi.input_terminated), Werkzeug reads it as empty, and the DELETE retired the number."""
    admin = api_key("admin")
    client.post("/v1/numbers", json={"phone_number": "+16465550009"}, headers=admin)

    response = client.open("/v1/numbers/+16465550009", method="DELETE",
                           input_stream=io.BytesIO(b'{"dry_run": true}'),
                           headers={**admin, "Transfer-Encoding": "chunked",
                                    "Content-Type": "application/json"})

    assert response.status_code == 411
    assert response.content_type == "application/problem+json"
    assert "Content-Length" in response.get_json()["detail"]
    assert db.scalar(select(ProxyNumber.status)
                     .where(ProxyNumber.phone_number == "+16465550009")) == "active"


class _MalformedChunks(io.BytesIO):
    """The body stream gunicorn hands over for a chunked body whose framing is broken: its
    chunk parser raises as the app reads."""

    def read(self, size=-1):
        raise InvalidChunkSize(b"zz")

    readinto = read


def test_a_malformed_chunked_body_is_a_400_and_nothing_is_stored(client, api_key, db):
    response = client.post("/v1/numbers", input_stream=_MalformedChunks(),
                           headers={**api_key("admin"), "Transfer-Encoding": "chunked",
                                    "Content-Type": "application/json"},
                           environ_overrides={"wsgi.input_terminated": True})

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert "chunked" in response.get_json()["detail"]
    assert db.scalar(select(func.count()).select_from(ProxyNumber)) == 0


def test_an_empty_chunked_body_is_no_body(client, api_key):
    response = _send_chunked(client, "POST", "/v1/sessions/ses_nope/close", b"", "text/plain",
                             api_key("booking"))
    assert response.status_code == 404


SURROGATE_MESSAGE = ["must be valid Unicode, which a lone surrogate (U+D800 to U+DFFF) is not"]


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/v1/sessions", r'{"booking_id": "bk_\ud800", "requester": {"phone": "+14155550681"},'
                     r' "pro": {"phone": "+14155550682"}}', "booking_id"),
    ("/v1/messages", r'{"to": "+14155550906", "body": "x\ud800", "purpose": "transactional"}',
     "body"),
    ("/v1/messages", r'{"to": "+14155550906", "body": "x", "purpose": "transactional",'
                     r' "booking_id": "bk\uDFFF"}', "booking_id"),
    ("/v1/holds", r'{"scope": "booking", "value": "bk\udc00", "reason": "claim"}', "value"),
    ("/v1/holds", r'{"scope": "booking", "value": "bk_1", "reason": "claim\ud800"}', "reason"),
    ("/v1/holds", r'{"scope": "booking", "value": "bk_1", "reason": "\ude00\ud83d"}', "reason"),
])
def test_a_lone_surrogate_in_a_json_body_is_a_422_naming_the_field(client, api_key, db, url,
                                                                   body, field):
    """JSON can escape half of a surrogate pair; no database can store it as UTF-8 (a 500)."""
    response = client.post(url, data=body, content_type="application/json",
                           headers=api_key("admin"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {field: SURROGATE_MESSAGE}
    assert db.scalar(select(func.count()).select_from(LegalHold)) == 0


def test_a_whole_surrogate_pair_is_one_character_and_accepted(client, api_key, db):
    body = r'{"scope": "booking", "value": "bk_1", "reason": "claim \ud83d\ude00"}'
    response = client.post("/v1/holds", data=body, content_type="application/json",
                           headers=api_key("privacy"))
    assert response.status_code == 201
    assert db.get(LegalHold, response.json["id"]).reason == "claim \U0001F600"


def test_a_request_without_a_body_is_checked_without_looking_for_one_twice(
        client, api_key, monkeypatch):
    """The edge checks of a GET (a consent check) asked twice whether it had a body (two
    header readings each) and parsed its Content-Type to look for JSON in the body it did not
    have: 3% of a consent check's instructions (consent3). The answer is the same."""
    from werkzeug.sansio.request import Request

    read = []
    for name in ("content_length", "mimetype"):
        prop = getattr(Request, name)
        monkeypatch.setattr(Request, name, property(
            lambda self, prop=prop, name=name: read.append(name) or prop.fget(self)))
    headers = api_key("booking")

    response = client.get(f"/v1/consent/check?phone={PHONE}&channel=sms&purpose=relay",
                          headers={**headers, "Content-Type": "application/json"})

    assert response.status_code == 200
    assert read == ["content_length"]
