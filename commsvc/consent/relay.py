"""The consent seam of the relay: keywords in inbound texts, and who may receive what.

The relay calls only these functions, plus `decisions.allowed_sql`, which the route lookup
(`sessions.routing.find_route`) carries so that whether the recipient takes relayed texts and
calls costs no round trip of its own. Cost on an ordinary conversational text: no query at all
in `inbound_decision` (the detector rules it out before any read).

Contract with the relay (webhooks):
1. `inbound_decision` only reads (for an opt-out it first takes the sender's consent lock,
   held until the relay's transaction ends). The relay calls it before it claims the MessageSid.
2. The relay claims the MessageSid by inserting the message row (a repeated webhook finds the
   row and changes nothing); only the request that claimed it calls `record_inbound`, which
   writes the consent events of a keyword.
3. The answer is rebuilt from the stored outcome by `reply_for`, so a repeated webhook gets the
   same TwiML without storing the reply; its language is the decision's (`InboundDecision.
   language`, from the same body, so a repeat's decision names the same one). Whether a
   notice goes at all (`may_send_notice`) is decided once and stored in the outcome.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commsvc.clock import as_utc, epoch_microseconds
from commsvc.config.settings import Config
from commsvc.consent import decisions, messages, service
from commsvc.consent.detector import (
    DEFAULT_LANGUAGE,
    Detection,
    Intent,
    as_said,
    classify,
    detect,
)
from commsvc.consent.models import ConsentState

# Outcomes (stored in messages.outcome / calls.outcome) that belong to consent.
OPT_OUT = "opt_out"  # revoked; one confirmation sent
OPT_OUT_REPEAT = "opt_out_repeat"  # already revoked; confirmed again (the sender may doubt it)
# ... and a repeat was confirmed from that number within a day: recorded, not confirmed again
# (an auto-responder that reads as an opt-out would answer each confirmation without end)
OPT_OUT_REPEAT_UNTOLD = "opt_out_repeat_untold"
OPT_OUT_CARRIER = "opt_out_carrier"  # Twilio's own opt-out handling answered (OptOutType); no reply
OPT_IN = "opt_in"  # restored relay + transactional; one confirmation
OPT_IN_CARRIER = "opt_in_carrier"  # restored; Twilio already confirmed (OptOutType START)
HELP = "help"  # help reply
HELP_CARRIER = "help_carrier"  # Twilio already answered HELP (OptOutType HELP); no reply
BLOCKED_NOTIFIED = "blocked_consent_notified"  # recipient revoked; sender told once
BLOCKED = "blocked_consent"  # recipient revoked; sender already told

# What an opt-out revokes and an opt-in restores (marketing needs a fresh, explicit grant).
OPT_OUT_PURPOSES = ("relay", "transactional", "marketing")
OPT_IN_PURPOSES = ("relay", "transactional")


@dataclass(frozen=True)
class InboundDecision:
    """What consent says about an inbound text before any routing."""

    intent: str  # opt_out | opt_in | help | conversation
    outcome: str | None = None  # one of the outcomes above when consumed
    # True: a consent keyword, handled here; never forwarded (but a HELP or an opt-in with
    # pictures: relay.inbound.keyword_with_media)
    consumed: bool = False
    language: str = DEFAULT_LANGUAGE  # what the keyword was written in: the reply's language
    own_words: bool = False  # an opt-out in the sender's own words (detector.Detection)


CONVERSATION = InboundDecision(intent="conversation")


def _consumed(intent: Intent, outcome: str, language: str = DEFAULT_LANGUAGE,
              own_words: bool = False) -> InboundDecision:
    return InboundDecision(intent=intent.value, outcome=outcome, consumed=True,
                           language=language, own_words=own_words)


def _sms_opted_out(db: Session, phone: str, now: dt.datetime) -> bool:
    return not decisions.check(db, phone=phone, channel="sms", purpose="relay", now=now).allowed


def may_send_notice(db: Session, phone: str, now: dt.datetime) -> bool:
    """Whether the platform may answer this sender with a notice of its own (the conversation
    has ended, takes calls only, the message was not delivered): their sms/transactional
    consent. Someone who texted STOP gets no more of those; a keyword's own reply (the STOP,
    START or HELP confirmation) is not such a notice and is always sent. The relay decides it
    once, when the text arrives, and stores it in the outcome."""
    return decisions.check(db, phone=phone, channel="sms", purpose="transactional",
                         now=now).allowed


def _carrier_decision(opt_out_type: str | None) -> InboundDecision | None:
    """Twilio's Advanced Opt-Out already acted (and answered) on STOP, START or HELP."""
    kind = (opt_out_type or "").strip().upper()
    if kind == "STOP":
        return _consumed(Intent.OPT_OUT, OPT_OUT_CARRIER)
    if kind == "START":
        return _consumed(Intent.OPT_IN, OPT_IN_CARRIER)
    if kind == "HELP":
        return _consumed(Intent.HELP, HELP_CARRIER)
    return None


def widest_reading(body: str) -> Detection:
    """The widest reading of a text (a bare YES counts as opt-in): if even that is
    conversation, the sender's consent state cannot matter and nothing needs reading."""
    return detect(body, opted_out=True)


def may_be_keyword(reading: Detection, opt_out_type: str | None) -> bool:
    """Reads nothing: False when inbound_decision will surely say CONVERSATION (no writes).
    `reading`: the text's widest_reading."""
    return (_carrier_decision(opt_out_type) is not None
            or reading.intent is not Intent.CONVERSATION)


def inbound_decision(
    db: Session, *, from_phone: str, body: str, opt_out_type: str | None, now: dt.datetime,
    reading: Detection | None = None,
) -> InboundDecision:
    """Classify an inbound text (reads only): a consent keyword, or conversation to route.
    `reading`: the text's widest_reading, if it was already made (the detector's rules are
    a tenth of a relayed text's CPU: read once)."""
    carrier = _carrier_decision(opt_out_type)
    if carrier is not None and carrier.outcome != OPT_IN_CARRIER:
        return carrier
    intent, language, own_words = reading if reading is not None else widest_reading(body)
    if carrier is not None:
        # Twilio marks every bare YES as an opt-in (START), opted out or not: "Yes" answering
        # the pro is conversation unless the sender has opted out, as when Twilio says nothing.
        if (classify(body, opted_out=False) is Intent.CONVERSATION
                and not _sms_opted_out(db, from_phone, now)):
            return InboundDecision(intent=Intent.CONVERSATION.value, language=language)
        return carrier
    if intent is Intent.CONVERSATION:
        return CONVERSATION
    if intent is Intent.HELP:
        return _consumed(intent, HELP, language)
    if intent is Intent.OPT_OUT:
        # Only an opt-out's outcome depends on the state it changes (opt_out or a repeat): a
        # simultaneous opt-out from the same phone waits here until this one is recorded.
        service.lock_phone(db, from_phone)
        opted_out = _sms_opted_out(db, from_phone, now)
        return _consumed(intent, OPT_OUT_REPEAT if opted_out else OPT_OUT, language, own_words)
    opted_out = _sms_opted_out(db, from_phone, now)
    if not opted_out and classify(body, opted_out=False) is Intent.CONVERSATION:
        # "Yes" from someone who never opted out is conversation. The language stays: a
        # retried "Oui" that opted in is answered from the stored opt-in, in French.
        return InboundDecision(intent=Intent.CONVERSATION.value, language=language)
    return _consumed(Intent.OPT_IN, OPT_IN, language)


def record_inbound(
    db: Session, decision: InboundDecision, *, from_phone: str, to_phone: str,
    message_sid: str, body: str, now: dt.datetime,
) -> None:
    """Write the consent events of a keyword (called once per MessageSid)."""
    if decision.intent == Intent.OPT_OUT.value:
        action, purposes = "revoke", OPT_OUT_PURPOSES
    elif decision.intent == Intent.OPT_IN.value:
        action, purposes = "grant", OPT_IN_PURPOSES
    else:
        return
    carrier = decision.outcome in (OPT_OUT_CARRIER, OPT_IN_CARRIER)
    # A keyword message is kept as said (STOP, "arrêt svp"), without the signature its phone
    # added. Own words are not: the events outlive retention and erasure, and the text may say
    # anything else (a name, an address); it stays with its message (encrypted, under
    # retention), found by the SID.
    said = {"own_words": True} if decision.own_words else {"text": as_said(body or "")}
    service.record_events(
        db, phone=from_phone, channels=("sms",), purposes=purposes, action=action,
        source="twilio_opt_out" if carrier else "sms_keyword",
        evidence={"message_sid": message_sid, **said, "to": to_phone},
        now=now,
    )


def revocation_told_of(db: Session, recipient: str) -> int:
    """What a "could not be delivered" notice answers: the recipient's current revocation of
    relayed texts, named by when it began (`since`, in microseconds since the epoch: a
    repeated STOP keeps it, a revocation after a START is news again). The relay stores it
    with the told text (messages.notice_of), whose unique index lets one text per session and
    sender be told of it, however many arrive at once."""
    since = relay_state_since(db, recipient)
    # No state row is the default, which allows texts: 0 keeps the claim well-defined.
    if since is None:
        return 0
    return epoch_microseconds(since)


def relay_state_since(db: Session, phone: str) -> dt.datetime | None:
    """When the phone's current consent to relayed texts began (a repeated STOP keeps it, a
    revocation after a START is new); None for the default, which no event has set."""
    # Uses index: pk_consent_state (one row)
    since = db.scalar(
        select(ConsentState.since)
        .where(ConsentState.phone == phone, ConsentState.channel == "sms",
               ConsentState.purpose == "relay")
    )
    return None if since is None else as_utc(since)


def reply_for(outcome: str, *, config: Config, allows_voice: bool,
              language: str = DEFAULT_LANGUAGE) -> str | None:
    """The text a consent outcome answers the sender with (None: no reply), in ``language``
    for a keyword's (the decision's language); the blocked notice is always English."""
    if outcome in (OPT_OUT, OPT_OUT_REPEAT):
        return messages.render(messages.in_language(messages.OPT_OUT_CONFIRMATION, language),
                               config)
    if outcome == OPT_IN:
        return messages.render(messages.in_language(messages.OPT_IN_CONFIRMATION, language),
                               config)
    if outcome == HELP:
        return messages.help_reply(config, language)
    if outcome == BLOCKED_NOTIFIED:
        template = messages.BLOCKED_NOTICE_VOICE if allows_voice else messages.BLOCKED_NOTICE
        return messages.render(template, config)
    return None
