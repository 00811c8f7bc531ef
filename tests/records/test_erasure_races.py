"""An erasure racing the person's own texts on PostgreSQL (real commits, two threads)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from commsvc.auth import service as keys
from commsvc.relay.models import Message
from commsvc.sending import service as sending_service
from tests.conftest import AUTH_TOKEN, BASE_URL, pool_and_booking_key
from tests.twilio_signing import TwilioPoster

pytestmark = pytest.mark.pg_only

REQUESTER, PRO = "+14155550101", "+14155550202"
SID = "SM" + "f" * 32


def test_texts_the_subject_sends_while_the_erasure_runs_are_not_forwarded_or_kept(
        committed_app, clock, monkeypatch):
    """Found by an audit: the relay reads committed sessions only, so during one long erasure
    transaction it kept forwarding the person's texts, and those rows outlived the erasure."""
    app = committed_app
    client = app.test_client()
    booking = pool_and_booking_key(app, clock, 2, first=16465550001)
    session = client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER}, "pro": {"phone": PRO}}).json
    proxy = session["requester"]["proxy_number"]
    answers = []

    def text_meanwhile(*args, **kwargs):
        poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
        thread = threading.Thread(target=lambda: answers.append(poster(
            "/webhooks/twilio/sms", {"From": REQUESTER, "To": proxy, "Body": "still there?",
                                     "NumMedia": "0", "MessageSid": SID})))
        thread.start()
        thread.join(timeout=10)
        return block_unsent(*args, **kwargs)

    block_unsent = sending_service.block_unsent
    monkeypatch.setattr(sending_service, "block_unsent", text_meanwhile)
    with app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    erased = client.post(f"/v1/subjects/{REQUESTER}/erase", headers={
        "Authorization": f"Bearer {raw}", "X-Access-Reason": "subject request #5"})
    assert erased.status_code == 200
    [answer] = answers
    assert answer.status_code == 200
    assert "still there?" not in answer.get_data(as_text=True)  # not forwarded to the pro
    with app.extensions["db"].sessionmaker() as db:
        assert db.scalars(select(Message.outcome).where(Message.twilio_sid == SID)).all() in (
            [], ["no_session"])
