"""Malformed webhooks: a 4xx or a safe answer, never a 500, never half-stored."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from commsvc.app import create_app
from commsvc.consent.models import ConsentEvent
from commsvc.db.session import Database
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.twilio_signing import TwilioPoster
from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, PRO_PROXY, REQUESTER, REQUESTER_PROXY, twiml


def _sms(**changes):
    params = {"From": REQUESTER, "To": REQUESTER_PROXY, "Body": "hi", "MessageSid": f.sid("SM"),
              "NumMedia": "0"}
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_text_without_a_required_field_is_400_and_stores_nothing(
        twilio_post, db, session_open, missing):
    response = twilio_post("/webhooks/twilio/sms", _sms(**{missing: None}))

    assert response.status_code == 400
    assert f.messages(db) == []


@pytest.mark.parametrize("missing", ["CallSid", "From", "To"])
def test_call_without_a_required_field_is_400_and_stores_nothing(
        twilio_post, db, session_open, missing):
    params = {"From": REQUESTER, "To": REQUESTER_PROXY, "CallSid": f.sid("CA"),
              "CallStatus": "ringing"}
    del params[missing]

    assert twilio_post("/webhooks/twilio/voice", params).status_code == 400
    assert f.calls(db) == []


@pytest.mark.parametrize("path,params", [
    ("message-status?m=1", {"MessageStatus": "sent"}),
    ("message-status?m=1", {"MessageSid": "SM" + "a" * 32}),
    ("call-status?c=1", {"CallStatus": "completed"}),
    ("recording-status?c=1", {"CallSid": "CA" + "a" * 32, "RecordingStatus": "completed"}),
])
def test_callback_without_its_sid_or_status_is_400(twilio_post, path, params):
    assert twilio_post(f"/webhooks/twilio/{path}", params).status_code == 400


@pytest.mark.parametrize("sid", ["SM' OR 1=1 --", "x", "SM" + "a" * 70, "SM\u00e9" + "a" * 30])
def test_malformed_sid_is_400(twilio_post, db, sid):
    assert twilio_post("/webhooks/twilio/sms", _sms(MessageSid=sid)).status_code == 400
    assert f.messages(db) == []


@pytest.mark.parametrize("to", ["not-a-number", "1234", "1234567", "+999", "+1" + "5" * 40])
def test_to_that_is_neither_a_phone_number_nor_a_short_code_is_400(twilio_post, db, to):
    assert twilio_post("/webhooks/twilio/sms", _sms(To=to)).status_code == 400
    assert f.messages(db) == []


@pytest.mark.parametrize("sender", ["HOMEPROS", "12345", "+999", "x" * 80, "<script>"])
def test_sender_that_is_not_a_phone_is_stored_but_neither_routed_nor_answered(
        twilio_post, db, session_open, sender):
    root = twiml(twilio_post("/webhooks/twilio/sms", _sms(From=sender)))

    assert list(root) == []
    [stored] = f.messages(db)
    assert stored.outcome == "no_session" and stored.forward_to is None
    assert 0 < len(stored.from_phone) <= 16 and "<" not in stored.from_phone


@pytest.mark.parametrize("sender", ["12345", "HOMEPROS", "client:alice"])
@pytest.mark.parametrize("body", ["STOP", "START", "HELP"])
def test_a_keyword_from_a_sender_that_is_not_a_phone_records_no_consent(
        twilio_post, db, session_open, sender, body):
    """Consent is kept per phone number (docs/consent.md: the API refuses anything else, 422),
    and the platform never texts a short code or a sender id, so their STOP has nothing to
    stop and their START nothing to restore; nor can they be answered. Stored as any text from
    them is, no_session, answered with nothing."""
    root = twiml(twilio_post("/webhooks/twilio/sms", _sms(From=sender, Body=body)))

    assert list(root) == []
    assert [(m.from_phone, m.outcome) for m in f.messages(db)] == [(sender, "no_session")]
    assert db.scalar(sa.select(sa.func.count()).select_from(ConsentEvent)) == 0


@pytest.mark.parametrize("sender", ["415555020A", "whatsapp:+14155550202"])
def test_a_sender_id_that_spells_a_participants_number_is_not_routed_as_them(
        twilio_post, db, session_open, sender):
    """phonenumbers reads letters as a keypad (415555020A is the pro's +14155550202): Twilio
    writes phone numbers in digits, so a sender id with letters or a channel prefix is not
    the pro texting their proxy number."""
    assert PRO == "+14155550202"
    root = twiml(twilio_post("/webhooks/twilio/sms", _sms(From=sender, To=PRO_PROXY)))

    assert list(root) == []
    [stored] = f.messages(db)
    assert (stored.outcome, stored.session_id, stored.forward_to) == ("no_session", None, None)


def test_a_to_with_a_channel_prefix_is_400(twilio_post, db, session_open):
    response = twilio_post("/webhooks/twilio/sms", _sms(To="whatsapp:" + PRO_PROXY))

    assert response.status_code == 400
    assert f.messages(db) == []


def test_repeated_field_is_400_and_stores_nothing(twilio_post, db, session_open):
    params = MultiDict(_sms())
    params.add("To", "+16465550002")  # signed as sent: Twilio's validator signs every value

    response = twilio_post("/webhooks/twilio/sms", params)

    assert response.status_code == 400
    assert f.messages(db) == []


def test_repeated_record_parameter_in_the_query_changes_nothing(twilio_post, db, relayed):
    response = twilio_post(f"/webhooks/twilio/message-status?m={relayed.id}&m={relayed.id}",
                           {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"})

    assert response.status_code == 200
    assert f.messages(db)[0].status == "received"


def test_non_numeric_media_count_is_400(twilio_post, db, session_open):
    assert twilio_post("/webhooks/twilio/sms", _sms(NumMedia="two")).status_code == 400
    assert f.messages(db) == []


def test_media_count_beyond_the_urls_given_forwards_only_real_urls(
        twilio_post, db, session_open):
    params = _sms(NumMedia="99", MediaUrl0="https://example.com/a.jpg",
                  MediaUrl1="javascript:alert(1)")

    [message] = twiml(twilio_post("/webhooks/twilio/sms", params))

    assert [m.text for m in message.findall("Media")] == ["https://example.com/a.jpg"]
    assert f.messages(db)[0].media_count == 1


def test_oversized_request_is_413_problem_json_and_stores_nothing(twilio_post, db, config):
    response = twilio_post("/webhooks/twilio/sms", _sms(Body="x" * (config.max_body_bytes + 1)))

    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert f.messages(db) == []


def test_body_with_xml_special_and_control_characters_is_forwarded_as_valid_xml(
        twilio_post, session_open):
    body = "<Say>hi</Say> & \x00\x07 ]]> \u2603"

    [message] = twiml(twilio_post("/webhooks/twilio/sms", _sms(Body=body)))

    assert message.find("Body").text == "<Say>hi</Say> &  ]]> \u2603"


def test_raw_non_utf8_body_is_refused_without_storing(client, db, session_open):
    raw = b"From=%2B14155550101&To=%2B16465550001&MessageSid=SM1&Body=\xff\xfe"
    poster = TwilioPoster(client, AUTH_TOKEN, BASE_URL)
    # Werkzeug cannot decode the form, so it sees no parameters: sign exactly that.
    response = client.post("/webhooks/twilio/sms", data=raw,
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": poster.signature(
                               "/webhooks/twilio/sms", {})})

    assert response.status_code == 400
    assert f.messages(db) == []


def test_percent_encoded_invalid_utf8_is_kept_as_text(client, db, session_open):
    raw = (b"From=%2B14155550101&To=%2B16465550001&MessageSid=SM" + b"a" * 32
           + b"&Body=caf%E9&NumMedia=0")
    poster = TwilioPoster(client, AUTH_TOKEN, BASE_URL)
    params = {"From": REQUESTER, "To": REQUESTER_PROXY, "MessageSid": "SM" + "a" * 32,
              "Body": "caf%E9", "NumMedia": "0"}
    response = client.post("/webhooks/twilio/sms", data=raw,
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": poster.signature(
                               "/webhooks/twilio/sms", params)})

    assert twiml(response)[0].find("Body").text == "caf%E9"


def test_json_body_is_not_a_webhook(twilio_post, client, db):
    poster = TwilioPoster(client, AUTH_TOKEN, BASE_URL)
    response = client.post("/webhooks/twilio/sms", json=_sms(),
                           headers={"X-Twilio-Signature": poster.signature(
                               "/webhooks/twilio/sms", {})})

    assert response.status_code == 400
    assert f.messages(db) == []


def test_get_is_405(client):
    assert client.get("/webhooks/twilio/sms").status_code == 405


def test_database_outage_is_503_so_twilio_retries(config, clock, twilio):
    dead = Database("postgresql+psycopg://postgres@127.0.0.1:9/nothing")
    app = create_app(config, clock=clock, twilio=twilio, database=dead)
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)

    response = poster("/webhooks/twilio/sms", _sms())

    assert response.status_code == 503
    dead.engine.dispose()


def test_failure_after_the_claim_rolls_the_whole_webhook_back(
        twilio_post, db, session_open, app):
    engine_events: list = []

    def fail_commit(session):
        engine_events.append("commit")
        raise sa.exc.OperationalError("COMMIT", {}, Exception("connection lost"))

    sa.event.listen(app.extensions["db"].sessionmaker, "before_commit", fail_commit)
    try:
        response = twilio_post("/webhooks/twilio/sms", _sms())
    finally:
        sa.event.remove(app.extensions["db"].sessionmaker, "before_commit", fail_commit)

    assert response.status_code == 503
    assert engine_events == ["commit"]
    assert f.messages(db) == []


@pytest.mark.parametrize(("sender", "stored"), [
    ("+1" + "4" * 300, "+14444444444444~"),  # never a plausible number
    ("sip:alice@example.com", "sip:aliceexampl~"),
    ("client:customer_support_agent_42", "client:customer~"),
    ("HOMEPROS", "HOMEPROS"),
])
def test_a_sender_too_long_for_its_column_is_stored_cut_with_a_mark(
        twilio_post, db, session_open, sender, stored):
    """Found by a black-box audit: 300 digits were stored as +144444444444444, a number
    that looks real."""
    twilio_post("/webhooks/twilio/sms", _sms(From=sender))

    assert f.messages(db)[0].from_phone == stored


def test_a_text_with_an_empty_sender_is_stored_from_unknown_and_answered_with_nothing(
        twilio_post, db, session_open):
    response = twilio_post("/webhooks/twilio/sms", _sms(From=""))

    assert response.status_code == 200
    assert twiml(response) is not None and len(twiml(response)) == 0
    assert [(m.from_phone, m.outcome, m.forward_to) for m in f.messages(db)] == [
        ("unknown", "no_session", None)]
