"""An erasure racing the person's own texts on PostgreSQL (real commits, two threads)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from commsvc.auth import service as keys
from commsvc.crypto import phone_hmac
from commsvc.records import remote
from commsvc.records.models import Erasure
from commsvc.relay.models import Message
from commsvc.sending import service as sending_service
from commsvc.sessions.models import Participant
from commsvc.sessions.models import Session as ConversationSession
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


def test_a_replay_stops_routing_before_it_erases(committed_app, clock, config,
                                                 monkeypatch):
    """Found by a review: `erasures replay` closed a restored session inside its one long
    transaction, so the person's texts were forwarded and kept while it ran (the API's erasure
    commits the close first)."""
    app = committed_app
    client = app.test_client()
    booking = pool_and_booking_key(app, clock, 2, first=16465550001)
    # What a backup restore brings back: the open session, and the ledger's later erasure.
    session = client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER}, "pro": {"phone": PRO}}).json
    clock.advance(minutes=5)
    with app.extensions["db"].sessionmaker() as db:
        db.add(Erasure(subject_hmac=phone_hmac(config.hmac_key, REQUESTER), requested_by="x",
                       reason="subject request #1", created_at=clock(), result={}))
        db.commit()
    clock.advance(days=1)
    answers = []

    def text_meanwhile(*args, **kwargs):
        poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
        thread = threading.Thread(target=lambda: answers.append(poster(
            "/webhooks/twilio/sms", {"From": REQUESTER, "To": session["requester"]["proxy_number"],
                                     "Body": "my new address is 12 Elm St", "NumMedia": "0",
                                     "MessageSid": SID})))
        thread.start()
        thread.join(timeout=10)
        return block_unsent(*args, **kwargs)

    block_unsent = sending_service.block_unsent
    monkeypatch.setattr(sending_service, "block_unsent", text_meanwhile)
    result = app.test_cli_runner().invoke(args=["erasures", "replay"])
    assert result.exit_code == 0, result.output
    assert "1 found again and erased" in result.output
    [answer] = answers
    assert "12 Elm St" not in answer.get_data(as_text=True)  # not forwarded to the pro
    with app.extensions["db"].sessionmaker() as db:
        assert db.scalars(select(Message.outcome).where(Message.twilio_sid == SID)).all() in (
            [], ["no_session"])
        closed = db.get(ConversationSession, session["id"])
        assert (closed.status, closed.closed_reason) == ("closed", "erased")


def test_a_hold_placed_while_an_erasure_runs_keeps_all_it_covers_or_comes_after_it(
        committed_app, clock, monkeypatch):
    """Found by a review: an erasure chose the rows holds left free, a hold on the booking was
    placed (201) meanwhile, and the erasure deleted the booking's messages yet kept its
    participants "under the hold". A hold now waits for a running erasure to commit."""
    app = committed_app
    client = app.test_client()
    booking = pool_and_booking_key(app, clock, 2, first=16465550001)
    session = client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_77", "requester": {"phone": REQUESTER}, "pro": {"phone": PRO}}).json
    poster = TwilioPoster(client, AUTH_TOKEN, BASE_URL)
    assert poster("/webhooks/twilio/sms", {
        "From": REQUESTER, "To": session["requester"]["proxy_number"],
        "Body": "the leak is under the sink", "NumMedia": "0",
        "MessageSid": SID}).status_code == 200
    with app.extensions["db"].sessionmaker() as db:
        _, privacy = keys.create_key(db, name="privacy", role="privacy", now=clock())
        _, legal = keys.create_key(db, name="legal", role="privacy", now=clock())
        db.commit()
    holds, threads = [], []
    enqueue_many = remote.enqueue_many

    def hold_placed_meanwhile(*args, **kwargs):
        # The erasure has chosen its rows and not deleted them yet.
        if not threads:
            other = app.test_client()
            threads.append(threading.Thread(target=lambda: holds.append(other.post(
                "/v1/holds", headers={"Authorization": f"Bearer {legal}"},
                json={"scope": "booking", "value": "bk_77", "reason": "litigation notice 12"}))))
            threads[0].start()
            threads[0].join(timeout=2)  # long enough for the hold's commit, were it not held up
        return enqueue_many(*args, **kwargs)

    monkeypatch.setattr(remote, "enqueue_many", hold_placed_meanwhile)
    erased = client.post(f"/v1/subjects/{REQUESTER}/erase", headers={
        "Authorization": f"Bearer {privacy}", "X-Access-Reason": "subject request #9"})
    assert erased.status_code == 200
    threads[0].join(timeout=30)
    assert [hold.status_code for hold in holds] == [201]
    with app.extensions["db"].sessionmaker() as db:
        messages = db.scalars(select(Message.body).where(Message.booking_id == "bk_77")).all()
        phones = sorted(db.scalars(select(Participant.phone)
                                   .where(Participant.session_id == session["id"])))
    # All of the booking kept (the hold came first) or none of the subject's (it came after),
    # and the erasure's answer says which.
    if messages:
        assert phones == [REQUESTER, PRO] and erased.json["kept"]["held"]["messages"] == 1
    else:
        assert REQUESTER not in phones and erased.json["kept"]["held"]["sessions"] == 0
