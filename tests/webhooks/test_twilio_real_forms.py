"""What Twilio really sends, end to end: every field of its forms (factories.sms_form, call_form,
...), parameters commsvc does not know, Advanced Opt-Out, long and UCS-2 texts, MMS, and
callbacks repeated or out of order, as a booking's conversation meets them."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, PRO_PROXY, REQUESTER, REQUESTER_PROXY, twiml


def _callback(url: str) -> str:
    """The path and query Twilio posts a callback URL of our TwiML to."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _log_row(client, api_key, sid: str, kind: str = "messages") -> dict:
    rows = client.get(f"/v1/logs/{kind}?limit=200",
                      headers={**api_key("privacy"), "X-Access-Reason": "test"}).json["data"]
    [row] = [row for row in rows if row["twilio_sid"] == sid]
    return row


@pytest.mark.parametrize("body", [
    ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 30)[:1600],  # 11 segments
    "Señor García: ¿mañana a las 9? 😀👍🏽 Ça va, Zoë? 你好 — ok\r\nmerci",  # UCS-2
])
def test_long_and_ucs2_texts_are_forwarded_and_stored_whole(session_open, send_sms, client,
                                                            api_key, body):
    sid = f.sid("SM")
    response = send_sms(REQUESTER, REQUESTER_PROXY, body, sid=sid)

    [message] = twiml(response)
    # XML reads a CR LF as LF: the recipient's phone shows the same lines
    assert message.findtext("Body") == body.replace("\r\n", "\n")
    assert _log_row(client, api_key, sid)["body"] == body


def test_an_mms_with_three_media_and_no_body_field_forwards_each_in_order(
        session_open, twilio_post, client, api_key):
    media = [f"https://api.twilio.com/2010-04-01/Accounts/{f.ACCOUNT_SID}/Messages/MM1/Media/"
             f"ME{index}" for index in range(3)]
    form = f.sms_form(PRO, PRO_PROXY, "", media=media, MediaContentType2="video/mp4")
    del form["Body"]  # a picture alone: Twilio may leave Body out

    [message] = twiml(twilio_post("/webhooks/twilio/sms", form))

    assert [item.text for item in message.findall("Media")] == media
    assert message.find("Body") is None
    assert _log_row(client, api_key, form["MessageSid"])["media_count"] == 3


def test_parameters_twilio_adds_are_ignored_not_refused(session_open, send_sms):
    response = send_sms(REQUESTER, REQUESTER_PROXY, "see you at 9",
                        AddOns='{"status":"successful","results":{}}', SomeFutureParam="x",
                        ProfileName="Jo", WaId="14155550101", Forwarded="false")

    [message] = twiml(response)
    assert message.get("to") == PRO


def test_advanced_opt_out_stop_start_and_help_are_recorded_without_a_second_reply(
        session_open, send_sms, client, api_key):
    def allowed():
        return client.get(f"/v1/consent/check?phone={REQUESTER}&channel=sms&purpose=relay",
                          headers=api_key("booking")).json["allowed"]

    assert list(twiml(send_sms(REQUESTER, REQUESTER_PROXY, "Stop", OptOutType="STOP"))) == []
    assert allowed() is False
    [told] = twiml(send_sms(PRO, PRO_PROXY, "are you there?"))  # not forwarded: pro is told
    assert told.get("to") is None
    assert list(twiml(send_sms(REQUESTER, REQUESTER_PROXY, "START", OptOutType="START"))) == []
    assert allowed() is True
    assert list(twiml(send_sms(REQUESTER, REQUESTER_PROXY, "HELP", OptOutType="HELP"))) == []
    # a bare YES Twilio marks START, from someone not opted out: the answer it is
    [answer] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "Yes", OptOutType="START"))
    assert answer.get("to") == PRO


def test_a_delivery_receipt_out_of_order_and_repeated_keeps_the_furthest_status(
        session_open, send_sms, twilio_post, client, api_key):
    sid = f.sid("SM")
    [message] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "hello", sid=sid))
    callback, copy = _callback(message.get("statusCallback")), f.sid("SM")

    for status, extra in [("delivered", {"RawDlrDoneDate": "2611242031"}), ("sent", {}),
                          ("sent", {}), ("queued", {}),
                          ("failed", {"ErrorCode": "30008", "ErrorMessage": "Unknown error"})]:
        assert list(twiml(twilio_post(callback, f.message_status_form(
            copy, status, from_=PRO_PROXY, to=PRO, **extra)))) == []

    row = _log_row(client, api_key, sid)
    assert (row["status"], row["error_code"]) == ("delivered", None)


def test_a_call_with_its_dial_action_and_status_callbacks_out_of_order(
        session_open, twilio_post, client, api_key):
    call = f.call_form(REQUESTER, REQUESTER_PROXY)
    root = twiml(twilio_post("/webhooks/twilio/voice", call))
    dial = root.find("Dial")
    assert (dial.get("callerId"), dial.text) == (PRO_PROXY, PRO)
    action = _callback(dial.get("action"))

    # the number's own callback (completed, the whole call) before the Dial action, then a
    # late canceled, each twice
    for form in [f.call_status_form(call, "completed", duration=95, sequence=3),
                 f.dial_action_form(call, "completed", duration=80, bridged=True),
                 f.call_status_form(call, "canceled", duration=0, sequence=4)]:
        path = action if "DialCallStatus" in form else "/webhooks/twilio/call-status"
        for _ in range(2):
            assert list(twiml(twilio_post(path, form))) == []

    row = _log_row(client, api_key, call["CallSid"], "calls")
    assert (row["status"], row["duration_seconds"]) == ("completed", 80)


def test_a_recorded_call_whisper_dial_action_and_recording_callbacks(
        db, clock, twilio_post, client, api_key):
    f.open_session(db, clock(), record_calls=True)
    call = f.call_form(PRO, PRO_PROXY)
    root = twiml(twilio_post("/webhooks/twilio/voice", call))
    dial = root.find("Dial")
    number = dial.find("Number")
    leg, recording = f.sid("CA"), f.sid("RE")

    whisper = f.call_form(REQUESTER_PROXY, REQUESTER, sid=leg, status="in-progress",
                          Direction="outbound-dial", ParentCallSid=call["CallSid"])
    assert [e.tag for e in twiml(twilio_post(_callback(number.get("url")), whisper))] == ["Say"]
    twilio_post(_callback(dial.get("action")), f.dial_action_form(
        call, "completed", duration=33, dial_sid=leg, bridged=True, RecordingSid=recording,
        RecordingUrl=f"https://api.twilio.com/Recordings/{recording}", RecordingDuration="31"))
    for _ in range(2):
        twilio_post(_callback(dial.get("recordingStatusCallback")),
                    f.recording_status_form(call["CallSid"], recording, duration=31))

    row = _log_row(client, api_key, call["CallSid"], "calls")
    assert (row["status"], row["duration_seconds"]) == ("completed", 33)
    assert (row["recording"]["sid"], row["recording"]["duration"]) == (recording, 31)


@pytest.mark.parametrize("keyword", ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                                     "REVOKE", "OPTOUT"])
def test_each_keyword_twilio_blocks_on_revokes_texts_here_too(session_open, send_sms, client,
                                                              api_key, keyword):
    """Twilio's default opt-out keywords on long codes (docs/twilio.md): without Advanced
    Opt-Out it blocks the sender and says nothing to commsvc, so each must revoke here too,
    or the other side's texts would fail at Twilio (21610) instead of being withheld."""
    [confirmation] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, keyword))

    assert confirmation.get("to") is None  # answered, not forwarded
    assert client.get(f"/v1/consent/check?phone={REQUESTER}&channel=sms&purpose=relay",
                      headers=api_key("booking")).json["allowed"] is False
