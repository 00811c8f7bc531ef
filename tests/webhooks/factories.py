"""Sessions made by inserting rows directly, so the relay is tested on its own; and Twilio's
webhook forms with every field Twilio sends (its Messaging and Voice webhook references), so
that what the service ignores is exercised too."""
from __future__ import annotations

import datetime as dt
import itertools
import secrets

from sqlalchemy import select

from commsvc.phones import locality
from commsvc.pool.models import ProxyNumber
from commsvc.relay.models import Call, Message
from commsvc.sessions.models import Participant, Session

REQUESTER = "+14155550101"
PRO = "+14155550202"
STRANGER = "+14155550303"
REQUESTER_PROXY = "+16465550001"  # the number the requester texts and calls
PRO_PROXY = "+16465550002"  # the number the pro texts and calls

_sids = itertools.count(1)

ACCOUNT_SID = "AC" + "0" * 32
MESSAGING_SERVICE_SID = "MG" + "0" * 32
API_VERSION = "2010-04-01"
# What Twilio sends beside the form (its proxy's headers); the signature is added when posted.
TWILIO_HEADERS = {
    "User-Agent": "TwilioProxy/1.1",
    "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
    "X-Home-Region": "us1",
    "Accept": "*/*",
}


def sid(prefix: str = "SM") -> str:
    """A fresh Twilio-shaped SID (prefix + 32 hex digits)."""
    return f"{prefix}{next(_sids):08x}{secrets.token_hex(12)}"


_fresh_sid = sid  # for the form builders below, whose `sid` argument hides it


def proxy_number(db, phone: str, now: dt.datetime) -> ProxyNumber:
    existing = db.scalar(select(ProxyNumber).where(ProxyNumber.phone_number == phone))
    if existing is not None:
        return existing
    place = locality(phone)
    number = ProxyNumber(phone_number=phone, country_code=place.country_code,
                         area_code=place.area_code, sms=True, voice=True, mms=True,
                         status="active", created_at=now)
    db.add(number)
    db.flush()
    return number


def open_session(db, now: dt.datetime, *, booking_id: str = "bk_1001",
                 requester: str = REQUESTER, pro: str = PRO,
                 requester_proxy: str = REQUESTER_PROXY, pro_proxy: str = PRO_PROXY,
                 mode: str = "sms_and_voice", record_calls: bool = False,
                 ttl: dt.timedelta = dt.timedelta(days=7)) -> Session:
    """An open session with its two participants, committed (the app reads it separately)."""
    for phone in {requester_proxy, pro_proxy}:
        proxy_number(db, phone, now)
    session = Session(id="ses_" + secrets.token_hex(8), booking_id=booking_id, status="open",
                      mode=mode, record_calls=record_calls, created_at=now,
                      expires_at=now + ttl)
    session.participants = [
        Participant(role="requester", phone=requester, proxy_number=requester_proxy,
                    counterpart_phone=pro, active=True, created_at=now),
        Participant(role="pro", phone=pro, proxy_number=pro_proxy,
                    counterpart_phone=requester, active=True, created_at=now),
    ]
    db.add(session)
    db.commit()
    return session


def close_session(db, session: Session, now: dt.datetime) -> None:
    session.status, session.closed_reason, session.closed_at = "closed", "closed", now
    for participant in session.participants:
        participant.active, participant.ended_at = False, now
    db.commit()


def messages(db) -> list[Message]:
    db.expire_all()
    return list(db.scalars(select(Message).order_by(Message.id)))


def calls(db) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).order_by(Call.id)))


def twiml(response):
    """The TwiML root of a webhook answer, after checking it is TwiML."""
    from xml.etree import ElementTree

    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return root


def idempotency_token() -> str:
    """Twilio's I-Twilio-Idempotency-Token: one per webhook event, the same on each retry."""
    return f"{secrets.token_hex(16)}-{secrets.randbelow(10**10)}"


def _place(side: str, phone: str) -> dict[str, str]:
    """Twilio's caller-ID geography of a number (FromCity, FromState, FromZip, FromCountry, or
    To...); empty strings where it knows none, as Twilio sends them."""
    known = phone.startswith("+1")
    return {f"{side}City": "SAN FRANCISCO" if known else "", f"{side}State": "CA" if known else "",
            f"{side}Zip": "94105" if known else "", f"{side}Country": "US" if known else ""}


def sms_form(from_: str, to: str, body: str = "", *, sid: str | None = None, media=(),
             content_type: str = "image/jpeg", **extra) -> dict[str, str]:
    """An inbound SMS/MMS webhook form as Twilio sends it: MessageSid with its deprecated twins
    SmsSid and SmsMessageSid, the Messaging Service, segments, geography, media."""
    sid = sid or _fresh_sid("MM" if media else "SM")
    form = {
        "ToCountry": "US", "ToState": "NY", "ToCity": "NEW YORK", "ToZip": "10001",
        "SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "SmsStatus": "received",
        "AccountSid": ACCOUNT_SID, "MessagingServiceSid": MESSAGING_SERVICE_SID,
        "From": from_, "To": to, "Body": body, "NumMedia": str(len(media)),
        "NumSegments": str(max(1, -(-len(body) // (153 if body.isascii() else 67)))),
        "ReferralNumMedia": "0",
        "ApiVersion": API_VERSION, **_place("From", from_),
    }
    for index, url in enumerate(media):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    form.update(extra)
    return form


def message_status_form(message_sid: str, status: str, *, from_: str = "", to: str = "",
                        **extra) -> dict[str, str]:
    """A message status callback: MessageStatus and its twin SmsStatus, the SIDs, the numbers;
    Twilio adds ErrorCode on failures and RawDlrDoneDate on delivery receipts (pass them)."""
    form = {"SmsSid": message_sid, "SmsStatus": status, "MessageStatus": status,
            "MessageSid": message_sid, "AccountSid": ACCOUNT_SID, "From": from_, "To": to,
            "ApiVersion": API_VERSION, "MessagingServiceSid": MESSAGING_SERVICE_SID}
    form.update(extra)
    return form


def call_form(from_: str, to: str, *, sid: str | None = None, status: str = "ringing",
              **extra) -> dict[str, str]:
    """An inbound call webhook as Twilio sends it (Caller and Called repeat From and To, with
    their geography; StirVerstat is the caller's SHAKEN/STIR attestation)."""
    called = {"City": "NEW YORK", "State": "NY", "Zip": "10001", "Country": "US"}
    form = {
        "AccountSid": ACCOUNT_SID, "ApiVersion": API_VERSION, "CallSid": sid or _fresh_sid("CA"),
        "CallStatus": status, "Direction": "inbound", "CallToken": "%7B%22parentCallInfoToken",
        "From": from_, "To": to, "Caller": from_, "Called": to,
        "StirVerstat": "TN-Validation-Passed-A", **_place("From", from_),
        **_place("Caller", from_), **{f"To{k}": v for k, v in called.items()},
        **{f"Called{k}": v for k, v in called.items()},
    }
    form.update(extra)
    return form


def dial_action_form(call_form_: dict[str, str], dial_status: str, *, duration: int = 0,
                     dial_sid: str | None = None, bridged: bool | None = None,
                     **extra) -> dict[str, str]:
    """The <Dial action> callback: the inbound call's form (CallStatus as it now is) plus
    DialCallStatus, DialCallSid, DialCallDuration and DialBridged."""
    form = dict(call_form_, CallStatus="in-progress" if dial_status != "canceled" else "completed",
                DialCallStatus=dial_status, DialCallSid=dial_sid or _fresh_sid("CA"),
                DialCallDuration=str(duration))
    if bridged is not None:
        form["DialBridged"] = "true" if bridged else "false"
    form.pop("CallToken", None)
    form.update(extra)
    return form


def call_status_form(call_form_: dict[str, str], status: str, *, duration: int | None = None,
                     sequence: int = 0, **extra) -> dict[str, str]:
    """The number's *Call status changes* callback: CallStatus, CallDuration (once ended),
    Timestamp, SequenceNumber, CallbackSource."""
    form = dict(call_form_, CallStatus=status, CallbackSource="call-progress-events",
                SequenceNumber=str(sequence), Timestamp="Tue, 24 Nov 2026 20:30:00 +0000")
    form.pop("CallToken", None)
    if duration is not None:
        form["CallDuration"] = str(duration)
        form["Duration"] = str(-(-duration // 60))
    form.update(extra)
    return form


def recording_status_form(call_sid: str, recording_sid: str, status: str = "completed", *,
                          duration: int = 0, **extra) -> dict[str, str]:
    """A recording status callback: the recording's SID, URL, status, duration and channels."""
    form = {"AccountSid": ACCOUNT_SID, "CallSid": call_sid, "RecordingSid": recording_sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
                            f"/Recordings/{recording_sid}",
            "RecordingStatus": status, "RecordingDuration": str(duration),
            "RecordingChannels": "2", "RecordingSource": "DialVerb", "RecordingTrack": "both",
            "RecordingStartTime": "Tue, 24 Nov 2026 20:30:00 +0000", "ErrorCode": "0"}
    form.update(extra)
    return form
