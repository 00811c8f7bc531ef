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
