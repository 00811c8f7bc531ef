"""Builders for messages, calls and sessions, written straight to the database for records tests."""
from __future__ import annotations

import datetime as dt
import itertools

from commsvc.relay.models import Call, Message
from commsvc.sessions.models import Participant, Session

REQUESTER = "+14155550101"
PRO = "+14155550202"
PROXY_R = "+16465550001"  # the requester texts this number to reach the pro
PROXY_P = "+16465550002"
STRANGER = "+14155550303"
_sids = itertools.count(1)


def add_session(db, *, now: dt.datetime, session_id: str = "ses_1",
                booking_id: str = "bk_1001", status: str = "open") -> Session:
    active = status == "open"
    session = Session(id=session_id, booking_id=booking_id, status=status, mode="sms_and_voice",
                      record_calls=False, created_at=now, expires_at=now + dt.timedelta(days=7))
    session.participants = [
        Participant(role="requester", phone=REQUESTER, proxy_number=PROXY_R,
                    counterpart_phone=PRO, active=active, created_at=now),
        Participant(role="pro", phone=PRO, proxy_number=PROXY_P, counterpart_phone=REQUESTER,
                    active=active, created_at=now),
    ]
    db.add(session)
    db.flush()
    return session


def add_message(db, *, now: dt.datetime, from_phone: str = REQUESTER, to_phone: str = PROXY_R,
                forward_to: str | None = PRO, body: str | None = "Is 9am ok?",
                session_id: str | None = "ses_1", booking_id: str | None = "bk_1001",
                status: str = "delivered", direction: str = "inbound",
                outcome: str = "forwarded", media_count: int = 0) -> Message:
    message = Message(
        session_id=session_id, booking_id=booking_id, direction=direction,
        from_phone=from_phone, to_phone=to_phone, body=body, media_count=media_count,
        twilio_sid=f"SM{next(_sids):032d}", outcome=outcome, forward_to=forward_to,
        forward_from=PROXY_P if forward_to else None, status=status, created_at=now,
        updated_at=now,
    )
    db.add(message)
    db.flush()
    return message


def add_call(db, *, now: dt.datetime, from_phone: str = REQUESTER, to_phone: str = PROXY_R,
             forward_to: str | None = PRO, session_id: str | None = "ses_1",
             booking_id: str | None = "bk_1001", status: str = "completed",
             duration: int | None = 65, recording_sid: str | None = None) -> Call:
    call = Call(
        session_id=session_id, booking_id=booking_id, direction="inbound",
        from_phone=from_phone, to_phone=to_phone, twilio_sid=f"CA{next(_sids):032d}",
        outcome="bridged", forward_to=forward_to, forward_from=PROXY_P if forward_to else None,
        status=status, duration_seconds=duration, recording_sid=recording_sid,
        recording_duration=duration if recording_sid else None,
        recording_status="completed" if recording_sid else None, created_at=now,
        updated_at=now,
    )
    db.add(call)
    db.flush()
    return call
