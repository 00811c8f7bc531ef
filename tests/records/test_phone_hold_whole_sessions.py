"""A phone hold keeps the held person's sessions whole: a text or call addressed to them that
was never forwarded (they had opted out, the session took only calls) is part of the record
the hold keeps, through retention and through the erasure of the person who sent it."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.records import holds
from commsvc.records.models import RemoteDeletion
from commsvc.relay.models import Call, Message
from commsvc.sessions.models import Session as ConversationSession
from tests.records.test_retention import (
    DAY,
    PRO,
    REQUESTER,
    make_call,
    make_message,
    make_session,
    run,
)
from tests.records.test_subjects import REASON


def _blocked_to_pro(db, clock, days_old: int) -> dict:
    """An ended session of REQUESTER and PRO with a text and a call from the requester that
    never reached the pro (no forward_to), both `days_old` days old."""
    created = clock() - days_old * DAY
    session = make_session(db, created_at=created, booking_id="bk_blocked")
    message = make_message(db, created_at=created, session=session, forward_to=None)
    message.outcome = "blocked_consent_notified"
    call = make_call(db, created_at=created, session=session, forward_to=None, recording=False)
    call.outcome = "blocked_consent"
    db.flush()
    return {"session": session.id, "message": message.id, "call": call.id,
            "sids": {message.twilio_sid, call.twilio_sid}}


def test_a_phone_hold_keeps_texts_and_calls_of_the_held_persons_sessions_past_retention(
        app, db, clock):
    data = _blocked_to_pro(db, clock, days_old=800)
    holds.place_hold(db, scope="phone", value=PRO, reason="litigation", actor="test",
                     now=clock())
    db.commit()

    report = run(app, clock)

    db.expunge_all()
    assert db.get(ConversationSession, data["session"]) is not None  # held, as before
    assert db.get(Message, data["message"]) is not None
    assert db.get(Call, data["call"]) is not None
    assert report.counts["messages"] == report.counts["calls"] == 0
    assert not set(db.scalars(select(RemoteDeletion.sid))) & data["sids"]


def test_a_phone_hold_on_the_recipient_keeps_the_senders_unforwarded_texts_from_erasure(
        app, client, api_key, db, clock):
    data = _blocked_to_pro(db, clock, days_old=1)
    holds.place_hold(db, scope="phone", value=PRO, reason="litigation", actor="test",
                     now=clock())
    db.commit()

    response = client.post(f"/v1/subjects/{REQUESTER}/erase",
                           headers={**api_key("privacy"), **REASON})

    assert response.status_code == 200, response.json
    assert response.json["removed"]["messages"] == response.json["removed"]["calls"] == 0
    assert response.json["kept"]["held"]["messages"] == 1
    assert response.json["kept"]["held"]["calls"] == 1
    db.expunge_all()
    assert db.get(Message, data["message"]) is not None
    assert db.get(Call, data["call"]) is not None


def test_the_logs_show_a_held_persons_unforwarded_texts_past_retention(
        app, client, api_key, db, clock):
    data = _blocked_to_pro(db, clock, days_old=800)
    holds.place_hold(db, scope="phone", value=PRO, reason="litigation", actor="test",
                     now=clock())
    db.commit()

    rows = client.get("/v1/logs/messages?booking_id=bk_blocked", headers=api_key("ops")).json

    assert [row["id"] for row in rows["data"]] == [data["message"]]
