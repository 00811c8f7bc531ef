"""A webhook repeated with the same MessageSid or CallSid: same answer, nothing done twice."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from commsvc import crypto
from tests.conftest import AUTH_TOKEN, BASE_URL, TEST_KEY
from tests.twilio_signing import TwilioPoster
from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, PRO_PROXY, REQUESTER, REQUESTER_PROXY, STRANGER


def test_repeated_text_gets_the_same_twiml_and_is_stored_once(
        session_open, send_sms, db, twilio):
    sid = f.sid("SM")
    first = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid,
                     media=["https://example.com/a.jpg"])
    second = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid,
                      media=["https://example.com/a.jpg"])

    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert f"to=\"{PRO}\"".encode() in first.data
    assert len(f.messages(db)) == 1
    assert twilio.sent == [] and twilio.deleted == []


def test_a_repeat_answered_without_the_bodys_key_forwards_the_text_not_a_placeholder(
        session_open, send_sms, db):
    sid, media = f.sid("SM"), ["https://example.com/a.jpg"]
    first = send_sms(REQUESTER, REQUESTER_PROXY, "The gate code is 4321", sid=sid, media=media)
    # A process mid-rotation, without the key the text was stored under (another process's).
    crypto.install(crypto.Keyring((Fernet.generate_key().decode(),)))
    try:
        repeat = send_sms(REQUESTER, REQUESTER_PROXY, "The gate code is 4321", sid=sid,
                          media=media)
    finally:
        crypto.install(crypto.Keyring((TEST_KEY,)))
    assert repeat.status_code == 200
    assert repeat.data == first.data
    assert b"unavailable" not in repeat.data
    assert len(f.messages(db)) == 1


def test_repeated_no_session_text_is_answered_alike_and_stored_once(send_sms, db):
    sid = f.sid("SM")
    first = send_sms(STRANGER, REQUESTER_PROXY, "hi", sid=sid)
    second = send_sms(STRANGER, REQUESTER_PROXY, "hi", sid=sid)

    assert first.data == second.data
    assert len(f.messages(db)) == 1


@pytest.mark.parametrize("sender", [REQUESTER, STRANGER], ids=["forwarded", "no-session"])
def test_a_text_repeated_after_its_sender_was_erased_is_not_stored_again(
        session_open, send_sms, db, client, api_key, sender):
    """Found by an audit: the erased number's text was stored again by a repeated webhook."""
    sid = f.sid("SM")
    send_sms(sender, REQUESTER_PROXY, "See you at 9", sid=sid)
    erased = client.post(f"/v1/subjects/{sender}/erase",
                         headers={**api_key("privacy"), "X-Access-Reason": "DSAR 1"})
    assert erased.status_code == 200 and erased.json["removed"]["messages"] == 1

    again = send_sms(sender, REQUESTER_PROXY, "See you at 9", sid=sid)

    assert list(f.twiml(again)) == []  # nothing forwarded, nothing answered
    assert f.messages(db) == []


@pytest.mark.parametrize("caller", [REQUESTER, STRANGER], ids=["bridged", "no-session"])
def test_a_call_repeated_after_its_caller_was_erased_is_not_stored_again(
        session_open, place_call, db, client, api_key, twilio, caller):
    """Left open by the last session: call SIDs were not kept, so a repeated voice webhook
    stored the erased person's call again."""
    sid = f.sid("CA")
    place_call(caller, REQUESTER_PROXY, sid=sid)
    erased = client.post(f"/v1/subjects/{caller}/erase",
                         headers={**api_key("privacy"), "X-Access-Reason": "DSAR 1"})
    assert erased.status_code == 200 and erased.json["removed"]["calls"] == 1
    assert ("call", sid) in db.execute(sa.text("SELECT resource, sid FROM remote_deletions")).all()

    again = place_call(caller, REQUESTER_PROXY, sid=sid)

    assert [element.tag for element in f.twiml(again)] == ["Say", "Hangup"]  # no <Dial>
    assert f.calls(db) == []


def test_a_call_whose_claimed_row_an_erasure_removed_meanwhile_is_answered_not_a_500(
        session_open, place_call, db, monkeypatch):
    """Found by a review: a repeat that lost the claim read the row with .one(), and an
    erasure committed between the two (nothing stored under the SID any more) made it a 500.
    The claim losing with no row left is what that race looks like to this request."""
    from commsvc.relay import service

    monkeypatch.setattr(service, "insert_once", lambda *args, **kwargs: None)

    root = f.twiml(place_call(REQUESTER, REQUESTER_PROXY))

    assert [element.tag for element in root] == ["Say", "Hangup"]
    assert f.calls(db) == []


def test_repeated_stop_is_recorded_once(session_open, send_sms, db):
    sid = f.sid("SM")
    first = send_sms(PRO, "+16465550002", "STOP", sid=sid)
    events_after_first = db.scalar(sa.text("SELECT count(*) FROM consent_events"))
    second = send_sms(PRO, "+16465550002", "STOP", sid=sid)

    assert first.data == second.data
    assert [m.outcome for m in f.messages(db)] == ["opt_out"]
    assert events_after_first > 0
    assert db.scalar(sa.text("SELECT count(*) FROM consent_events")) == events_after_first


def test_repeated_call_gets_the_same_twiml_and_is_stored_once(
        db, clock, place_call, twilio):
    f.open_session(db, clock(), record_calls=True)
    sid = f.sid("CA")

    first = place_call(REQUESTER, REQUESTER_PROXY, sid=sid)
    second = place_call(REQUESTER, REQUESTER_PROXY, sid=sid)

    assert first.data == second.data and b"<Dial" in first.data
    assert len(f.calls(db)) == 1
    assert twilio.sent == []


def test_repeated_sid_is_answered_from_the_stored_record_even_if_the_session_closed(
        session_open, send_sms, db, clock):
    sid = f.sid("SM")
    first = send_sms(REQUESTER, REQUESTER_PROXY, "hello", sid=sid)
    f.close_session(db, session_open, clock())

    second = send_sms(REQUESTER, REQUESTER_PROXY, "hello", sid=sid)

    assert first.data == second.data
    assert len(f.messages(db)) == 1


def test_a_repeat_forwards_nothing_to_a_recipient_who_texted_stop_since(
        session_open, send_sms, db):
    """Found by an audit: the repeat re-sent the stored <Message> to a pro who had texted STOP
    in between. Twilio repeats only a webhook whose answer it did not get, so that answer's
    message would have reached them for the first time, after their STOP."""
    sid = f.sid("SM")
    first = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)
    assert f"to=\"{PRO}\"".encode() in first.data
    send_sms(PRO, PRO_PROXY, "STOP")

    again = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)

    assert again.status_code == 200 and list(f.twiml(again)) == []
    assert sorted(m.outcome for m in f.messages(db)) == ["forwarded", "opt_out"]


def test_a_repeat_forwards_nothing_to_a_recipient_erased_since(
        session_open, send_sms, db, client, api_key):
    """Found by an audit: a hold on the sender kept the text through the pro's erasure, and its
    repeat re-sent it to the erased pro's number."""
    privacy = {**api_key("privacy"), "X-Access-Reason": "DSAR 1"}
    sid = f.sid("SM")
    send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)
    held = client.post("/v1/holds", headers=privacy,
                       json={"scope": "phone", "value": REQUESTER, "reason": "Claim 7"})
    assert held.status_code == 201
    erased = client.post(f"/v1/subjects/{PRO}/erase", headers=privacy)
    assert erased.status_code == 200, erased.json

    again = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)

    assert again.status_code == 200 and list(f.twiml(again)) == []
    assert len(f.messages(db)) == 1


def test_a_repeat_still_forwards_when_the_recipient_only_stopped_marketing(
        session_open, send_sms, db, client, api_key):
    """What a revocation of marketing leaves alone: relayed texts still reach the pro."""
    sid = f.sid("SM")
    first = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)
    revoked = client.post(f"/v1/consent/{PRO}", headers=api_key("booking"), json={
        "channel": "sms", "purpose": "marketing", "action": "revoke", "source": "support",
        "evidence": {"ticket": "T-1"}})
    assert revoked.status_code == 201, revoked.json

    again = send_sms(REQUESTER, REQUESTER_PROXY, "See you at 9", sid=sid)

    assert again.data == first.data


def test_a_repeated_call_bridges_nothing_to_a_recipient_who_revoked_calls_since(
        session_open, place_call, db, client, api_key):
    """The voice side of the audit's finding: a repeat re-sent the stored <Dial> to a pro who
    had revoked calls in between."""
    sid = f.sid("CA")
    first = place_call(REQUESTER, REQUESTER_PROXY, sid=sid)
    assert b"<Dial" in first.data
    revoked = client.post(f"/v1/consent/{PRO}", headers=api_key("booking"), json={
        "channel": "voice", "purpose": "relay", "action": "revoke", "source": "support",
        "evidence": {"ticket": "T-2"}})
    assert revoked.status_code == 201, revoked.json

    again = place_call(REQUESTER, REQUESTER_PROXY, sid=sid)

    assert [element.tag for element in f.twiml(again)] == ["Say", "Hangup"]  # no <Dial>
    assert b"cannot be connected" in again.data
    assert len(f.calls(db)) == 1


def _post_concurrently(app, path: str, params, copies: int) -> list:
    """POST the form (or form(index), when params is callable) from `copies` threads at once."""
    barrier = threading.Barrier(copies, timeout=20)
    responses: list = [None] * copies

    def post(index: int) -> None:
        poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
        form = params(index) if callable(params) else params
        barrier.wait()
        responses[index] = poster(path, form)

    threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


@pytest.mark.pg_only
def test_ten_simultaneous_copies_of_a_text_store_one_row_and_answer_identically(
        committed_app, clock, twilio):
    with committed_app.extensions["db"].sessionmaker() as db:
        f.open_session(db, clock())
    params = {"From": REQUESTER, "To": REQUESTER_PROXY, "Body": "only once please",
              "MessageSid": f.sid("SM"), "NumMedia": "0"}

    responses = _post_concurrently(committed_app, "/webhooks/twilio/sms", params, 10)

    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.data for r in responses}) == 1
    assert f"to=\"{PRO}\"".encode() in responses[0].data
    with committed_app.extensions["db"].engine.connect() as conn:
        rows = conn.scalar(sa.text("SELECT count(*) FROM messages WHERE twilio_sid = :s"),
                           {"s": params["MessageSid"]})
    assert rows == 1
    assert twilio.sent == []


@pytest.mark.pg_only
def test_ten_simultaneous_copies_of_a_call_store_one_row_and_answer_identically(
        committed_app, clock):
    with committed_app.extensions["db"].sessionmaker() as db:
        f.open_session(db, clock())
    params = {"From": REQUESTER, "To": REQUESTER_PROXY, "CallSid": f.sid("CA"),
              "CallStatus": "ringing"}

    responses = _post_concurrently(committed_app, "/webhooks/twilio/voice", params, 10)

    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.data for r in responses}) == 1
    with committed_app.extensions["db"].engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM calls")) == 1


@pytest.mark.pg_only
def test_two_stops_at_once_from_one_phone_are_one_opt_out_and_one_repeat(committed_app):
    """Different MessageSids, same sender, same instant: one opt_out, one repeat, each
    confirmed."""
    for round_ in range(5):
        sender = f"+1415555{round_ + 300:04d}"
        barrier = threading.Barrier(2, timeout=20)
        responses: list = [None, None]

        def post(index: int, sender=sender, barrier=barrier, responses=responses) -> None:
            poster = TwilioPoster(committed_app.test_client(), AUTH_TOKEN, BASE_URL)
            params = {"From": sender, "To": REQUESTER_PROXY, "Body": "STOP",
                      "MessageSid": f.sid("SM"), "NumMedia": "0"}
            barrier.wait()
            responses[index] = poster("/webhooks/twilio/sms", params)

        threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert [r.status_code for r in responses] == [200, 200]
        assert sum(b"<Message" in r.data for r in responses) == 2, round_
        with committed_app.extensions["db"].engine.connect() as conn:
            outcomes = sorted(conn.scalars(sa.text(
                "SELECT outcome FROM messages WHERE from_phone = :p"), {"p": sender}))
        assert outcomes == ["opt_out", "opt_out_repeat"], round_


@pytest.mark.pg_only
def test_ten_texts_at_once_to_someone_who_revoked_tell_their_sender_once(
        committed_app, clock):
    """"Could not be delivered" goes once per session and revocation; checked and then inserted
    in two statements, two texts arriving together were both told (a black-box audit saw it in
    5 runs of 16). Each round is a new revocation, so its sender is told once again."""
    from commsvc.consent import service as consent_service

    with committed_app.extensions["db"].sessionmaker() as db:
        f.open_session(db, clock())
    for round_ in range(4):
        clock.advance(seconds=1)  # a revocation is named by when it began
        with committed_app.extensions["db"].sessionmaker() as db:
            for action in (("grant", "revoke") if round_ else ("revoke",)):
                consent_service.record_event(db, phone=REQUESTER, channel="sms", purpose="relay",
                                             action=action, source="sms_keyword", evidence={},
                                             now=clock())
            db.commit()
        responses = _post_concurrently(committed_app, "/webhooks/twilio/sms", lambda index: {
            "From": PRO, "To": f.PRO_PROXY, "Body": f"text {index}",
            "MessageSid": f.sid("SM"), "NumMedia": "0"}, 10)

        assert [r.status_code for r in responses] == [200] * 10
        told = [r for r in responses if b"could not be delivered" in r.data]
        assert len(told) == 1, round_
        with committed_app.extensions["db"].engine.connect() as conn:
            outcomes = conn.execute(sa.text(
                "SELECT outcome, count(*) FROM messages WHERE from_phone = :p"
                " AND body IS NOT NULL GROUP BY outcome"), {"p": PRO}).all()
        assert dict(outcomes)["blocked_consent_notified"] == round_ + 1


@pytest.mark.pg_only
def test_texts_at_once_from_a_stranger_are_told_the_conversation_ended_once(committed_app):
    """"Conversation has ended" goes once a day per sender and number; read and then stored in
    two statements, texts arriving together (a photo and its caption come as two webhooks) were
    each told (a black-box audit saw two replies in 8 rounds of 20)."""
    for round_ in range(5):
        sender = f"+1415555{round_ + 700:04d}"
        def text(index: int, sender: str = sender) -> dict:
            return {"From": sender, "To": REQUESTER_PROXY, "Body": f"hello {index}",
                    "MessageSid": f.sid("SM"), "NumMedia": "0"}

        responses = _post_concurrently(committed_app, "/webhooks/twilio/sms", text, 8)

        assert [r.status_code for r in responses] == [200] * 8
        assert sum(b"has ended" in r.data for r in responses) == 1, round_
        with committed_app.extensions["db"].engine.connect() as conn:
            outcomes = dict(conn.execute(sa.text(
                "SELECT outcome, count(*) FROM messages WHERE from_phone = :p GROUP BY outcome"),
                {"p": sender}).all())
        assert outcomes == {"no_session": 1, "no_session_untold": 7}, round_
