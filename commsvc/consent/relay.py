"""The consent seam of the relay: keywords in inbound texts, and who may receive what.

STUB until the consent work (issue 4) fills it in: no keyword is recognised and everyone may
receive relayed texts and calls. The relay calls only these functions, so only this module
changes when consent arrives.

Contract with the relay (webhooks):
1. `inbound_decision` only reads. The relay calls it before it claims the MessageSid.
2. The relay claims the MessageSid by inserting the message row (a repeated webhook finds the
   row and changes nothing); only the request that claimed it calls `record_inbound`, which
   writes the consent events of a keyword.
3. The answer is rebuilt from the stored outcome by `reply_for`, so a repeated webhook gets the
   same TwiML without storing the reply.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from commsvc.config import Config

# Outcomes (stored in messages.outcome / calls.outcome) that belong to consent.
OPT_OUT = "opt_out"  # revoked; one confirmation sent
OPT_OUT_REPEAT = "opt_out_repeat"  # already revoked; no reply
OPT_OUT_CARRIER = "opt_out_carrier"  # Twilio's own opt-out handling answered (OptOutType); no reply
OPT_IN = "opt_in"  # restored relay + transactional; one confirmation
HELP = "help"  # help reply
BLOCKED_NOTIFIED = "blocked_consent_notified"  # recipient revoked; sender told once
BLOCKED = "blocked_consent"  # recipient revoked; sender already told


@dataclass(frozen=True)
class InboundDecision:
    """What consent says about an inbound text before any routing."""

    intent: str  # opt_out | opt_in | help | conversation
    outcome: str | None = None  # one of the outcomes above when consumed
    consumed: bool = False  # True: a consent keyword, handled here; never forwarded


CONVERSATION = InboundDecision(intent="conversation")


def inbound_decision(
    db: Session, *, from_phone: str, body: str, opt_out_type: str | None, now: dt.datetime,
) -> InboundDecision:
    """Classify an inbound text (reads only): a consent keyword, or conversation to route."""
    return CONVERSATION


def record_inbound(
    db: Session, decision: InboundDecision, *, from_phone: str, to_phone: str,
    message_sid: str, body: str, now: dt.datetime,
) -> None:
    """Write the consent events of a keyword (called once per MessageSid)."""
    return None


def may_receive(db: Session, phone: str, channel: str, now: dt.datetime) -> bool:
    """Whether relayed texts (channel sms) or calls (channel voice) may reach this phone."""
    return True


def blocked_outcome(db: Session, *, sender: str, session_id: str, now: dt.datetime) -> str:
    """BLOCKED_NOTIFIED the first time a sender hits a revoked recipient in a session, else BLOCKED."""
    return BLOCKED_NOTIFIED


def reply_for(outcome: str, *, config: Config, allows_voice: bool) -> str | None:
    """The text a consent outcome answers the sender with (None: no reply)."""
    if outcome == BLOCKED_NOTIFIED:
        return "Your message could not be delivered."
    return None
