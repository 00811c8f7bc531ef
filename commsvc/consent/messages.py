"""The texts consent answers with: short, GSM-7, under one SMS segment with the default brand.

A keyword is answered in the language it was written in (detector.detect says which: "en",
"fr" or "es"); English is the default. STOP and START stay the words to reply with in every
language: carriers act on them. `{brand}` and `{support}` come from Config (BRAND_NAME,
SUPPORT_CONTACT); the help text as a whole may be replaced with HELP_SMS_REPLY (same
placeholders), which then answers HELP, AIDE and AYUDA alike.
"""
from __future__ import annotations

from commsvc.config.settings import Config
from commsvc.consent.detector import DEFAULT_LANGUAGE

OPT_OUT_CONFIRMATION = {
    "en": "{brand}: You are unsubscribed and will receive no more texts from us."
          " Reply START to resubscribe.",
    "fr": "{brand} : Vous ne recevrez plus de SMS de notre part."
          " Répondez START pour les réactiver.",
    "es": "{brand}: Ya no le enviaremos SMS. Responda START para volver a recibirlos.",
}
OPT_IN_CONFIRMATION = {
    "en": "{brand}: You are resubscribed to texts about your bookings."
          " Reply HELP for help, STOP to opt out.",
    "fr": "{brand} : Vous recevez de nouveau les SMS de vos réservations."
          " Répondez AIDE pour de l'aide, STOP pour vous désabonner.",
    "es": "{brand}: Vuelve a recibir SMS sobre sus reservas."
          " Responda AYUDA para ayuda, STOP para darse de baja.",
}
HELP_REPLY = {
    "en": "{brand} booking messages. Help: {support}. Msg & data rates may apply."
          " Reply STOP to opt out.",
    "fr": "{brand}, SMS de vos réservations. Aide : {support}. Des frais de SMS peuvent"
          " s'appliquer. Répondez STOP pour vous désabonner.",
    "es": "{brand}, SMS de sus reservas. Ayuda: {support}. Pueden aplicarse tarifas de"
          " mensajes y datos. Responda STOP para darse de baja.",
}
BLOCKED_NOTICE = "{brand}: Your message could not be delivered."
BLOCKED_NOTICE_VOICE = (
    "{brand}: Your message could not be delivered. You can still reach them by calling this number."
)


def in_language(texts: dict[str, str], language: str) -> str:
    """The text in ``language``, or in English when there is none in it."""
    return texts.get(language) or texts[DEFAULT_LANGUAGE]


def render(template: str, config: Config) -> str:
    """Fill in the brand and support contact (str.replace: a stray brace never breaks a reply)."""
    return template.replace("{brand}", config.brand_name).replace(
        "{support}", config.support_contact)


def help_reply(config: Config, language: str = DEFAULT_LANGUAGE) -> str:
    return render(config.help_sms_reply or in_language(HELP_REPLY, language), config)
