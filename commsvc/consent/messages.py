"""The texts consent answers with: short, GSM-7, under one SMS segment with the default brand.

`{brand}` and `{support}` come from Config (BRAND_NAME, SUPPORT_CONTACT); the help text as a
whole may be replaced with HELP_SMS_REPLY (same placeholders).
"""
from __future__ import annotations

from commsvc.config import Config

OPT_OUT_CONFIRMATION = (
    "{brand}: You are unsubscribed and will receive no more texts from us."
    " Reply START to resubscribe."
)
OPT_IN_CONFIRMATION = (
    "{brand}: You are resubscribed to texts about your bookings."
    " Reply HELP for help, STOP to opt out."
)
HELP_REPLY = (
    "{brand} booking messages. Help: {support}. Msg & data rates may apply."
    " Reply STOP to opt out."
)
BLOCKED_NOTICE = "{brand}: Your message could not be delivered."
BLOCKED_NOTICE_VOICE = (
    "{brand}: Your message could not be delivered. You can still reach them by calling this number."
)


def render(template: str, config: Config) -> str:
    """Fill in the brand and support contact (str.replace: a stray brace never breaks a reply)."""
    return template.replace("{brand}", config.brand_name).replace(
        "{support}", config.support_contact)


def help_reply(config: Config) -> str:
    return render(config.help_sms_reply or HELP_REPLY, config)
