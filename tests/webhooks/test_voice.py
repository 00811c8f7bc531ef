"""Inbound calls: bridged with the proxy number as caller id, or a spoken message and hang-up."""
from __future__ import annotations

from commsvc.consent import service as consent
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
    assert f.calls(db)[0].outcome == "bridged_recorded"


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
    assert (f.calls(db)[0].from_phone, f.calls(db)[0].outcome) == ("Anonymous", "no_session")
