"""Inbound texts: relayed both ways through proxy numbers, or answered with the no-session reply."""
from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from commsvc.config.loader import load_config
from commsvc.consent import messages
from commsvc.consent import service as consent
from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, PRO_PROXY, REQUESTER, REQUESTER_PROXY, STRANGER, twiml

BASE = "https://commsvc.example.com"


def test_requester_text_is_forwarded_to_the_pro_from_the_pros_proxy(session_open, send_sms, db):
    root = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "Is 9am still good?"))

    [message] = root
    stored = f.messages(db)[0]
    assert message.tag == "Message"
    assert message.get("to") == PRO
    assert message.get("from") == PRO_PROXY
    assert message.get("statusCallback") == (
        f"{BASE}/webhooks/twilio/message-status?m={stored.id}&s={stored.twilio_sid}")
    assert message.find("Body").text == "Is 9am still good?"
    assert (stored.outcome, stored.status, stored.direction) == ("forwarded", "received", "inbound")
    assert (stored.from_phone, stored.to_phone) == (REQUESTER, REQUESTER_PROXY)
    assert (stored.forward_to, stored.forward_from) == (PRO, PRO_PROXY)
    assert stored.session_id == session_open.id and stored.booking_id == "bk_1001"
    assert stored.body == "Is 9am still good?" and stored.media_count == 0


def test_pro_reply_is_forwarded_to_the_requester_from_the_requesters_proxy(
        session_open, send_sms, db):
    [message] = twiml(send_sms(PRO, PRO_PROXY, "Yes, see you then"))

    assert (message.get("to"), message.get("from")) == (REQUESTER, REQUESTER_PROXY)
    assert message.find("Body").text == "Yes, see you then"
    assert f.messages(db)[0].twilio_sid.startswith("SM")


def test_media_is_forwarded_as_media_elements_and_counted(session_open, send_sms, db):
    photos = ["https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
              "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2"]
    [message] = twiml(send_sms(PRO, PRO_PROXY, "The leak", media=photos))

    assert [m.text for m in message.findall("Media")] == photos
    stored = f.messages(db)[0]
    assert stored.media_count == 2
    assert json.loads(stored.media_urls) == photos


def test_media_without_text_is_forwarded_without_a_body(session_open, send_sms):
    [message] = twiml(send_sms(PRO, PRO_PROXY, "", media=["https://example.com/a.jpg"]))

    assert message.find("Body") is None
    assert message.find("Media").text == "https://example.com/a.jpg"


def test_stranger_gets_the_no_session_reply_and_nothing_is_forwarded(
        session_open, send_sms, db, config):
    [reply] = twiml(send_sms(STRANGER, REQUESTER_PROXY, "who is this?"))

    assert reply.get("to") is None  # answers the sender only
    assert reply.text == config.no_session_sms_reply
    stored = f.messages(db)[0]
    assert (stored.outcome, stored.session_id, stored.forward_to) == ("no_session", None, None)
    assert stored.body == "who is this?"


def test_a_text_from_one_of_our_numbers_gets_no_reply_so_two_never_answer_each_other(
        session_open, send_sms, db):
    # A "conversation has ended" to our own number would come back as its own no-session
    # text, and the two numbers would answer each other (and Twilio bill each text) forever.
    root = twiml(send_sms(PRO_PROXY, REQUESTER_PROXY, "hello"))

    assert list(root) == []
    assert f.messages(db)[0].outcome == "no_session_untold"


def test_a_keyword_from_one_of_our_numbers_gets_no_reply_so_two_never_confirm_each_other(
        session_open, send_sms, db):
    """Reproduced on a running server: our English STOP confirmation ("...will receive no more
    texts from us") reads as a revocation, so a STOP from one pool number to another was
    confirmed, the confirmation confirmed back, and so on without end (each one billed), while
    revocations were recorded for numbers that are no one's."""
    from commsvc.consent.models import ConsentEvent

    body = "STOP"
    for from_, to in [(PRO_PROXY, REQUESTER_PROXY), (REQUESTER_PROXY, PRO_PROXY)] * 2:
        root = twiml(send_sms(from_, to, body))
        assert list(root) == []
        body = "HomePros: You are unsubscribed and will receive no more texts from us."
    for word in ("HELP", "START"):
        assert list(twiml(send_sms(PRO_PROXY, REQUESTER_PROXY, word))) == []

    assert {m.outcome for m in f.messages(db)} == {"no_session_untold"}
    assert db.scalars(select(ConsentEvent)).all() == []


def test_a_retired_pool_number_may_be_a_persons_now_and_gets_the_no_session_reply(
        session_open, send_sms, db, clock, config):
    """Found by a review: the no-reply rule for our own numbers also silenced retired ones,
    which have left the account and may be someone's phone."""
    from commsvc.pool import service as pool

    f.close_session(db, session_open, clock())
    pool.retire_number(db, PRO_PROXY, actor="test", now=clock())
    db.commit()

    [reply] = twiml(send_sms(PRO_PROXY, REQUESTER_PROXY, "hello?"))

    assert reply.text == config.no_session_sms_reply


def test_participant_texting_the_other_sides_proxy_is_not_routed(session_open, send_sms, db):
    # The requester's pairing is with REQUESTER_PROXY only (the routing rule is per pair).
    [reply] = twiml(send_sms(REQUESTER, PRO_PROXY, "hello"))

    assert reply.get("to") is None
    assert f.messages(db)[0].outcome == "no_session"


def test_closed_session_relays_nothing(session_open, send_sms, db, clock, config):
    f.close_session(db, session_open, clock())

    [reply] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "still there?"))

    assert reply.text == config.no_session_sms_reply
    assert f.messages(db)[0].outcome == "no_session"


def test_session_past_expiry_relays_nothing_without_any_sweep(
        session_open, send_sms, db, clock, config):
    clock.advance(days=7, seconds=1)

    [reply] = twiml(send_sms(PRO, PRO_PROXY, "running late"))

    assert reply.get("to") is None and reply.text == config.no_session_sms_reply
    assert f.messages(db)[0].outcome == "no_session"


def test_session_just_before_expiry_still_relays(session_open, send_sms, clock):
    clock.advance(days=7, seconds=-1)

    [message] = twiml(send_sms(PRO, PRO_PROXY, "on my way"))

    assert message.get("to") == REQUESTER


def test_the_no_session_reply_goes_once_a_day_so_an_auto_responder_cannot_loop_with_it(
        session_open, send_sms, db, clock, config):
    """Found by an audit: every text was answered, so a driving mode or away message and the
    "conversation has ended" reply would answer each other without end (as the blocked notice
    already could not)."""
    away = "I'm driving with Do Not Disturb on. I'll see your message when I get there."
    [told] = twiml(send_sms(STRANGER, REQUESTER_PROXY, away))
    assert told.text == config.no_session_sms_reply
    clock.advance(seconds=5)
    assert list(twiml(send_sms(STRANGER, REQUESTER_PROXY, away))) == []
    clock.advance(hours=23, minutes=59)
    assert list(twiml(send_sms(STRANGER, REQUESTER_PROXY, away))) == []
    [other_number] = twiml(send_sms(STRANGER, PRO_PROXY, away))  # another number: its first
    assert other_number.text == config.no_session_sms_reply
    clock.advance(minutes=1)
    [next_day] = twiml(send_sms(STRANGER, REQUESTER_PROXY, away))
    assert next_day.text == config.no_session_sms_reply
    assert [m.outcome for m in f.messages(db)] == [
        "no_session", "no_session_untold", "no_session_untold", "no_session", "no_session"]
    assert all(m.body == away for m in f.messages(db))  # stored all the same


def test_the_calls_only_reply_goes_once_a_day_too(db, clock, send_sms, config):
    f.open_session(db, clock(), mode="voice")
    [told] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "can I text?"))
    assert told.text == config.voice_only_sms_reply
    clock.advance(minutes=10)
    assert list(twiml(send_sms(REQUESTER, REQUESTER_PROXY, "hello??"))) == []
    assert [m.outcome for m in f.messages(db)] == ["mode_not_allowed", "mode_not_allowed_untold"]


def test_the_ended_reply_still_goes_when_the_calls_only_session_ends_within_the_day(
        db, clock, send_sms, config):
    """Found by a review: told "calls only", then the session closed; the sender's next text
    that day got nothing, though the news (it has ended) was never told."""
    conversation = f.open_session(db, clock(), mode="voice")
    [calls_only] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "can I text?"))
    assert calls_only.text == config.voice_only_sms_reply
    f.close_session(db, conversation, clock())
    clock.advance(hours=1)
    [ended] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "hello?"))
    assert ended.text == config.no_session_sms_reply


def test_the_ended_reply_goes_again_after_a_later_session_on_the_number_ends_within_the_day(
        db, clock, send_sms, config):
    """Found by an audit: told "conversation has ended", the requester got a new session on the
    same proxy number the same day, texted in it, and it closed; their next text to it got no
    answer at all, as if the other side had received it, though that session's end was news."""
    first = f.open_session(db, clock(), booking_id="bk_1")
    f.close_session(db, first, clock())
    clock.advance(minutes=5)
    [ended] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "hello?"))
    assert ended.text == config.no_session_sms_reply
    clock.advance(minutes=5)
    second = f.open_session(db, clock(), booking_id="bk_2")  # the same numbers again
    clock.advance(minutes=5)
    [forwarded] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "see you at 3"))
    assert forwarded.get("to") == PRO
    f.close_session(db, second, clock())
    clock.advance(hours=1)
    [ended_again] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "running late"))
    assert ended_again.text == config.no_session_sms_reply
    clock.advance(seconds=5)  # and then once a day again: an auto-responder still cannot loop
    assert list(twiml(send_sms(REQUESTER, REQUESTER_PROXY, "running late"))) == []
    assert [m.outcome for m in f.messages(db)] == [
        "no_session", "forwarded", "no_session", "no_session_untold"]


def test_voice_only_session_answers_texts_with_the_calls_only_reply_not_the_ended_one(
        db, clock, send_sms, config):
    f.open_session(db, clock(), mode="voice")

    [reply] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "can I text?"))

    assert reply.get("to") is None  # answers the sender only: nothing is forwarded
    assert reply.text == config.voice_only_sms_reply != config.no_session_sms_reply
    assert "calls only" in reply.text and "ended" not in reply.text
    stored = f.messages(db)[0]
    assert (stored.outcome, stored.forward_to) == ("mode_not_allowed", None)


def test_a_repeated_text_to_a_voice_only_session_gets_the_same_calls_only_reply(
        db, clock, send_sms, config):
    f.open_session(db, clock(), mode="voice")

    first = send_sms(REQUESTER, REQUESTER_PROXY, "hello?", sid="SMvoiceonly")
    again = send_sms(REQUESTER, REQUESTER_PROXY, "hello?", sid="SMvoiceonly")

    assert again.data == first.data
    assert [r.text for r in twiml(again)] == [config.voice_only_sms_reply]
    assert len(f.messages(db)) == 1


def test_a_text_to_a_voice_only_session_repeated_after_it_closed_gets_the_same_reply(
        db, clock, send_sms, config):
    """Found by a review: the calls-only reply is chosen by whether a call would be bridged
    (6d9f6ee), read from the open session; a repeated webhook arriving once the session had
    closed found none and was answered "could not be delivered" where the first was "please
    call". A repeat is decided as the first time, from the text's own session."""
    session = f.open_session(db, clock(), mode="voice")
    first = send_sms(REQUESTER, REQUESTER_PROXY, "hello?", sid="SMvoicethenclosed")
    f.close_session(db, session, clock())

    again = send_sms(REQUESTER, REQUESTER_PROXY, "hello?", sid="SMvoicethenclosed")

    assert [r.text for r in twiml(first)] == [config.voice_only_sms_reply]
    assert again.data == first.data
    assert len(f.messages(db)) == 1


def test_a_voice_only_session_whose_other_side_takes_no_calls_does_not_say_call_instead(
        db, clock, send_sms, place_call, config):
    """Found by an audit: the pro of a calls-only session asked not to be called (voice
    revoked); the requester's text was answered "calls only, please call this number", and the
    call they then placed was "cannot be connected". Told only that it was not delivered."""
    f.open_session(db, clock(), mode="voice")
    consent.record_event(db, phone=PRO, channel="voice", purpose="relay", action="revoke",
                         source="support", evidence={"ticket": "T-1"}, now=clock())
    db.commit()

    [reply] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "can I text?", sid="SMnocalls"))
    again = send_sms(REQUESTER, REQUESTER_PROXY, "can I text?", sid="SMnocalls")

    assert reply.text == messages.render(messages.BLOCKED_NOTICE, config)
    assert "call" not in reply.text
    assert [r.text for r in twiml(again)] == [reply.text]
    assert f.messages(db)[0].outcome == "mode_not_allowed"
    assert "cannot be connected" in twiml(place_call(REQUESTER, REQUESTER_PROXY))[0].text


def test_the_calls_only_reply_is_configured_by_voice_only_sms_reply(
        app, db, clock, send_sms):
    env = {"COMMSVC_ENV": "production", "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": BASE,
           "VOICE_ONLY_SMS_REPLY": "Calls only here, sorry."}
    assert load_config(env).voice_only_sms_reply == "Calls only here, sorry."
    app.extensions["config"] = app.extensions["config"].with_overrides(
        voice_only_sms_reply="Calls only here, sorry.")
    f.open_session(db, clock(), mode="voice")

    [reply] = twiml(send_sms(PRO, PRO_PROXY, "texting instead"))

    assert reply.text == "Calls only here, sorry."


def test_empty_text_is_recorded_but_neither_forwarded_nor_answered(session_open, send_sms, db):
    root = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "   "))

    assert list(root) == []
    assert f.messages(db)[0].outcome == "empty"


@pytest.mark.parametrize("body", ["\u200b", "\ufeff", "\u200e\u200f", "\u2060 \u200b", "\u3164"])
def test_a_text_that_shows_nothing_is_empty_too_and_not_forwarded(
        session_open, send_sms, db, body):
    """Reproduced on a running server: a zero-width space, a byte-order mark or a Hangul filler
    alone was forwarded, a billed text that wakes the pro and shows nothing, while spaces
    alone are "empty" and the send gate refuses such a body (fields.shows_nothing)."""
    root = twiml(send_sms(REQUESTER, REQUESTER_PROXY, body))

    assert list(root) == []
    assert f.messages(db)[0].outcome == "empty"


def test_text_to_a_recipient_who_said_stop_is_not_forwarded_and_sender_is_told_once(
        session_open, send_sms, db):
    twiml(send_sms(PRO, PRO_PROXY, "STOP"))

    [first] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "Hello?"))
    second = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "Hello??"))

    assert first.get("to") is None and first.text  # told the message was not delivered
    assert list(second) == []
    outcomes = [m.outcome for m in f.messages(db)]
    assert outcomes == ["opt_out", "blocked_consent_notified", "blocked_consent"]
    assert all(m.forward_to is None for m in f.messages(db))


def test_a_repeated_stop_is_the_same_revocation_and_tells_the_sender_nothing_new(
        session_open, send_sms, db, clock):
    """Found by a code review: the claim named the revocation by its last event, which a
    repeated STOP replaces, so the sender was told again after each repeat."""
    twiml(send_sms(PRO, PRO_PROXY, "STOP"))
    [told] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "Hello?"))
    clock.advance(minutes=1)
    twiml(send_sms(PRO, PRO_PROXY, "STOP"))  # the pro repeats it
    again = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "Hello??"))

    assert told.text and list(again) == []
    assert [m.outcome for m in f.messages(db)] == [
        "opt_out", "blocked_consent_notified", "opt_out_repeat", "blocked_consent"]


def test_same_proxy_number_for_both_sides_routes_by_sender(db, clock, send_sms):
    f.open_session(db, clock(), requester_proxy=REQUESTER_PROXY, pro_proxy=REQUESTER_PROXY)

    [to_pro] = twiml(send_sms(REQUESTER, REQUESTER_PROXY, "a"))
    [to_requester] = twiml(send_sms(PRO, REQUESTER_PROXY, "b"))

    assert (to_pro.get("to"), to_pro.get("from")) == (PRO, REQUESTER_PROXY)
    assert (to_requester.get("to"), to_requester.get("from")) == (REQUESTER, REQUESTER_PROXY)


def test_national_format_numbers_are_normalised_before_routing(session_open, send_sms):
    [message] = twiml(send_sms("(415) 555-0101", "646-555-0001", "hi"))

    assert message.get("to") == PRO
