"""An erasure racing the person's own texts on PostgreSQL (real commits, two threads)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from commsvc.auth import service as keys
from commsvc.crypto import phone_hmac
from commsvc.errors import ServiceUnavailable
from commsvc.records import holds, remote, retention
from commsvc.records.models import AuditEvent, Erasure
from commsvc.relay.models import Message
from commsvc.sending import service as sending_service
from commsvc.sessions.models import Participant
from commsvc.sessions.models import Session as ConversationSession
from tests.concurrency import a_lock_wait_begins
from tests.conftest import AUTH_TOKEN, BASE_URL, pool_and_booking_key
from tests.twilio_signing import TwilioPoster

pytestmark = pytest.mark.pg_only

REQUESTER, PRO = "+14155550101", "+14155550202"
SID = "SM" + "f" * 32


def _erase_while(app, clock, monkeypatch, request):
    """Erase REQUESTER through the API, running `request` on another thread (its own commits)
    after routing stopped and the first pass ran; (the erasure's answer, the request's)."""
    answers = []

    def meanwhile(*args, **kwargs):
        thread = threading.Thread(target=lambda: answers.append(request()))
        thread.start()
        thread.join(timeout=10)
        return block_unsent(*args, **kwargs)

    block_unsent = sending_service.block_unsent
    monkeypatch.setattr(sending_service, "block_unsent", meanwhile)
    with app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    erased = app.test_client().post(f"/v1/subjects/{REQUESTER}/erase", headers={
        "Authorization": f"Bearer {raw}", "X-Access-Reason": "subject request #5"})
    [answer] = answers
    return erased, answer


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
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
    erased, answer = _erase_while(app, clock, monkeypatch, lambda: poster(
        "/webhooks/twilio/sms", {"From": REQUESTER, "To": proxy, "Body": "still there?",
                                 "NumMedia": "0", "MessageSid": SID}))
    assert erased.status_code == 200
    assert answer.status_code == 200
    assert "still there?" not in answer.get_data(as_text=True)  # not forwarded to the pro
    # Nor kept: stored with no session while the erasure ran, it is erased with the rest (a
    # later audit found such texts survived it, and a replay too).
    assert erased.json["removed"]["messages"] == 1
    with app.extensions["db"].sessionmaker() as db:
        assert db.scalars(select(Message.outcome).where(Message.twilio_sid == SID)).all() == []


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


def test_a_retention_run_finishes_while_a_hold_waits_for_an_erasure(committed_app, clock):
    """Found by a review: a hold waiting for a running erasure queues every later request for
    the holds' lock behind it, and the retention run's audit purge (which needs no hold) took
    it too, timed out and raised: no retention.run event, no Twilio deletions."""
    database = committed_app.extensions["db"]
    erasure = database.sessionmaker()
    holds.hold_still(erasure)  # an erasure is running
    placed = []

    def place():
        with committed_app.app_context(), database.sessionmaker() as db:
            try:
                holds.place_hold(db, scope="booking", value="bk_1", reason="litigation notice",
                                 actor="key:x", now=clock())
                db.commit()
                placed.append("placed")
            except ServiceUnavailable:
                placed.append("503")

    placer = threading.Thread(target=place)
    placer.start()
    try:
        assert a_lock_wait_begins(database.engine)  # the hold now waits for the erasure
        report = retention.run(database, retention=committed_app.extensions["config"].retention,
                               now=clock())
    finally:
        erasure.rollback()
        erasure.close()
        placer.join(10)
    assert report is not None and "audit_events" not in report.interrupted
    assert placed in (["placed"], ["503"])
    with database.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == retention.RUN_ACTION)) == 1


def test_a_hold_waits_a_while_for_a_running_erasure_then_answers_503(
        committed_app, clock, monkeypatch):
    monkeypatch.setattr(holds, "PLACING_LOCK_WAIT", "300ms")
    database = committed_app.extensions["db"]
    with database.sessionmaker() as db:
        _, legal = keys.create_key(db, name="legal", role="privacy", now=clock())
        db.commit()
    client = committed_app.test_client()
    hold = {"scope": "booking", "value": "bk_77", "reason": "litigation notice 12"}
    headers = {"Authorization": f"Bearer {legal}"}
    erasure = database.sessionmaker()
    holds.hold_still(erasure)
    try:
        busy = client.post("/v1/holds", headers=headers, json=hold)
    finally:
        erasure.rollback()
        erasure.close()
    assert busy.status_code == 503 and busy.mimetype == "application/problem+json"
    assert "not placed" in busy.json["detail"]
    assert client.post("/v1/holds", headers=headers, json=hold).status_code == 201


def test_a_session_opened_for_the_person_during_their_erasure_is_closed_not_left_on_a_tombstone(
        committed_app, clock, monkeypatch):
    """Found by a review: a session the booking app opened after routing stopped stayed open
    with the person's number turned into a tombstone, and the pro's texts were forwarded to
    "erased:…" (calls dialled it)."""
    app, other_pro = committed_app, "+14155550303"
    client = app.test_client()
    booking = pool_and_booking_key(app, clock, 4, first=16465550001)
    client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER}, "pro": {"phone": PRO}})
    erased, new = _erase_while(app, clock, monkeypatch, lambda: app.test_client().post(
        "/v1/sessions", headers=booking, json={
            "booking_id": "bk_2", "requester": {"phone": REQUESTER}, "pro": {"phone": other_pro}}))
    assert erased.status_code == 200, erased.json
    assert new.status_code == 201, new.json
    with app.extensions["db"].sessionmaker() as db:
        session = db.get(ConversationSession, new.json["id"])
        assert (session.status, session.closed_reason) == ("closed", "erased")
        assert {p.role: p.phone for p in session.participants}["requester"].startswith("erased:")
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
    answer = poster("/webhooks/twilio/sms", {
        "From": other_pro, "To": new.json["pro"]["proxy_number"], "Body": "On my way",
        "NumMedia": "0", "MessageSid": "SM" + "e" * 32})
    assert answer.status_code == 200
    assert "<Message to=" not in answer.get_data(as_text=True)  # a reply at most, no forward


def test_a_hold_lifted_while_the_erasure_runs_still_loses_the_number(
        committed_app, clock, monkeypatch):
    """Found by a review of 188d5d0: the erasure takes the number out of the holds lifted when
    it looks (forget_lifted), the lift out of its hold when the ledger holds the number; a lift
    committed between the two (the erasure not yet committed) did neither, and the lifted
    hold kept the erased person's number in full."""
    from commsvc.records import subjects

    app = committed_app
    with app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    privacy = {"Authorization": f"Bearer {raw}"}
    client = app.test_client()
    hold_id = client.post("/v1/holds", headers=privacy, json={
        "scope": "phone", "value": REQUESTER, "reason": "case 9"}).json["id"]
    lifts = []

    def then_lift(*args, **kwargs):
        looked = forget_lifted(*args, **kwargs)  # the hold is in force: kept whole
        thread = threading.Thread(target=lambda: lifts.append(
            app.test_client().delete(f"/v1/holds/{hold_id}", headers=privacy)))
        thread.start()
        thread.join(timeout=1)  # done by now, unless it waits for this erasure to commit
        lifts.append(thread)
        return looked

    forget_lifted = subjects.forget_lifted
    monkeypatch.setattr(subjects, "forget_lifted", then_lift)
    erased = client.post(f"/v1/subjects/{REQUESTER}/erase",
                         headers={**privacy, "X-Access-Reason": "subject request #6"})
    thread = next(item for item in lifts if isinstance(item, threading.Thread))
    thread.join(timeout=10)

    assert erased.status_code == 200
    [lifted] = [item for item in lifts if not isinstance(item, threading.Thread)]
    assert lifted.status_code == 200 and lifted.json["value"] is None
    with app.extensions["db"].sessionmaker() as db:
        assert db.get(holds.LegalHold, hold_id).value.startswith("erased:")


def test_a_second_erasure_of_the_number_at_the_same_time_waits_and_says_it_was_erased_before(
        committed_app, clock, monkeypatch):
    """Found by an audit: two erasures of one number at once (a double-submitted DSAR form)
    both counted its participation (each answered and ledgered `removed.sessions: 1`), and
    the second, having waited on rows the first had locked, answered "nothing to remove: no
    messages, calls, texts or sessions on record for this number". The second now waits for
    the first to commit, then finds it in the ledger and nothing left to remove."""
    from commsvc.records import subjects

    app = committed_app
    client = app.test_client()
    booking = pool_and_booking_key(app, clock, 2, first=16465550001)
    assert client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_1", "requester": {"phone": REQUESTER}, "pro": {"phone": PRO}}
    ).status_code == 201
    with app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        db.commit()
    headers = {"Authorization": f"Bearer {raw}", "X-Access-Reason": "subject request #7"}
    seconds = []

    def then_erase_again(*args, **kwargs):  # the first has tombstoned the participant rows
        thread = threading.Thread(target=lambda: seconds.append(
            app.test_client().post(f"/v1/subjects/{REQUESTER}/erase", headers=headers)))
        thread.start()
        thread.join(timeout=1)  # time to reach where it waits for the first (its locks)
        seconds.append(thread)
        return forget_lifted(*args, **kwargs)

    forget_lifted = subjects.forget_lifted
    monkeypatch.setattr(subjects, "forget_lifted", then_erase_again)
    first = client.post(f"/v1/subjects/{REQUESTER}/erase", headers=headers)
    monkeypatch.setattr(subjects, "forget_lifted", forget_lifted)
    next(item for item in seconds if isinstance(item, threading.Thread)).join(timeout=10)

    assert first.status_code == 200 and first.json["removed"]["sessions"] == 1
    [second] = [item for item in seconds if not isinstance(item, threading.Thread)]
    assert second.status_code == 200
    assert not any(second.json["removed"].values()), second.json
    assert second.json["reasons"] == [
        "nothing more to remove: this number was erased before (1 earlier erasure)"]
    with app.extensions["db"].sessionmaker() as db:
        ledger = db.scalars(select(Erasure.result).order_by(Erasure.id)).all()
    assert [entry["removed"]["sessions"] for entry in ledger] == [1, 0]
