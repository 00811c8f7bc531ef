"""The consent seam the relay calls: decisions, recorded events, queries spent, reply texts."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import literal, select

from commsvc.consent import decisions, relay, service
from commsvc.consent.models import ConsentEvent

PHONE = "+14155550101"
PROXY = "+16465550001"
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.fixture
def count_queries(connection):
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    sa.event.listen(connection, "before_cursor_execute", before)
    yield statements
    sa.event.remove(connection, "before_cursor_execute", before)


def _decide(db, clock, body, opt_out_type=None):
    return relay.inbound_decision(db, from_phone=PHONE, body=body, opt_out_type=opt_out_type,
                                  now=clock())


def _record(db, clock, decision, sid="SM1", body="STOP"):
    relay.record_inbound(db, decision, from_phone=PHONE, to_phone=PROXY, message_sid=sid,
                         body=body, now=clock())


def test_ordinary_conversation_costs_no_query(db, clock, count_queries):
    db.flush()
    count_queries.clear()
    assert _decide(db, clock, "Can you stop by at 5?") == relay.CONVERSATION
    assert _decide(db, clock, "I need to cancel the 3pm and move it") == relay.CONVERSATION
    assert count_queries == []


def test_a_bare_yes_costs_one_read_of_the_senders_state(db, clock, count_queries):
    db.flush()
    count_queries.clear()
    assert _decide(db, clock, "Yes") == relay.CONVERSATION
    assert len(count_queries) == 1


def _relay_allowed(db, channel: str) -> bool:
    """What the route lookup carries for this phone: consent's allowed_sql for relay."""
    return db.scalar(select(decisions.allowed_sql(literal(PHONE), channel=channel,
                                                purpose="relay")))


def test_first_stop_revokes_every_sms_purpose_with_its_evidence(db, clock):
    decision = _decide(db, clock, "Stop!")
    assert decision == relay.InboundDecision("opt_out", relay.OPT_OUT, True)
    _record(db, clock, decision, body="Stop!")
    events = db.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    assert {(e.channel, e.purpose, e.action, e.source) for e in events} == {
        ("sms", p, "revoke", "sms_keyword") for p in ("relay", "transactional", "marketing")}
    assert events[0].evidence == {"message_sid": "SM1", "text": "Stop!", "to": PROXY}
    assert _relay_allowed(db, "sms") is False
    assert _relay_allowed(db, "voice") is True


def test_an_opt_out_in_own_words_keeps_the_sid_not_the_text_as_evidence(db, clock):
    """Consent events outlive retention and erasure; whatever else the text said (a name, an
    address) stays with its message, encrypted and under retention."""
    body = "Please stop texting me. I am Jane Roe, 12 Main St"
    decision = _decide(db, clock, body)
    assert (decision.outcome, decision.own_words) == (relay.OPT_OUT, True)

    _record(db, clock, decision, body=body)

    events = db.scalars(select(ConsentEvent)).all()
    assert len(events) == 3
    assert all(e.evidence == {"message_sid": "SM1", "own_words": True, "to": PROXY}
               for e in events)


def test_a_second_stop_is_a_repeat_confirmed_again(db, clock):
    _record(db, clock, _decide(db, clock, "STOP"))
    decision = _decide(db, clock, "please stop texting me")
    assert decision.outcome == relay.OPT_OUT_REPEAT and decision.consumed
    assert relay.reply_for(decision.outcome, config=_config(), allows_voice=True) == \
        relay.reply_for(relay.OPT_OUT, config=_config(), allows_voice=True)


def test_twilio_opt_out_type_is_recorded_as_twilio_opt_out_without_a_confirmation(db, clock):
    decision = _decide(db, clock, "STOP", opt_out_type="STOP")
    assert decision.outcome == relay.OPT_OUT_CARRIER and decision.consumed
    _record(db, clock, decision)
    assert {e.source for e in db.scalars(select(ConsentEvent))} == {"twilio_opt_out"}
    assert relay.reply_for(decision.outcome, config=_config(), allows_voice=True) is None


def test_start_restores_relay_and_transactional_but_not_marketing(db, clock):
    service.record_event(db, phone=PHONE, channel="sms", purpose="marketing", action="grant",
                         source="api", evidence={}, now=clock())
    _record(db, clock, _decide(db, clock, "STOP"))
    clock.advance(minutes=5)
    decision = _decide(db, clock, "start")
    assert decision.outcome == relay.OPT_IN
    _record(db, clock, decision, sid="SM2", body="start")
    states = {(s["channel"], s["purpose"]): s["allowed"]
              for s in decisions.current_state(db, PHONE)}
    assert states[("sms", "relay")] and states[("sms", "transactional")]
    assert states[("sms", "marketing")] is False


def test_yes_is_an_opt_in_only_from_someone_opted_out(db, clock):
    assert _decide(db, clock, "Yes") == relay.CONVERSATION
    _record(db, clock, _decide(db, clock, "STOP"))
    assert _decide(db, clock, "YES").outcome == relay.OPT_IN


def test_help_is_consumed_and_records_nothing(db, clock):
    decision = _decide(db, clock, "HELP")
    assert decision.outcome == relay.HELP and decision.consumed
    _record(db, clock, decision, body="HELP")
    assert db.scalars(select(ConsentEvent)).all() == []


def _config():
    from commsvc.config.settings import Config

    return Config()


@pytest.mark.parametrize("outcome", [relay.OPT_OUT, relay.OPT_IN, relay.HELP,
                                     relay.BLOCKED_NOTIFIED])
@pytest.mark.parametrize("allows_voice", [True, False])
def test_replies_fit_one_gsm7_segment(outcome, allows_voice):
    text = relay.reply_for(outcome, config=_config(), allows_voice=allows_voice)
    assert text and len(text) <= 160
    assert set(text) <= GSM7


def test_opt_out_confirmation_says_who_we_are_that_texts_stop_and_how_to_return():
    text = relay.reply_for(relay.OPT_OUT, config=_config().with_overrides(brand_name="Fixit"),
                           allows_voice=False)
    assert text.startswith("Fixit")
    assert "no more texts" in text and "START" in text


def test_help_reply_is_configurable():
    config = _config().with_overrides(brand_name="Fixit", support_contact="1-800-555-0100")
    text = relay.reply_for(relay.HELP, config=config, allows_voice=False)
    assert "Fixit" in text and "1-800-555-0100" in text
    assert "Msg & data rates may apply" in text and "Reply STOP to opt out" in text
    custom = config.with_overrides(help_sms_reply="{brand} help: {support}")
    assert relay.reply_for(relay.HELP, config=custom, allows_voice=False) == \
        "Fixit help: 1-800-555-0100"


def test_blocked_notice_offers_a_call_only_when_the_session_allows_calls():
    assert "call" in relay.reply_for(relay.BLOCKED_NOTIFIED, config=_config(), allows_voice=True)
    assert "call" not in relay.reply_for(relay.BLOCKED_NOTIFIED, config=_config(),
                                         allows_voice=False)
    assert relay.reply_for(relay.BLOCKED, config=_config(), allows_voice=True) is None


OTHER = "+14155550202"


def test_a_notice_is_told_of_the_recipients_current_revocation(db, clock):
    """What the relay's told text claims (messages.notice_of): the revocation, by when it
    began. A repeated STOP is the same revocation; one after a START is new, so its sender is
    told again."""
    assert relay.revocation_told_of(db, OTHER) == 0  # no state: the default

    def record(action: str) -> None:
        service.record_event(db, phone=OTHER, channel="sms", purpose="relay", action=action,
                             source="sms_keyword", evidence={}, now=clock())
        db.flush()
        clock.advance(seconds=5)

    record("revoke")
    first = relay.revocation_told_of(db, OTHER)
    assert first > 0
    record("revoke")  # a repeated STOP
    assert relay.revocation_told_of(db, OTHER) == first
    record("grant")
    record("revoke")
    assert relay.revocation_told_of(db, OTHER) not in (0, first)


def test_twilio_start_and_help_are_honoured_without_a_second_reply(db, clock):
    _record(db, clock, _decide(db, clock, "STOP"))
    start = _decide(db, clock, "START", opt_out_type="START")
    assert start.outcome == relay.OPT_IN_CARRIER and start.consumed
    _record(db, clock, start, sid="SM2", body="START")
    assert _relay_allowed(db, "sms") is True
    help_ = _decide(db, clock, "HELP", opt_out_type="HELP")
    assert help_.outcome == relay.HELP_CARRIER and help_.consumed
    for outcome in (relay.OPT_IN_CARRIER, relay.HELP_CARRIER):
        assert relay.reply_for(outcome, config=_config(), allows_voice=True) is None


def test_twilio_stop_wins_even_for_a_word_the_detector_would_forward(db, clock):
    decision = _decide(db, clock, "Thanks", opt_out_type="STOP")
    assert decision.outcome == relay.OPT_OUT_CARRIER


@pytest.mark.parametrize("outcome", [relay.OPT_OUT, relay.OPT_IN, relay.HELP])
@pytest.mark.parametrize("language", ["fr", "es"])
def test_french_and_spanish_replies_fit_one_gsm7_segment_and_differ_from_english(
        outcome, language):
    text = relay.reply_for(outcome, config=_config(), allows_voice=True, language=language)
    assert text and len(text) <= 160
    assert set(text) <= GSM7
    assert text != relay.reply_for(outcome, config=_config(), allows_voice=True)


@pytest.mark.parametrize("body,language,words", [
    ("ARRÊT", "fr", "Vous ne recevrez plus de SMS"),
    ("Detener", "es", "Ya no le enviaremos SMS"),
    ("STOP", "en", "no more texts"),
])
def test_an_opt_out_decision_carries_its_language_to_the_confirmation(
        db, clock, body, language, words):
    decision = _decide(db, clock, body)
    assert (decision.outcome, decision.language) == (relay.OPT_OUT, language)
    text = relay.reply_for(decision.outcome, config=_config(), allows_voice=True,
                           language=decision.language)
    assert text.startswith("HomePros") and words in text and "START" in text


def test_a_reply_in_a_language_without_texts_is_english():
    assert relay.reply_for(relay.OPT_OUT, config=_config(), allows_voice=True, language="de") \
        == relay.reply_for(relay.OPT_OUT, config=_config(), allows_voice=True)


def test_a_configured_help_text_answers_aide_and_ayuda_alike(db, clock):
    custom = _config().with_overrides(help_sms_reply="{brand} help: {support}")
    for body in ("AIDE", "Ayuda", "HELP"):
        decision = _decide(db, clock, body)
        assert relay.reply_for(decision.outcome, config=custom, allows_voice=False,
                               language=decision.language) == "HomePros help: support@example.com"
