"""Erasure under a legal hold: held data stays, but the person's open sessions close all the
same, so nothing new is routed to or collected about them; the answer's reasons say what
happened and no more."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commsvc.records import holds
from commsvc.relay.models import Message
from commsvc.sessions.models import Participant
from commsvc.sessions.models import Session as ConversationSession
from commsvc.sessions.routing import find_route
from tests.records.test_retention import (
    DAY,
    PROXY_A,
    PROXY_B,
    REQUESTER,
    make_message,
    make_session,
)
from tests.records.test_subjects import OTHER, REASON


@pytest.fixture
def open_session(db, clock):
    """REQUESTER and OTHER in an open session of booking bk_a1, with one text so far."""
    session = make_session(db, created_at=clock() - DAY, booking_id="bk_a1", pro=OTHER,
                           status="open", ended_at=clock() + 5 * DAY)
    message = make_message(db, created_at=clock() - DAY, session=session, forward_to=OTHER)
    db.commit()
    return {"session": session.id, "message": message.id}


def _erase(client, api_key, phone=REQUESTER):
    response = client.post(f"/v1/subjects/{phone}/erase", headers={**api_key("privacy"),
                                                                  **REASON})
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize(("scope", "value"), [("booking", "bk_a1"), ("phone", REQUESTER),
                                              ("session", None)])
def test_erasure_closes_a_held_open_session_but_keeps_its_data(
        client, api_key, db, clock, open_session, scope, value):
    holds.place_hold(db, scope=scope, value=value or open_session["session"], reason="dispute",
                     actor="test", now=clock())
    db.commit()
    assert find_route(db, REQUESTER, PROXY_A, clock()) is not None

    result = _erase(client, api_key)

    assert set(result["removed"].values()) == {0}
    assert result["kept"]["held"]["sessions"] == 1
    assert result["kept"]["held"]["messages"] == 1
    db.expunge_all()
    session = db.get(ConversationSession, open_session["session"])
    assert (session.status, session.closed_reason) == ("closed", "erased")
    assert find_route(db, REQUESTER, PROXY_A, clock()) is None
    assert find_route(db, OTHER, PROXY_B, clock()) is None
    # Closing deletes nothing: the held record stays whole, numbers and all.
    assert {p.phone for p in session.participants} == {REQUESTER, OTHER}
    assert db.get(Message, open_session["message"]) is not None
    assert not db.scalar(select(func.count()).select_from(Participant)
                         .where(Participant.phone == REQUESTER, Participant.active))
    assert "closed 1 held sessions: their records stay under the hold, but nothing more is" \
           " routed to this number" in result["reasons"]


def test_a_first_erasure_that_a_hold_keeps_whole_does_not_claim_an_earlier_erasure(
        client, api_key, db, clock, open_session):
    holds.place_hold(db, scope="booking", value="bk_a1", reason="dispute", actor="test",
                     now=clock())
    db.commit()

    reasons = _erase(client, api_key)["reasons"]

    assert reasons[0] == "kept under an active legal hold: 1 messages, 1 sessions"
    assert not any("nothing more to remove" in r for r in reasons)
    assert not any("nothing to remove" in r for r in reasons)


def test_a_first_erasure_of_an_unknown_number_says_nothing_was_on_record(client, api_key):
    reasons = _erase(client, api_key, phone="+14155550909")["reasons"]

    assert reasons == ["nothing to remove: no messages, calls, texts or sessions on record for"
                       " this number"]


def test_a_second_erasure_under_a_hold_says_it_was_erased_before(
        client, api_key, db, clock, open_session):
    holds.place_hold(db, scope="booking", value="bk_a1", reason="dispute", actor="test",
                     now=clock())
    db.commit()
    _erase(client, api_key)

    reasons = _erase(client, api_key)["reasons"]

    assert "nothing more to remove: this number was erased before (1 earlier erasure)" in reasons
    assert not any(r.startswith("closed ") for r in reasons)  # already closed the first time
