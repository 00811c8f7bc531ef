"""A repeated webhook after an erasure: it never reaches the erased recipient, however their
session ended, and still reaches a recipient who was not erased (found by a review of the
first version, which read an erasure from the session's closed_reason)."""
from __future__ import annotations

import pytest

from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, REQUESTER, REQUESTER_PROXY


def _privacy(api_key):
    return {**api_key("privacy"), "X-Access-Reason": "DSAR 1"}


@pytest.mark.parametrize("hold_on", [REQUESTER, PRO])
def test_text_repeat_after_normal_close_then_recipient_erased_is_withheld(
        session_open, send_sms, db, client, api_key, clock, hold_on):
    """The session closed normally before the pro was erased; a hold kept the text and the
    participants' numbers."""
    sid = f.sid("SM")
    first = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)
    assert f'to="{PRO}"'.encode() in first.data
    f.close_session(db, session_open, clock())
    held = client.post("/v1/holds", headers=_privacy(api_key),
                       json={"scope": "phone", "value": hold_on, "reason": "Claim 7"})
    assert held.status_code == 201
    erased = client.post(f"/v1/subjects/{PRO}/erase", headers=_privacy(api_key))
    assert erased.status_code == 200, erased.json

    again = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)

    assert f'to="{PRO}"'.encode() not in again.data, again.data
    assert list(f.twiml(again)) == []


def test_call_repeat_after_normal_close_then_callee_erased_is_not_bridged(
        session_open, place_call, db, client, api_key, clock):
    sid = f.sid("CA")
    first = place_call(REQUESTER, REQUESTER_PROXY, sid=sid)
    assert b"<Dial" in first.data
    f.close_session(db, session_open, clock())
    assert client.post("/v1/holds", headers=_privacy(api_key), json={
        "scope": "phone", "value": REQUESTER, "reason": "Claim 7"}).status_code == 201
    assert client.post(f"/v1/subjects/{PRO}/erase", headers=_privacy(api_key)).status_code == 200

    again = place_call(REQUESTER, REQUESTER_PROXY, sid=sid)

    assert b"<Dial" not in again.data, again.data


def test_text_repeat_after_the_sender_was_erased_still_reaches_the_recipient(
        session_open, send_sms, db, client, api_key):
    """The sender was erased (a hold on the session kept the text): the pro, neither erased
    nor revoked, is answered as the first time."""
    sid = f.sid("SM")
    first = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)
    assert client.post("/v1/holds", headers=_privacy(api_key), json={
        "scope": "session", "value": session_open.id, "reason": "Claim 7"}).status_code == 201
    erased = client.post(f"/v1/subjects/{REQUESTER}/erase", headers=_privacy(api_key))
    assert erased.status_code == 200, erased.json

    again = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)

    assert again.data == first.data


@pytest.mark.parametrize("swept", [False, True], ids=["expired-unswept", "expired-swept"])
def test_an_expired_sessions_repeat_after_the_recipients_erasure_is_withheld_swept_or_not(
        session_open, send_sms, db, client, api_key, clock, swept):
    """Whether the expiry sweep ran before the erasure makes no difference."""
    from commsvc.sessions import ending
    sid = f.sid("SM")
    send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)
    clock.advance(days=8)
    if swept:
        assert ending.sweep_expired(db, clock()) == 1
        db.commit()
    assert client.post("/v1/holds", headers=_privacy(api_key), json={
        "scope": "phone", "value": REQUESTER, "reason": "Claim 7"}).status_code == 201
    assert client.post(f"/v1/subjects/{PRO}/erase", headers=_privacy(api_key)).status_code == 200
    again = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)
    assert list(f.twiml(again)) == [], again.data
