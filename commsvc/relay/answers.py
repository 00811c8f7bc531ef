"""What the relay answers Twilio: the reply to a text's sender, and what a caller hears or
is bridged to, from the stored outcome (so a repeated webhook is answered the same)."""
from __future__ import annotations

from commsvc import phones
from commsvc.config.settings import Config
from commsvc.consent import relay as consent
from commsvc.relay.inbound import (
    BRIDGED,
    BRIDGED_RECORDED,
    EMPTY,
    FORWARDED,
    MODE_NOT_ALLOWED,
    MODE_NOT_ALLOWED_UNTOLD,
    NO_SESSION,
    NO_SESSION_UNTOLD,
    WITHHELD,
    Bridge,
    InboundSms,
    keyword_with_media,
)
from commsvc.sessions.routing import Route

CALL_NOT_CONNECTED = "Sorry, this call cannot be connected. Goodbye."
# A caller whose number is hidden ("Anonymous", "Restricted") or not a phone number cannot be
# routed: told so, not that their conversation has ended (it may well be open).
HIDDEN_CALLER = ("Sorry, this call cannot be connected because your number is hidden."
                 " Please call again with your caller ID shown. Goodbye.")
# A call from an app (Twilio's Voice SDK: From "client:<identity>") or a SIP address
# ("sip:user@host") hides nothing: it has no phone number to be matched to a session.
NOT_FROM_A_PHONE = ("Sorry, this call cannot be connected because it does not come from a"
                    " phone number. Please call from your phone. Goodbye.")
APP_OR_SIP = ("client:", "sip:", "sips:")


def sms_reply(outcome: str, sms: InboundSms, route: Route | None,
              decision: consent.InboundDecision, config: Config) -> str | None:
    """The answer to the sender, from the stored outcome: a repeated webhook is answered the
    same. A keyword's is in the language the decision found in the body (a repeat carries the
    same body); a notice of the platform's own only where the outcome says it was told."""
    if sms.sender_phone is None:
        return None  # a short code or sender id cannot be answered
    if phones.is_costly(sms.sender_phone):
        return None  # never texted, not even a reply: a reply to one is how toll fraud pays
    if outcome in (FORWARDED, WITHHELD) and keyword_with_media(decision, sms):
        outcome = decision.outcome  # forwarded, and answered as the keyword it also is
    if outcome in (FORWARDED, WITHHELD, EMPTY, NO_SESSION_UNTOLD, MODE_NOT_ALLOWED_UNTOLD,
                   consent.OPT_OUT_REPEAT_UNTOLD):
        return None
    if outcome == NO_SESSION:
        return config.no_session_sms_reply
    # "Call this number (instead)": only where a call to them would be bridged.
    allows_voice = bool(route and route.reaches_by_call)
    if outcome == MODE_NOT_ALLOWED:  # a text to a voice-only session: the session is open
        if allows_voice:
            return config.voice_only_sms_reply
        # The other side takes no calls (voice revoked): "please call" would only reach
        # "cannot be connected". Told, as a blocked text is, that it was not delivered.
        outcome = consent.BLOCKED_NOTIFIED
    return consent.reply_for(outcome, config=config, allows_voice=allows_voice,
                             language=decision.language)


def call_answer(outcome: str, forward_to: str | None, forward_from: str | None,
                config: Config, *, unroutable_caller: str | None, route: Route | None
                ) -> tuple[str | None, Bridge | None]:
    """What a caller hears, and whom they are bridged to, from the stored outcome.
    `unroutable_caller`: the caller as stored when it is no phone number, else None."""
    if outcome in (BRIDGED, BRIDGED_RECORDED) and forward_to and forward_from:
        record = outcome == BRIDGED_RECORDED
        bridge = Bridge(to=forward_to, caller_id=forward_from, record=record,
                        time_limit=config.call_time_limit_seconds)
        return (config.recording_notice if record else None), bridge
    if outcome in (consent.BLOCKED, WITHHELD):
        return CALL_NOT_CONNECTED, None
    if outcome == MODE_NOT_ALLOWED:  # a call to a texts-only session: the session is open
        # "Please text instead" only where a text would be relayed: not to someone who texted
        # STOP (their text would be "could not be delivered").
        if route is not None and route.reaches_by_text:
            return config.sms_only_voice_message, None
        return CALL_NOT_CONNECTED, None
    if outcome == NO_SESSION and unroutable_caller is not None:
        if unroutable_caller.lower().startswith(APP_OR_SIP):
            return NOT_FROM_A_PHONE, None
        return HIDDEN_CALLER, None
    return config.no_session_voice_message, None
