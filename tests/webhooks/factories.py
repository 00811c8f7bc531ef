"""Sessions made by inserting rows directly, so the relay is tested on its own."""
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


def sid(prefix: str = "SM") -> str:
    """A fresh Twilio-shaped SID (prefix + 32 hex digits)."""
    return f"{prefix}{next(_sids):08x}{secrets.token_hex(12)}"


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
