"""webhooks.twiml.xml writes the builders' TwiML itself (cheaper than str(twiml)): the very text
twilio's to_xml() writes, whatever the answer holds."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.twiml.messaging_response import Message, MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from commsvc.xml_chars import NOT_XML
from webhooks import twiml

# What can reach an answer: forms drop what XML cannot carry, config refuses it (xml_chars).
XML_TEXT = st.text(st.characters(codec="utf-8")).map(lambda text: NOT_XML.sub("", text))


@settings(max_examples=300, deadline=None)
@given(body=XML_TEXT, reply=XML_TEXT, sid=XML_TEXT, media=st.lists(XML_TEXT, max_size=2))
def test_a_messaging_answer_is_the_text_twilio_writes(body, reply, sid, media):
    response = MessagingResponse()
    message = Message(to="+14155550202", from_="+16465550001",
                      status_callback=f"https://example.com/webhooks/twilio/message-status"
                                      f"?m=12&s={sid}")
    message.body(body)
    for url in media:
        message.media(url)
    response.append(message)
    response.message(reply, status_callback=None)
    assert twiml.xml(response).get_data(as_text=True) == str(response)


@settings(max_examples=200, deadline=None)
@given(say=XML_TEXT, caller_id=XML_TEXT, to=XML_TEXT)
def test_a_voice_answer_is_the_text_twilio_writes(say, caller_id, to):
    response = VoiceResponse()
    response.say(say)
    dial = response.dial(caller_id=caller_id, answer_on_bridge=True, time_limit=3600,
                         action="https://example.com/webhooks/twilio/call-status?c=1&s=CA1")
    dial.number(to, url=None)
    response.hangup()
    assert twiml.xml(response).get_data(as_text=True) == str(response)


def test_an_empty_answer_is_the_text_twilio_writes():
    for response in (MessagingResponse(), VoiceResponse()):
        answer = twiml.xml(response)
        assert answer.get_data(as_text=True) == str(response)
        assert answer.mimetype == "text/xml"


def _built_sms_answer(result, config, inbound_sid: str) -> str:
    """A relayed text's answer built with twilio's builders, as sms_answer built it before it
    wrote the text itself."""
    response = MessagingResponse()
    forward = result.forward
    if forward is not None:
        message = Message(to=forward.to, from_=forward.from_, status_callback=twiml.callback_url(
            config, "message-status", m=result.message_id, s=inbound_sid))
        if forward.body:
            message.body(forward.body)
        for url in forward.media_urls:
            message.media(url)
        response.append(message)
    if result.reply:
        callback = (twiml.callback_url(config, "message-status", r=result.message_id,
                                       s=inbound_sid)
                    if result.message_id is not None else None)
        response.message(result.reply, status_callback=callback)
    return twiml.xml(response).get_data(as_text=True)


@settings(max_examples=400, deadline=None)
@given(forwarded=st.booleans(), body=XML_TEXT, media=st.lists(XML_TEXT, max_size=3),
       reply=st.none() | XML_TEXT, message_id=st.none() | st.integers(1, 2**63 - 1),
       to=XML_TEXT, from_=XML_TEXT, sid=XML_TEXT, base=XML_TEXT)
def test_a_relayed_texts_answer_is_the_text_twilios_builders_make(
        forwarded, body, media, reply, message_id, to, from_, sid, base):
    """sms_answer writes its TwiML itself: the very text of twilio's MessagingResponse and
    Message through xml(), whatever a text, its media, a reply or the config hold ("&", "<",
    quotes, line breaks and tabs in attributes, any Unicode XML carries)."""
    from types import SimpleNamespace

    from commsvc.relay.inbound import Forward, SmsResult

    config = SimpleNamespace(public_base_url=base)
    forward = Forward(to=to, from_=from_, body=body, media_urls=tuple(media)) if forwarded else None
    result = SmsResult(message_id=message_id, outcome="forwarded", session_id=None,
                       forward=forward, reply=reply, duplicate=False)
    answer = twiml.sms_answer(result, config, sid)
    assert answer.get_data(as_text=True) == _built_sms_answer(result, config, sid)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"


def test_a_relayed_texts_answer_is_written_without_twilios_builders(monkeypatch):
    """Building MessagingResponse and Message and their ElementTree was two thirds of the
    answer's cost: sms_answer writes the same text itself."""
    from types import SimpleNamespace

    from commsvc.relay.inbound import Forward, SmsResult

    def refuse(self, *args, **kwargs):
        raise AssertionError("built with twilio's builders")

    monkeypatch.setattr(MessagingResponse, "__init__", refuse)
    config = SimpleNamespace(public_base_url="https://commsvc.example.com")
    result = SmsResult(message_id=7, outcome="forwarded", session_id="ses_1", reply=None,
                       forward=Forward(to="+14155550202", from_="+16465550001", body="on my way",
                                       media_urls=()), duplicate=False)
    assert twiml.sms_answer(result, config, "SM1").get_data(as_text=True) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message from="+16465550001"'
        ' statusCallback="https://commsvc.example.com/webhooks/twilio/message-status?m=7&amp;'
        's=SM1" to="+14155550202"><Body>on my way</Body></Message></Response>')
