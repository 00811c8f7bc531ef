"""TwiML answers, built with twilio's own builders (a relayed text's written straight as the
same text), and the callback URLs they carry."""
from __future__ import annotations

from urllib.parse import urlencode
from xml.etree import ElementTree

from flask import Response
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from commsvc.config.settings import Config
from commsvc.relay.inbound import CallResult, SmsResult

PREFIX = "/webhooks/twilio"
RECORD_MODE = "record-from-answer-dual"  # both sides, each on its own channel, once answered
# Twilio reports only `completed` unless asked: a recording with no audio (the callee hung up
# at once, silence) would never be reported `absent`, and its SID from the Dial action would
# stay a recording with no status nor duration in the logs, its deletion queued for nothing.
RECORDING_EVENTS = "completed absent"


def callback_url(config: Config, webhook: str, **query) -> str:
    """PUBLIC_BASE_URL/webhooks/twilio/<webhook>?<query>: what Twilio calls back (and signs)."""
    return f"{config.public_base_url}{PREFIX}/{webhook}?{urlencode(query)}"


# What twilio's TwiML.to_xml() writes before the document.
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def xml(twiml) -> Response:
    """The builder's TwiML as str(twiml) writes it, serialised straight to text: to_xml()
    writes it to a UTF-8 byte stream and decodes it again, twice the cost (7 µs of every
    relayed text). The same text, since no answer holds a character UTF-8 cannot encode (a
    lone surrogate: a form's text is decoded with replacement characters and its Body loses
    what XML cannot carry, and a setting holding one is refused at start: commsvc.xml_chars)."""
    return _answer(ElementTree.tostring(twiml.xml(), encoding="unicode"))


def _answer(document: str) -> Response:
    return Response(XML_DECLARATION + document, status=200, mimetype="text/xml")


# As ElementTree.tostring escapes an element's text and an attribute's value.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                    "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"})


def _element(tag: str, content: str = "", attributes: tuple = ()) -> str:
    """An element as ElementTree.tostring writes one of twilio's builders: attributes in the
    order given (the builders sort them by name), none whose value is None, and "<Tag />" with
    no content. `content` is already XML (escaped text, or elements)."""
    written = "".join(f' {name}="{value.translate(_ATTRIBUTE_ESCAPES)}"'
                      for name, value in attributes if value is not None)
    return f"<{tag}{written}>{content}</{tag}>" if content else f"<{tag}{written} />"


def empty_messaging() -> Response:
    return xml(MessagingResponse())


def empty_voice() -> Response:
    """An empty <Response/>: as a Dial action's answer it ends the call properly."""
    return xml(VoiceResponse())


def say_and_hang_up(text: str) -> Response:
    """<Say>text</Say><Hangup/>."""
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return xml(response)


def sms_answer(result: SmsResult, config: Config, inbound_sid: str) -> Response:
    """Forward with <Message to from statusCallback> (+ <Media>), and/or answer the sender.
    Callback URLs name the record by id and by its own SID (forms.record_sid).

    Written straight as text, the very text twilio's MessagingResponse and Message would make
    of it through xml() (tests/webhooks/test_twiml_text.py): building them and their
    ElementTree was two thirds of every relayed text's answer."""
    messages = ""
    forward = result.forward
    if forward is not None:
        content = _element("Body", forward.body.translate(_TEXT_ESCAPES)) if forward.body else ""
        content += "".join(_element("Media", url.translate(_TEXT_ESCAPES))
                           for url in forward.media_urls)
        callback = callback_url(config, "message-status", m=result.message_id, s=inbound_sid)
        messages = _element("Message", content, (("from", forward.from_),
                                                 ("statusCallback", callback),
                                                 ("to", forward.to)))
    if result.reply:
        # Its own callback names the text it answers (?r=), so that the reply's copy at Twilio,
        # addressed to the sender, is deleted with that text (erasure, retention).
        callback = (callback_url(config, "message-status", r=result.message_id, s=inbound_sid)
                    if result.message_id is not None else None)
        messages += _element("Message", result.reply.translate(_TEXT_ESCAPES),
                             (("statusCallback", callback),))
    return _answer(_element("Response", messages))


def call_answer(result: CallResult, config: Config, call_sid: str) -> Response:
    """<Say> (notice or why not), then <Dial callerId=OTHER_PROXY> or <Hangup/>.

    A recorded bridge dials <Number url=…/recording-notice>: the <Say> reaches only the caller,
    so the called party hears the notice (recording_notice) on answering, before the bridge.
    """
    response = VoiceResponse()
    if result.say:
        response.say(result.say)
    bridge = result.bridge
    if bridge is None:
        response.hangup()
        return xml(response)
    options = {
        "caller_id": bridge.caller_id,
        "answer_on_bridge": True,
        "time_limit": bridge.time_limit,
        "action": callback_url(config, "call-status", c=result.call_id, s=call_sid),
    }
    if not bridge.record:
        response.dial(bridge.to, **options)
        return xml(response)
    options["record"] = RECORD_MODE
    options["recording_status_callback"] = callback_url(
        config, "recording-status", c=result.call_id, s=call_sid)
    options["recording_status_callback_event"] = RECORDING_EVENTS
    dial = response.dial(**options)
    # Twilio requests the url (POST, signed) when the callee answers and plays its TwiML to
    # them alone while the caller still hears ringing (answerOnBridge), then bridges.
    whisper = (callback_url(config, "recording-notice", c=result.call_id, s=call_sid)
               if config.recording_notice else None)
    dial.number(bridge.to, url=whisper)
    return xml(response)


def recording_notice(config: Config) -> Response:
    """What the called party of a recorded bridge hears before it (a <Number url>'s TwiML may
    hold only <Play>, <Say>, <Gather> and <Hangup>); once it ends the parties are connected."""
    response = VoiceResponse()
    if config.recording_notice:
        response.say(config.recording_notice)
    return xml(response)
