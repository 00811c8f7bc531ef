"""Every webhook is refused (403, nothing stored) unless Twilio signed exactly what we received."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from twilio.request_validator import RequestValidator

from commsvc.app import create_app
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.twilio_signing import TwilioPoster
from tests.webhooks import factories as f
from tests.webhooks.factories import REQUESTER, REQUESTER_PROXY

PATHS = ["sms", "voice", "message-status", "call-status", "recording-status",
         "recording-notice"]


def _sms(body="hi"):
    return {"From": REQUESTER, "To": REQUESTER_PROXY, "Body": body, "MessageSid": f.sid("SM"),
            "NumMedia": "0"}


def _assert_refused(response, db):
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "invalid-signature" and response.json["status"] == 403
    assert b"<Response" not in response.data
    assert f.messages(db) == [] and f.calls(db) == []


@pytest.mark.parametrize("webhook", PATHS)
def test_unsigned_request_is_refused_on_every_webhook(client, db, session_open, webhook):
    response = client.post(f"/webhooks/twilio/{webhook}", data=_sms())

    _assert_refused(response, db)


def test_signature_by_another_token_is_refused(client, db, session_open):
    forger = TwilioPoster(client, "not-the-auth-token", BASE_URL)

    _assert_refused(forger("/webhooks/twilio/sms", _sms()), db)


def test_signature_header_with_non_ascii_characters_is_refused(twilio_post, db, session_open):
    # Header values arrive as Latin-1 text; the constant-time compare must not choke on them.
    _assert_refused(twilio_post("/webhooks/twilio/sms", _sms(), signature="sïgnature=="), db)


def test_tampered_body_is_refused(twilio_post, db, session_open):
    params = _sms("pay me")
    signature = twilio_post.signature("/webhooks/twilio/sms", params)

    response = twilio_post("/webhooks/twilio/sms", {**params, "Body": "pay me $500"},
                           signature=signature)

    _assert_refused(response, db)


def test_added_parameter_is_refused(twilio_post, db, session_open):
    params = _sms()
    signature = twilio_post.signature("/webhooks/twilio/sms", params)

    response = twilio_post("/webhooks/twilio/sms", {**params, "MediaUrl0": "https://x.test/a"},
                           signature=signature)

    _assert_refused(response, db)


def test_signature_replayed_on_another_path_is_refused(twilio_post, db, session_open):
    params = {"From": REQUESTER, "To": REQUESTER_PROXY, "CallSid": f.sid("CA"),
              "MessageSid": f.sid("SM"), "Body": "x"}
    signature = twilio_post.signature("/webhooks/twilio/sms", params)

    response = twilio_post("/webhooks/twilio/voice", params, signature=signature)

    _assert_refused(response, db)


def test_signature_replayed_with_another_query_is_refused(twilio_post, db, relayed):
    message_id = relayed.id
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed"}
    signature = twilio_post.signature(f"/webhooks/twilio/message-status?m={message_id + 1}",
                                      params)

    response = twilio_post(f"/webhooks/twilio/message-status?m={message_id}", params,
                           signature=signature)

    assert response.status_code == 403
    assert f.messages(db)[0].status == "received"


def test_signature_over_the_query_string_is_accepted(twilio_post, db, relayed):
    response = twilio_post(f"/webhooks/twilio/message-status?m={relayed.id}",
                           {"MessageSid": "SM" + "1" * 32, "MessageStatus": "sent"})

    assert response.status_code == 200
    assert f.messages(db)[0].status == "sent"


@pytest.mark.parametrize("public_base_url", [
    "http://commsvc.example.com",  # wrong scheme
    "https://other.example.com",  # wrong host
    "https://commsvc.example.com/prefix",  # wrong path
])
def test_signature_checked_against_public_base_url_not_the_request_host(
        config, clock, twilio, database, public_base_url):
    app = create_app(config.with_overrides(public_base_url=public_base_url), clock=clock,
                     twilio=twilio, database=database)
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)

    response = poster("/webhooks/twilio/sms", _sms())

    assert response.status_code == 403


def test_public_base_url_with_default_port_still_verifies(config, clock, twilio, database):
    app = create_app(config.with_overrides(public_base_url=BASE_URL + ":443"), clock=clock,
                     twilio=twilio, database=database)
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)

    assert poster("/webhooks/twilio/sms", _sms()).status_code == 200


def test_empty_auth_token_refuses_everything(config, clock, twilio, database):
    app = create_app(config.with_overrides(twilio_auth_token=""), clock=clock, twilio=twilio,
                     database=database)
    poster = TwilioPoster(app.test_client(), "", BASE_URL)

    assert poster("/webhooks/twilio/sms", _sms()).status_code == 403


def test_refusal_logs_one_line_without_numbers_or_body(client, webhook_logs):
    client.post("/webhooks/twilio/sms", data=_sms("secret plan"))

    lines = [r.getMessage() for r in webhook_logs.records if r.name == "commsvc.webhooks"]
    assert len(lines) == 1
    assert "signature" in lines[0]
    assert "secret plan" not in lines[0] and "0101" not in lines[0] and "0001" not in lines[0]


def _body_hashed_request(client, signed_body: str, sent_body: str):
    """A request signed as Twilio signs a JSON-bodied webhook: over the URL alone, which
    carries the body's SHA-256 in its bodySHA256 query parameter."""
    path = (f"/webhooks/twilio/recording-notice?c=1&s={f.sid('CA')}"
            f"&bodySHA256={hashlib.sha256(signed_body.encode()).hexdigest()}")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(BASE_URL + path, {})
    return client.post(path, data=sent_body, content_type="application/json",
                       headers={"X-Twilio-Signature": signature})


def test_a_body_whose_sha256_the_signed_url_carries_is_accepted(client):
    body = '{"CallSid": "CA' + "1" * 32 + '"}'

    assert _body_hashed_request(client, body, body).status_code == 200


def test_a_body_other_than_the_one_the_signed_url_hashes_is_refused(client, db):
    """Found replaying Twilio's forms: RequestValidator checks bodySHA256 against the raw
    body, but it was handed the (empty) form, so the hash was never compared and the signed
    URL of one JSON-bodied request verified any body sent with it."""
    signed = '{"CallSid": "CA' + "1" * 32 + '"}'

    response = _body_hashed_request(client, signed, '{"CallSid": "CA' + "2" * 32 + '"}')

    _assert_refused(response, db)


def test_a_webhook_signed_with_a_twilio_shared_key_is_refused_saying_why(client, db,
                                                                      webhook_logs):
    """Found replaying Twilio's requests: a Webhook Rule whose Setting signs with a SharedKey
    (Twilio's Webhooks configuration API) makes Twilio sign with that key, HMAC-SHA256, and say
    so in X-Twilio-Webhooks-Signature-Settings. commsvc has only the auth token, so it must
    refuse; but every webhook was refused as "invalid signature", which sends the operator
    hunting for a wrong token or PUBLIC_BASE_URL. The answer (shown in Twilio's debugger) and
    the log line now name the header."""
    params = _sms()
    signed = BASE_URL + "/webhooks/twilio/sms" + "".join(k + params[k] for k in sorted(params))
    signature = base64.b64encode(hmac.new(b"the-shared-key-secret", signed.encode(),
                                          hashlib.sha256).digest()).decode()

    settings = "key=webhooks_sharedkey_01abc,algorithm=HMAC_SHA256"

    response = client.post("/webhooks/twilio/sms", data=params, headers={
        "X-Twilio-Signature": signature, "X-Twilio-Webhooks-Signature-Settings": settings})

    _assert_refused(response, db)
    assert "X-Twilio-Webhooks-Signature-Settings" in response.json["detail"]
    [line] = [r.getMessage() for r in webhook_logs.records if r.name == "commsvc.webhooks"]
    assert "X-Twilio-Webhooks-Signature-Settings" in line
    assert "webhooks_sharedkey_01abc" not in line  # a header's words are never logged


@pytest.mark.parametrize("signed_over", ["https://commsvc.example.com:8443",
                                         "https://commsvc.example.com"])
def test_a_non_default_port_verifies_signed_with_or_without_it(config, clock, twilio, database,
                                                               signed_over):
    """Twilio has signed webhooks to a non-default https port both ways (twilio-python #402):
    docs/twilio.md says both verify."""
    app = create_app(config.with_overrides(public_base_url="https://commsvc.example.com:8443"),
                     clock=clock, twilio=twilio, database=database)
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, signed_over)

    assert poster("/webhooks/twilio/sms", _sms()).status_code == 200


@pytest.mark.parametrize("query", ["bodySHA256=", "bodySHA256", "bodySHA256=&c=1"])
def test_an_empty_bodysha256_is_refused_not_a_500(client, db, session_open, query):
    """A query naming bodySHA256 with no value (anyone can send one): twilio's validator,
    which reads the query with blank values dropped, then took the raw body for a form and
    raised (a 500 for an unsigned request). No hash to compare, so it is a bad signature."""
    path = f"/webhooks/twilio/sms?{query}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(BASE_URL + path, {})

    response = client.post(path, data=_sms(), headers={"X-Twilio-Signature": signature})

    _assert_refused(response, db)


# Forms and URLs as Twilio signs them and as anyone may send them: repeated names, a value
# repeated, empty values, non-ASCII (a text's words, an emoji), names that sort by case.
_SIGNED_URLS = ["https://commsvc.example.com/webhooks/twilio/sms",
                "https://commsvc.example.com:443/webhooks/twilio/sms",
                "https://commsvc.example.com:8443/webhooks/twilio/sms",
                "http://127.0.0.1:7110/webhooks/twilio/message-status?m=12&s=SM1",
                "https://commsvc.example.com/webhooks/twilio/call-status?c=7&c=8",
                "https://commsvc.example.com/webhooks/twilio/sms?q=caf%C3%A9&x="]
_SIGNED_FORMS = [
    [],
    [("Body", "")],
    [("From", "+14155550101"), ("To", "+14155550202"), ("Body", "hi"), ("NumMedia", "0")],
    [("Body", "b"), ("Body", "a"), ("Body", "b"), ("body", "A"), ("BODY", "z")],
    [("Body", "Arrêtez, s'il vous plaît 🙏"), ("From", "+33612345678"), ("Ünïcode", "ß")],
    [("MediaUrl0", "https://api.twilio.com/x?y=1&z=2"), ("NumMedia", "1"), ("a", "=&%")],
    [("a", "1"), ("a", "1"), ("a", "10"), ("a", "2"), ("a1", ""), ("a", "")],
]


@pytest.mark.parametrize("url", _SIGNED_URLS)
@pytest.mark.parametrize("fields", _SIGNED_FORMS)
def test_the_form_signature_is_twilios(url, fields):
    from werkzeug.datastructures import MultiDict

    from webhooks.signature import form_signature

    form = MultiDict(fields)
    assert form_signature(AUTH_TOKEN, url, form) == RequestValidator(
        AUTH_TOKEN).compute_signature(url, form)


@pytest.mark.parametrize("path", ["/webhooks/twilio/sms",
                                  "/webhooks/twilio/message-status?m=12&s=SM1",
                                  "/webhooks/twilio/call-status?c=7&c=8&e=%C3%A9"])
@pytest.mark.parametrize("fields", _SIGNED_FORMS)
@pytest.mark.parametrize("public_base_url", ["https://commsvc.example.com",
                                             "https://commsvc.example.com:443",
                                             "https://commsvc.example.com:8443"])
def test_a_signature_is_accepted_exactly_where_twilios_validator_accepts_it(
        path, fields, public_base_url):
    """The webhook's guard decides every signature as RequestValidator.validate does over the
    URL it rebuilds: signed over that URL, over it with or without its port, by another token,
    over another form, or not Twilio's at all."""
    from flask import Flask, request
    from werkzeug.datastructures import MultiDict

    from webhooks.signature import is_valid

    url = public_base_url + path
    bare = url.replace(":443/", "/").replace(":8443/", "/")
    validator, other = RequestValidator(AUTH_TOKEN), RequestValidator(AUTH_TOKEN + "x")
    form = MultiDict(fields)
    signatures = {validator.compute_signature(signed, signed_form)
                  for signed in {url, bare, bare.replace(".com/", ".com:443/"),
                                 bare.replace(".com/", ".com:8443/")}
                  for signed_form in (form, MultiDict([*fields, ("Extra", "1")]))}
    signatures |= {other.compute_signature(url, form), "", "x" * 28, "é" * 28}
    app = Flask(__name__)
    for signature in signatures:
        with app.test_request_context(path, method="POST", data=form, base_url=BASE_URL,
                                      headers={"X-Twilio-Signature": signature}):
            expected = bool(signature) and validator.validate(url, request.form, signature)
            assert is_valid(AUTH_TOKEN, public_base_url) == expected, signature


def test_a_text_signed_over_its_url_is_verified_with_one_hmac(twilio_post, db, session_open,
                                                              monkeypatch):
    """Twilio signs the URL as configured: verified by form_signature, one HMAC over one pass of
    the form, not twilio's compute_signature (which asks each field's values through a getall()
    Werkzeug's MultiDict lacks, an exception raised and caught per field), and with no
    RequestValidator made (its only use is the cases form_signature does not decide)."""
    asked, made = [], []
    real = RequestValidator.compute_signature
    monkeypatch.setattr(RequestValidator, "compute_signature",
                        lambda self, *args, **kwargs: asked.append(args) or real(
                            self, *args, **kwargs))
    real_init = RequestValidator.__init__
    monkeypatch.setattr(RequestValidator, "__init__",
                        lambda self, token: made.append(token) or real_init(self, token))
    signature = TwilioPoster(None, AUTH_TOKEN, BASE_URL).signature("/webhooks/twilio/sms", (
        sms := _sms()))
    asked.clear()
    made.clear()

    response = twilio_post("/webhooks/twilio/sms", sms, signature=signature)

    assert response.status_code == 200 and b"<Message" in response.data
    assert asked == [] and made == []
