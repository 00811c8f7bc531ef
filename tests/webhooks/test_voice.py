"""Inbound calls: bridged with the proxy number as caller id, or a spoken message and hang-up."""
from __future__ import annotations

import pytest

from commsvc.app import create_app
from commsvc.consent import service as consent
from commsvc.phones import mask
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.twilio_signing import TwilioPoster
from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, PRO_PROXY, REQUESTER, REQUESTER_PROXY, STRANGER, twiml

BASE = "https://commsvc.example.com"


def test_call_is_bridged_showing_the_other_sides_proxy_number(
        session_open, place_call, db, config):
    root = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    [dial] = root
    stored = f.calls(db)[0]
    assert dial.tag == "Dial" and dial.text == PRO
    assert dial.get("callerId") == PRO_PROXY
    assert dial.get("answerOnBridge") == "true"
    assert dial.get("timeLimit") == str(config.call_time_limit_seconds)
    assert dial.get("action") == (
        f"{BASE}/webhooks/twilio/call-status?c={stored.id}&s={stored.twilio_sid}")
    assert dial.get("record") is None
    assert list(dial) == []  # no <Number url>: an unrecorded call has no notice to whisper
    assert (stored.outcome, stored.status) == ("bridged", "ringing")
    assert (stored.forward_to, stored.forward_from) == (PRO, PRO_PROXY)
    assert stored.session_id == session_open.id


def test_pro_calling_back_reaches_the_requester_from_the_requesters_proxy(
        session_open, place_call):
    [dial] = twiml(place_call(PRO, PRO_PROXY))

    assert (dial.text, dial.get("callerId")) == (REQUESTER, REQUESTER_PROXY)


def test_recorded_session_speaks_the_notice_first_then_records_the_bridge(
        db, clock, place_call, config):
    f.open_session(db, clock(), record_calls=True)

    say, dial = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    call = f.calls(db)[0]
    assert say.tag == "Say" and say.text == config.recording_notice
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == (
        f"{BASE}/webhooks/twilio/recording-status?c={call.id}&s={call.twilio_sid}")
    assert dial.get("callerId") == PRO_PROXY
    assert dial.get("answerOnBridge") == "true"
    assert f.calls(db)[0].outcome == "bridged_recorded"


def test_a_recorded_bridge_asks_twilio_to_report_a_recording_with_no_audio(
        db, clock, place_call):
    """Twilio sends only `completed` to recordingStatusCallback unless the Dial asks for more:
    the `absent` report (too short, silent) that the callbacks handle never came, so a call
    answered and hung up at once kept the Dial action's RecordingSid as a recording with no
    status or duration."""
    f.open_session(db, clock(), record_calls=True)

    _, dial = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    assert set(dial.get("recordingStatusCallbackEvent", "").split()) == {"completed", "absent"}


def test_recorded_call_whispers_the_notice_to_the_called_party_before_the_bridge(
        db, clock, place_call):
    """Found by a compliance review: the <Say> plays to the caller only, so the pro was
    recorded from answering without being told (all-party-consent states)."""
    f.open_session(db, clock(), record_calls=True)

    _, dial = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    call = f.calls(db)[0]
    [number] = dial
    assert (number.tag, number.text) == ("Number", PRO)
    assert not (dial.text or "").strip()
    # Twilio requests it (POST, the default) signed like every webhook: built on the base URL.
    assert number.get("url") == (
        f"{BASE}/webhooks/twilio/recording-notice?c={call.id}&s={call.twilio_sid}")
    assert number.get("method") is None


def _notice_form(parent_sid: str) -> dict:
    """What Twilio posts to a <Number url>: the dialled (child) leg's parameters."""
    return {"CallSid": f.sid("CA"), "ParentCallSid": parent_sid, "AccountSid": "AC" + "0" * 32,
            "From": PRO_PROXY, "To": PRO, "CallStatus": "in-progress",
            "Direction": "outbound-dial"}


def _whisper_path(dial) -> str:
    [number] = dial
    return number.get("url").removeprefix(BASE)


def test_the_whisper_url_answers_the_notice_to_a_signed_request(
        db, clock, place_call, twilio_post, config):
    f.open_session(db, clock(), record_calls=True)
    _, dial = twiml(place_call(REQUESTER, REQUESTER_PROXY))
    calls_before = [(c.id, c.status, c.outcome) for c in f.calls(db)]

    root = twiml(twilio_post(_whisper_path(dial), _notice_form(f.calls(db)[0].twilio_sid)))

    [say] = root
    assert (say.tag, say.text) == ("Say", config.recording_notice)
    db.expire_all()
    assert [(c.id, c.status, c.outcome) for c in f.calls(db)] == calls_before


def test_the_whisper_url_refuses_an_unsigned_or_tampered_request(
        db, clock, place_call, twilio_post, client):
    f.open_session(db, clock(), record_calls=True)
    _, dial = twiml(place_call(REQUESTER, REQUESTER_PROXY))
    path = _whisper_path(dial)
    form = _notice_form(f.calls(db)[0].twilio_sid)
    signature = twilio_post.signature(path, form)

    refused = [
        client.post(path, data=form),  # unsigned
        twilio_post(path, {**form, "To": STRANGER}, signature=signature),  # form changed
        twilio_post(path + "0", form, signature=signature),  # query changed
        twilio_post("/webhooks/twilio/recording-notice", form, signature=signature),
    ]

    for response in refused:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        assert b"<Say" not in response.data


def test_no_notice_configured_connects_the_called_party_without_a_whisper(
        config, clock, twilio, database):
    app = create_app(config.with_overrides(recording_notice=""), clock=clock, twilio=twilio,
                     database=database)
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
    with app.extensions["db"].sessionmaker() as db:
        f.open_session(db, clock(), record_calls=True)

        root = twiml(poster("/webhooks/twilio/voice", {
            "From": REQUESTER, "To": REQUESTER_PROXY, "CallSid": f.sid("CA"),
            "CallStatus": "ringing"}))
        [dial] = root
        [number] = dial
        assert (dial.get("record"), number.text, number.get("url")) == (
            "record-from-answer-dual", PRO, None)
        # A <Number url> given out before the notice was emptied still answers: with nothing
        notice = twiml(poster("/webhooks/twilio/recording-notice?c=1",
                              _notice_form(f.sid("CA"))))
        assert list(notice) == []


def test_stranger_hears_the_no_session_message_and_is_hung_up_on(
        session_open, place_call, db, config):
    say, hangup = twiml(place_call(STRANGER, REQUESTER_PROXY))

    assert (say.tag, say.text, hangup.tag) == ("Say", config.no_session_voice_message, "Hangup")
    stored = f.calls(db)[0]
    assert (stored.outcome, stored.forward_to, stored.session_id) == ("no_session", None, None)
    # That TwiML carries no callback: left "ringing", the call log showed it ringing for good.
    assert stored.status == "completed"


def test_closed_session_bridges_no_call(session_open, place_call, db, clock):
    f.close_session(db, session_open, clock())

    root = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    assert [e.tag for e in root] == ["Say", "Hangup"]


def test_expired_session_bridges_no_call_without_any_sweep(session_open, place_call, clock):
    clock.advance(days=8)

    root = twiml(place_call(PRO, PRO_PROXY))

    assert [e.tag for e in root] == ["Say", "Hangup"]


def test_sms_only_session_does_not_bridge_calls_and_says_to_text_instead(
        db, clock, place_call):
    f.open_session(db, clock(), mode="sms")

    root = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    assert [e.tag for e in root] == ["Say", "Hangup"]
    assert "text messages only" in root[0].text and "ended" not in root[0].text
    assert f.calls(db)[0].outcome == "mode_not_allowed"


def test_a_call_to_a_texts_only_session_repeated_after_it_closed_gets_the_same_answer(
        db, clock, place_call, config):
    """Found by a review: "please text instead" is chosen by whether a text would be relayed
    (6d9f6ee), read from the open session; a repeated webhook arriving once the session had
    closed found none and was told "cannot be connected". Decided as the first time."""
    session = f.open_session(db, clock(), mode="sms")
    first = place_call(REQUESTER, REQUESTER_PROXY, sid="CAtextsthenclosed")
    f.close_session(db, session, clock())

    again = place_call(REQUESTER, REQUESTER_PROXY, sid="CAtextsthenclosed")

    assert twiml(first)[0].text == config.sms_only_voice_message
    assert again.data == first.data
    assert len(f.calls(db)) == 1


def test_a_texts_only_session_whose_other_side_takes_no_texts_does_not_say_text_instead(
        db, clock, place_call, send_sms):
    """Found by an audit: the pro of a texts-only session had texted STOP; the requester's call
    was answered "text messages only, please send a text", and their text was then "could not
    be delivered". The call is told it cannot be connected, as when calls are refused."""
    f.open_session(db, clock(), mode="sms")
    consent.record_event(db, phone=PRO, channel="sms", purpose="all", action="revoke",
                         source="support", evidence={"ticket": "T-1"}, now=clock())
    db.commit()

    say, hangup = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    assert "cannot be connected" in say.text and "text" not in say.text
    assert hangup.tag == "Hangup"
    assert f.calls(db)[0].outcome == "mode_not_allowed"
    [told] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "hello?"))
    assert "could not be delivered" in told.text


def test_recipient_who_revoked_calls_is_not_rung(session_open, place_call, db, clock):
    consent.record_event(db, phone=PRO, channel="voice", purpose="relay", action="revoke",
                         source="support", evidence={"ticket": "T-1"}, now=clock())
    db.commit()

    say, hangup = twiml(place_call(REQUESTER, REQUESTER_PROXY))

    assert "cannot be connected" in say.text and hangup.tag == "Hangup"
    assert f.calls(db)[0].outcome == "blocked_consent"


def test_anonymous_caller_is_recorded_and_hung_up_on(session_open, place_call, db):
    root = twiml(place_call("Anonymous", REQUESTER_PROXY))

    assert [e.tag for e in root] == ["Say", "Hangup"]
    assert "your number is hidden" in root[0].text  # not "this conversation has ended"
    assert (f.calls(db)[0].from_phone, f.calls(db)[0].outcome) == ("Anonymous", "no_session")


@pytest.mark.parametrize(("caller", "stored"), [
    ("client:alice", "client:alice"), ("sip:alice@example.com", "sip:aliceexampl~"),
    ("SIP:+14155550101@pbx.example", "SIP:+1415555010~")])
def test_an_app_or_sip_caller_is_told_it_must_call_from_a_phone_not_that_its_number_is_hidden(
        session_open, place_call, db, caller, stored):
    """Found by a contract pass: a call from Twilio's Voice SDK (From "client:<identity>", an
    app) or from a SIP address ("sip:user@host") heard "your number is hidden. Please call
    again with your caller ID shown": they hide nothing, they have no phone number to be
    matched to a session, and showing a caller ID would change nothing."""
    for _ in range(2):  # a repeated webhook is answered the same
        say, hangup = twiml(place_call(caller, REQUESTER_PROXY, sid="CA" + "c" * 32))

        assert "hidden" not in say.text and "from a phone" in say.text
        assert hangup.tag == "Hangup"
    assert [(c.from_phone, c.outcome) for c in f.calls(db)] == [(stored, "no_session")]


@pytest.mark.parametrize("caller", ["Restricted", "+266696687", "+7378742833", "+2562533",
                                    "+8656696", "+86282452253"])
def test_every_caller_id_the_logs_show_as_hidden_is_answered_as_hidden(
        session_open, place_call, db, caller):
    """The two rules agree: a caller id phones.mask shows as a hidden caller's (Twilio's
    words and their keypad spellings, 1a0f3f9) is one the voice webhook finds no number in
    and answers as hidden, not a caller from Lesotho or China told their conversation ended."""
    say, hangup = twiml(place_call(caller, REQUESTER_PROXY))

    assert "your number is hidden" in say.text and hangup.tag == "Hangup"
    [call] = f.calls(db)
    assert (call.from_phone, call.outcome, mask(call.from_phone)) == (caller, "no_session", caller)


def test_a_caller_twilio_gives_no_caller_id_at_all_hears_that_their_number_is_hidden(
        session_open, place_call, db):
    # From sent empty: a caller whose number Twilio could not give. A 400 made Twilio play its
    # "application error" message to them, and the call went unrecorded.
    response = place_call("", REQUESTER_PROXY)

    assert response.status_code == 200
    say, hangup = twiml(response)
    assert "your number is hidden" in say.text and hangup.tag == "Hangup"
    assert [(c.from_phone, c.outcome) for c in f.calls(db)] == [("unknown", "no_session")]
