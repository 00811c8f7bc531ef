"""Twilio's form payloads parsed into the relay's plain values; anything malformed is a 400.

Twilio never repeats a field, never sends a SID outside [A-Za-z0-9], and always sends To as one
of our numbers; a request that does (with a valid signature, so a misconfiguration) is refused
with 400 and stores nothing. From may legitimately be a short code, an alphanumeric sender id or
"Anonymous": that sender is stored as given (sanitised) and routed nowhere.
"""
from __future__ import annotations

import logging
import re

from werkzeug.datastructures import MultiDict

from commsvc import phones
from commsvc.errors import ProblemError
from commsvc.relay.inbound import InboundCall, InboundSms
from commsvc.relay.statuses import (
    CALL_STATUS_RANK,
    CallProgress,
    MessageStatus,
    RecordingProgress,
)
from commsvc.xml_chars import NOT_XML

log = logging.getLogger("commsvc.webhooks")

MAX_MEDIA = 10  # Twilio delivers at most 10 media items per message
MAX_URL_LENGTH = 2048
_SID = re.compile(r"[A-Za-z0-9]{2,64}")
_MEDIA_URL = re.compile(r"https?://[!-~]+")  # printable ASCII, no spaces
_WORD = re.compile(r"[a-z][a-z_-]{0,23}")  # queued, in-progress, partially_delivered, ...
_NOT_A_PHONE = re.compile(r"[^\W\d_]|:")  # a letter, in any script, or a colon
_NOT_SENDER_CHARS = re.compile(r"[^A-Za-z0-9+:]")


class BadWebhook(ProblemError):
    status, type, title = 400, "bad-webhook", "Malformed Twilio webhook"


def _refuse(detail: str):
    log.warning("twilio webhook refused: %s", detail)
    raise BadWebhook(detail)


def _one(form: MultiDict, name: str, *, required: bool = False) -> str | None:
    values = form.getlist(name)
    if len(values) > 1:
        _refuse(f"{name} is repeated")
    value = values[0] if values else ""
    if not value and required:
        _refuse(f"{name} is missing")
    return value or None


def _sid(form: MultiDict, name: str, *, required: bool = True) -> str | None:
    value = _one(form, name, required=required)
    if value is not None and not _SID.fullmatch(value):
        _refuse(f"{name} is not a Twilio SID")
    return value


def _proxy_number(form: MultiDict, region: str, *, short_code: bool = False) -> str:
    """The number Twilio was reached on, in E.164; also a short code where `short_code` (a text
    replying to platform texts sent from one: its STOP must count)."""
    raw = _one(form, "To", required=True)
    if short_code and phones.SHORT_CODE.fullmatch(raw):
        return raw
    to = _as_phone(raw, region)
    if to is None:
        _refuse("To is not a phone number")
    return to


def _as_phone(raw: str, region: str) -> str | None:
    """A sender or recipient Twilio wrote as a phone number, in E.164; else None. Twilio writes
    phone numbers in digits: letters (an alphanumeric sender id such as 1800FLOWERS, which
    phonenumbers would read as a vanity number) or a channel prefix (whatsapp:+1...) are not a
    phone number this SMS and voice relay serves."""
    if _NOT_A_PHONE.search(raw):
        return None
    return phones.try_normalise(raw, region)


def _sender(form: MultiDict, region: str) -> tuple[str, str | None]:
    """(as stored, E.164 or None): short codes and sender ids are kept sanitised, not routed.
    Nor is a number phonenumbers does not know as valid: the platform never texts one, not
    even a reply (a review found "conversation has ended" and HELP replies going to them).
    A From sent empty (no caller ID at all) is such a sender ("unknown"); only one left out
    is malformed."""
    if "From" not in form:
        _refuse("From is missing")
    raw = _one(form, "From") or ""
    phone = _as_phone(raw, region)
    if phone is not None:
        return phone, phone
    return _stored_sender(_NOT_SENDER_CHARS.sub("", raw)), None


SENDER_WIDTH = 16  # the phone columns' width
CUT = "~"  # ends a sender cut to fit: never read as a number


def _stored_sender(sender: str) -> str:
    """A sender that is no phone number, as stored: cut to the column with a visible mark, so
    that 300 digits never become a plausible number and "sip:alice@example.com" shows it was
    longer."""
    if not sender:
        return phones.NO_CALLER_ID
    return sender if len(sender) <= SENDER_WIDTH else sender[:SENDER_WIDTH - 1] + CUT


def _word(form: MultiDict, name: str, *, required: bool = False) -> str | None:
    """A status word (queued, in-progress, ...): lower-cased; anything else is not kept."""
    value = (_one(form, name, required=required) or "").lower()
    if _WORD.fullmatch(value):
        return value
    if required:
        _refuse(f"{name} is not a status")
    return None


def _is_count(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 9


def _count(form: MultiDict, name: str) -> int | None:
    """A count that decides what is forwarded (NumMedia): malformed is a 400."""
    value = _one(form, name)
    if value is not None and not _is_count(value):
        _refuse(f"{name} is not a number")
    return int(value) if value is not None else None


def _figure(form: MultiDict, name: str) -> int | None:
    """A reported figure (durations, error codes): malformed ones are simply not stored."""
    value = _one(form, name)
    return int(value) if value is not None and _is_count(value) else None


def _media_urls(form: MultiDict) -> tuple[str, ...]:
    count = min(_count(form, "NumMedia") or 0, MAX_MEDIA)
    urls = []
    for index in range(count):
        url = _one(form, f"MediaUrl{index}")
        if url and len(url) <= MAX_URL_LENGTH and _MEDIA_URL.fullmatch(url):
            urls.append(url)
    return tuple(urls)


def inbound_sms(form: MultiDict, region: str) -> InboundSms:
    sid = _sid(form, "MessageSid")
    sender, sender_phone = _sender(form, region)
    return InboundSms(
        message_sid=sid,
        sender=sender,
        sender_phone=sender_phone,
        to_phone=_proxy_number(form, region, short_code=True),
        body=NOT_XML.sub("", _one(form, "Body") or ""),  # it would make our TwiML unreadable
        media_urls=_media_urls(form),
        opt_out_type=_word(form, "OptOutType"),
    )


def inbound_call(form: MultiDict, region: str) -> InboundCall:
    sid = _sid(form, "CallSid")
    caller, caller_phone = _sender(form, region)
    status = _word(form, "CallStatus")
    return InboundCall(
        call_sid=sid, caller=caller, caller_phone=caller_phone,
        to_phone=_proxy_number(form, region),
        status=status if status in CALL_STATUS_RANK else "ringing",
    )


def message_status(form: MultiDict) -> MessageStatus:
    sid = _sid(form, "MessageSid")
    status = _word(form, "MessageStatus", required=True)
    return MessageStatus(message_sid=sid, status=status, error_code=_figure(form, "ErrorCode"))


def call_progress(form: MultiDict) -> CallProgress:
    return CallProgress(
        call_sid=_sid(form, "CallSid"),
        status=_word(form, "CallStatus"),
        dial_status=_word(form, "DialCallStatus"),
        duration=_figure(form, "CallDuration"),
        dial_duration=_figure(form, "DialCallDuration"),
        dial_call_sid=_sid(form, "DialCallSid", required=False),
        dial_bridged={"true": True, "false": False}.get(_word(form, "DialBridged") or ""),
    )


def recording_progress(form: MultiDict) -> RecordingProgress:
    return RecordingProgress(
        call_sid=_sid(form, "CallSid", required=False),
        recording_sid=_sid(form, "RecordingSid"),
        status=_word(form, "RecordingStatus"),
        duration=_figure(form, "RecordingDuration"),
    )


def dial_recording(form: MultiDict) -> RecordingProgress | None:
    """The recording a Dial action names when its Dial records (RecordingSid), else None."""
    recording_sid = _sid(form, "RecordingSid", required=False)
    if recording_sid is None:
        return None
    return RecordingProgress(call_sid=_sid(form, "CallSid", required=False),
                             recording_sid=recording_sid)


_OUTBOUND_ID = re.compile(r"msg_[0-9a-f]{24}")


def outbound_id(args: MultiDict, name: str) -> str | None:
    """The send gate's id in a callback URL (?o=msg_...); None when absent or not ours."""
    values = args.getlist(name)
    if len(values) != 1 or not _OUTBOUND_ID.fullmatch(values[0]):
        return None
    return values[0]


def record_sid(args: MultiDict, name: str = "s") -> str | None:
    """The record's own Twilio SID we put beside its id in a callback URL (?s=), so that a late
    callback finds that record or none, never a later one given the same id; None when absent
    (URLs given out before it was added) or malformed."""
    values = args.getlist(name)
    if len(values) != 1 or not _SID.fullmatch(values[0]):
        return None
    return values[0]


def record_id(args: MultiDict, name: str) -> int | None:
    """The id we put in a callback URL (?m=, ?c=); None when absent or not ours."""
    values = args.getlist(name)
    if len(values) != 1 or not values[0].isascii() or not values[0].isdigit():
        return None
    value = int(values[0])
    return value if 0 < value < 2**63 else None
