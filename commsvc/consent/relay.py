"""The consent seam of the relay: keywords in inbound texts, and who may receive what.

STUB until the consent work (issue 4) fills it in: no keyword is recognised and everyone may
receive relayed texts and calls. The relay calls only these functions, so only this module
changes when consent arrives.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from commsvc.config import Config


@dataclass(frozen=True)
class InboundDecision:
    """What consent says about an inbound text before any routing."""

    intent: str  # opt_out | opt_in | help | conversation
    consumed: bool  # True: a consent keyword, handled here; never forwarded
    reply: str | None = None  # the one text to answer the sender with, if any


CONVERSATION = InboundDecision(intent="conversation", consumed=False)


def handle_inbound_sms(
    db: Session, *, from_phone: str, to_phone: str, body: str, message_sid: str,
    opt_out_type: str | None, now: dt.datetime, config: Config,
) -> InboundDecision:
    """Classify an inbound text; record and answer opt-out, opt-in and help keywords."""
    return CONVERSATION


def may_receive(db: Session, phone: str, channel: str, now: dt.datetime) -> bool:
    """Whether relayed texts (channel sms) or calls (channel voice) may reach this phone."""
    return True


def blocked_reply(
    db: Session, *, sender: str, session_id: str, channel: str, allows_voice: bool,
    config: Config,
) -> str | None:
    """The reply telling a sender their text was not delivered (None once already told)."""
    return "Your message could not be delivered."
