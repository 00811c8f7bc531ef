"""The texts customers read (brand, support contact, replies, spoken messages): their
placeholders checked and filled in, and a text reply kept within what Twilio sends."""
from __future__ import annotations

import re

from commsvc.config.settings import Config, ConfigError
from commsvc.config.values import twiml_safe

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("{brand}", "{support}")  # what consent.messages.render fills in


def text(env: dict[str, str], name: str, default: str,
         placeholders: tuple[str, ...] = PLACEHOLDERS) -> str:
    """A text customers read (a brand, a reply), which TwiML can carry (twiml_safe): only
    spaces counts as unset (the default), and a placeholder other than these is refused, not
    sent as "{oops}"."""
    value = twiml_safe(env, name)
    unknown = [f"{{{word}}}" for word in _PLACEHOLDER.findall(value)
               if f"{{{word}}}" not in placeholders]
    if unknown:
        allowed = (f"may name {' and '.join(placeholders)} only" if placeholders
                   else "is the text itself, with no placeholder")
        raise ConfigError(f"{name} {allowed}, not {', '.join(unknown)}")
    return value or default


def reply(env: dict[str, str], name: str, default: str, brand: str, support: str) -> str:
    """A reply or spoken message, its {brand} and {support} filled in once, here."""
    return text(env, name, default).replace("{brand}", brand).replace("{support}", support)


def help_sms_reply(env: dict[str, str], brand: str, support: str) -> str:
    """HELP_SMS_REPLY as set (messages.render fills it in), once it is known to fit a text."""
    sms_reply(env, "HELP_SMS_REPLY", Config.help_sms_reply, brand, support)
    return text(env, "HELP_SMS_REPLY", Config.help_sms_reply)


# Twilio sends a text of at most 1,600 characters, counted in UTF-16 units as GSM and UCS-2
# encode them (an emoji counts twice); a longer <Message> is refused and the text lost.
MAX_SMS_CHARS = 1600


def sms_length(text: str) -> int:
    """Length as Twilio counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def sms_reply(env: dict[str, str], name: str, default: str, brand: str, support: str) -> str:
    """A text reply (reply) that Twilio can send: a longer one would be lost every time."""
    filled = reply(env, name, default, brand, support)
    if sms_length(filled) > MAX_SMS_CHARS:
        raise ConfigError(f"{name} is {sms_length(filled)} characters as Twilio counts them (an"
                          f" emoji counts twice); a text is at most {MAX_SMS_CHARS}")
    return filled
