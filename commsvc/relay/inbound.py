"""What an inbound text or call is, and what the relay decides it becomes: the outcomes it
stores, the webhook's request (InboundSms, InboundCall) and the result the edge renders."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from commsvc.consent import relay as consent
from commsvc.fields import shows_nothing

# Outcomes of an inbound text that belong to the relay (consent's are in consent.relay).
FORWARDED = "forwarded"
NO_SESSION = "no_session"  # stranger, or the session is closed or expired
MODE_NOT_ALLOWED = "mode_not_allowed"  # the session does not carry this channel
# The same, when the sender takes no notices from the platform (they texted STOP): decided
# when the text arrives and stored, so a repeated webhook is answered the same (nothing).
NO_SESSION_UNTOLD = "no_session_untold"
MODE_NOT_ALLOWED_UNTOLD = "mode_not_allowed_untold"
EMPTY = "empty"  # no text and no media: nothing to forward
REMOVED = "removed"  # (not stored) a repeated webhook of a text or call erased or past retention
# (not stored) a repeated webhook of a forwarded text or bridged call whose recipient no longer
# takes it: they revoked that channel, or were erased, since the first copy (still_reaches)
WITHHELD = "withheld"
# Outcomes of an inbound call (plus NO_SESSION, MODE_NOT_ALLOWED and consent.BLOCKED).
BRIDGED = "bridged"
BRIDGED_RECORDED = "bridged_recorded"


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: str  # as stored: E.164 for a phone number, else the sanitised sender id
    sender_phone: str | None  # E.164; None for short codes, alphanumeric or anonymous senders
    to_phone: str
    body: str
    media_urls: tuple[str, ...] = ()
    opt_out_type: str | None = None

    @functools.cached_property
    def reading(self) -> consent.Detection:
        """The body's widest reading (consent.widest_reading), made once per text."""
        return consent.widest_reading(self.body)


@dataclass(frozen=True)
class Forward:
    """A text to pass on: to the other participant's real number, from their proxy number."""

    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...]


@dataclass(frozen=True)
class SmsResult:
    message_id: int
    outcome: str
    session_id: str | None
    forward: Forward | None
    reply: str | None  # the text the sender is answered with, if any
    duplicate: bool


@dataclass(frozen=True)
class InboundCall:
    call_sid: str
    caller: str  # as stored, like InboundSms.sender
    caller_phone: str | None
    to_phone: str
    status: str


@dataclass(frozen=True)
class Bridge:
    """Connect the caller to the other participant, showing the proxy number they know."""

    to: str
    caller_id: str
    record: bool
    time_limit: int


@dataclass(frozen=True)
class CallResult:
    call_id: int
    outcome: str
    session_id: str | None
    say: str | None  # spoken first (the recording notice, or why nobody is connected)
    bridge: Bridge | None  # None: hang up after `say`
    duplicate: bool


def is_empty(sms: InboundSms) -> bool:
    """No media, and words that show nothing (spaces, a zero-width space, a byte-order mark):
    forwarding it would bill and wake the recipient for a blank text."""
    return not sms.media_urls and shows_nothing(sms.body)


def keyword_with_media(decision: consent.InboundDecision, sms: InboundSms) -> bool:
    """A HELP (INFO, AIDE, AYUDA) or an opt-in (START, or YES from someone opted out) with
    pictures: answered and recorded as the keyword, and also forwarded where a text would be,
    pictures and words: "Help!" under a photo of a burst pipe is for the pro, and so is the
    photo an opted-out customer sends with START; each was answered and dropped. Same body
    and media, same decision, so a repeated webhook is answered the same. Not an opt-out: who
    texts STOP wants the conversation to stop."""
    return decision.outcome in _FORWARDED_WITH_MEDIA and bool(sms.media_urls)


_FORWARDED_WITH_MEDIA = frozenset({consent.HELP, consent.HELP_CARRIER, consent.OPT_IN,
                                   consent.OPT_IN_CARRIER})
