"""Whole-message keywords (pipeline step 2): STOP and its family, START, YES, HELP, with only
courtesy around them; and the language a keyword message is written in."""
from __future__ import annotations

import re

from commsvc.consent import revocation_phrases as phrases
from commsvc.consent import text_folding
from commsvc.consent.detector.intent import DEFAULT_LANGUAGE, Intent

COURTESY = (r"(?:please|thanks|thank you|thank you very much|thank you so much|thankyou|ty"
            r"|merci|merci beaucoup|svp|stp|s il vous plait|s il te plait|sil vous plait"
            r"|sil te plait|por favor|porfavor|porfa|xfa|xfavor|gracias|muchas gracias)")
# courtesy ending a clause, set aside to read what it ends
COURTESY_TAIL_RE = re.compile(rf"(?: {COURTESY})+$")
OPTOUT_WORDS = (r"(?:stop all|stopall|stop|unsubscribe|opt out|revoke|quit|end"
                r"|arretez|arreter|arrete|arret|stoppez|alto|baja|parar|detener"
                r"|darse de baja|dar de baja)")
# filler allowed next to an opt-out keyword: courtesy, a few intensifiers and "and" ("stop
# now", "stop please and thank you", "ALTO YA": Spanish "ya" is "now", "Arrêtez tout de
# suite", "Alto de inmediato"; not "Baja de inmediato", which is "come down right away"),
# and after it a parting wish ("stop merci bonne journée", "STOP thanks, have a good day")
_STRESS = (r"(?:now|right now|immediately|asap|ya|tout de suite|immediatement|maintenant"
           r"|(?<!\bbaja )(?:de inmediato|inmediatamente))")
OPTOUT_EXTRA = (rf"(?:{COURTESY}|{_STRESS}|it|already|and|y|et"
                r"|have a (?:good|nice|great) day|bonne journee|bonne soiree|buen dia"
                r"|que tengan? (?:un )?buen dia)")
# A keyword with a stress word asked as a question asks about the work: "Stop now?",
# "Arrêter maintenant?", "¿Parar de inmediato?" (should I stop right away?)
_STRESS_RE = re.compile(rf"\b{_STRESS}\b")

# What may come before an opt-out keyword in a message that is nothing else. A refusal, before
# any keyword ("No longer interested, please stop", "No gracias, alto", "Non merci, arrêtez");
# a greeting, an acknowledgement or a plea only before the strong ones, which mean nothing
# else ("Okay, please stop", "Hey stop", "Thanks but please stop"; not "Just quit", "Ok end",
# "Ya baja", "Oye, alto": quit, end, baja and alto are also words of the job). Each word once,
# no entry two others in a row ("thanks but" is "thanks" then "but"): a repeated group that
# can split a text two ways backtracks exponentially.
_REFUSAL = (r"(?:no thanks|no thank you|not interested|no longer interested"
            r"|(?:i m|im|i am|we re|were|we are) no longer interested"
            r"|(?:i|we) no longer need (?:your|the|this) (?:services?|help)"
            r"|non merci|no gracias|no me interesa)")
# No more need of us, either side of a strong keyword: "We're all set, please stop", "Please
# stop. We're all set"
_ALL_SET = r"(?:were|we re|we r|we are|im|i m|i am) all set"
# (Not "oh" nor "mais": "Oh stop!" is banter after a compliment, "Mais arrête!" means "no way".)
# ("Ça suffit, arrêtez", "C'est assez, arrêtez" as "Enough, stop"; "c assez là" as typed)
_INTERJECTION = (r"(?:ok|okay|k|hey|hi|hello|yo|enough|(?:(?:ca suffit|c est assez|c assez"
                 r"|cest assez|assez)(?: la)?)|alright"
                 r"|all right|look|listen"
                 r"|seriously|just|so|well|again|but|i said|bon|merci mais|basta|ya basta"
                 rf"|{_ALL_SET})")
_STRONG_OPTOUT = (r"(?:stop all|stopall|stop|unsubscribe|opt out|revoke|arretez|arreter|arrete"
                  r"|arret|stoppez)")
_OPTOUT_KW_RE = re.compile(
    rf"(?:(?:{_REFUSAL}|{COURTESY}) )*{OPTOUT_WORDS}"
    rf"(?: (?:{OPTOUT_EXTRA}|{OPTOUT_WORDS}))*")
# Led in by a greeting, an acknowledgement or a plea: never a question ("So stop?", "Ok stop
# now?" ask about the work).
_LED_KW_RE = re.compile(
    rf"(?:(?:{_REFUSAL}|{_INTERJECTION}|{COURTESY}) )*{_STRONG_OPTOUT}"
    # ... and said again after "just" ("Stop. Just stop.", "Arrêtez. Juste arrêtez.")
    rf"(?: (?:{OPTOUT_EXTRA}|{OPTOUT_WORDS}|(?:just|juste) {_STRONG_OPTOUT}|{_ALL_SET}))*")
# Asked, with "please" or "kindly" somewhere and nothing else: "Can you please stop", "Please
# can you stop", "Can you stop please", "Could you kindly just stop it?"; not "Can you stop
# it?", "Will you stop?", which may be about the job.
_ASKED_KW_RE = re.compile(
    rf"(?=.*\b(?:please|kindly)\b)(?:(?:{_REFUSAL}|{_INTERJECTION}|{COURTESY}) )*"
    rf"(?:can|could|would|will) (?:you|u)(?: (?:please|kindly))?"
    # "it" or "now" only with "just" ("Can you please just stop it already"): "Can you stop it
    # please?" may be the leak or the alarm
    rf"(?: {_STRONG_OPTOUT}(?: {COURTESY})*"
    rf"| just(?: please)? {_STRONG_OPTOUT}(?: (?:it|now|already|{COURTESY}))*)")
# The sender saying they reply with the keyword, the whole message and never a question:
# "Replying STOP", "I'm replying STOP", "Je réponds STOP", "Respondo BAJA" ("Reply STOP",
# "Répondez STOP" quote an instruction: without_instructions).
_REPLYING = (r"(?:(?:i m|im|i am|we re|were|we are) replying|replying|i reply|i replied"
             r"|i ve replied|ive replied|my (?:answer|reply)(?: is)?|je (?:vous |te )?(?:reponds"
             r"|repond)|ma reponse(?: est)?|(?:le |les )?(?:respondo|contesto)"
             r"|mi respuesta(?: es)?)")
_REPLYING_KW_RE = re.compile(
    rf"{_REPLYING}(?: {COURTESY})* {OPTOUT_WORDS}(?: (?:{OPTOUT_EXTRA}|{OPTOUT_WORDS}))*")
# BASTA before ALTO, a Spanish keyword that is also a word of the job: "Ya basta, alto" (before
# PARA and PARE it is _POLITE_PARA_RE's)
_BASTA_RE = re.compile(r"(?:ya )?basta alto(?: (?:por favor|gracias|ya))*")
# PARA / PARE with Spanish courtesy or refusal, nothing else: "por favor para", "Ya no me
# interesa, por favor pare" (bare, they are _BARE_KW_RE's; "please PARA", "hola para" and
# "gracias para" are not asking anything).
_SPANISH_POLITE = r"(?:por favor|porfavor|porfa|xfa|xfavor|no gracias|no me interesa|ya|basta)"
_SPANISH_THANKS = rf"(?:{_SPANISH_POLITE}|gracias|muchas gracias)"  # only after: "Para, gracias"
_POLITE_PARA_RE = re.compile(
    rf"(?:{_SPANISH_POLITE} )+(?:para|pare)(?: {_SPANISH_THANKS})*"
    rf"|(?:para|pare)(?: {_SPANISH_THANKS})+")
# STOP with a bare object, the whole message: "STOP SENDING (ME THESE)", "stop this", "STOP
# ADS". Only after STOP ("end this", "quit that" are conversation) and never as a question.
_STOP_OBJECT = (r"(?:this|that|these|those|(?:(?:the|your|all(?: the| these| those| your)?)"
                r" )?(?:(?:promo|promotional|marketing|spam|junk) )?(?:stuff|ads|ad|promos"
                r"|promotions|spam|message|text|marketing|pub|pubs|publicite|publicites|deals"
                r"|offers|specials|coupons))")
_STOP_OBJECT_KW_RE = re.compile(
    rf"(?:{COURTESY} )*(?:stop all|stopall|stop)"
    rf" (?:sending(?: me| us)?(?: {_STOP_OBJECT})?|{_STOP_OBJECT})(?: {OPTOUT_EXTRA})*")
# A message that ends as a question: a question mark (any form) with nothing after it but
# punctuation, emoji or spaces ("stop this?!", "stop this? 😡", "stop this？").
_QUESTION_MARKS = frozenset("?？⁇⁈⁉❓❔¿")


# A tag asked after a request, as a clause of its own, asks nothing of the request: "Please
# no more texts, ok?", "Plus de textos svp, ok ?", "Laissez-moi tranquille, d'accord ?", "Ya
# no me manden más, ¿vale?"
_TAG_QUESTION_RE = re.compile(r" \| (?:ok|okay|k|kk|alright|got it|understood|d accord|compris"
                              r"|vale|entendido|entendiste|si|right)$")


def ends_as_question(text: str, s: str) -> bool:
    """A question mark in the text's tail of non-word characters, unless all it asks is a tag
    (`s` is the text's tokens, joined). Scanned from the end: a regex searched for it tried
    every "?" of a long run of them (33 ms for 1,600)."""
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] == "_"):
        end -= 1
    return not _QUESTION_MARKS.isdisjoint(text[end:]) and _TAG_QUESTION_RE.search(s) is None
SPELLED_RE = re.compile(r"\w(?: \w){2,}")
# Opt-out words that are as often ordinary conversation: only the whole message, alone or
# repeated ("cancel", "FIN!", "para para"), never with other words ("cancel please").
_BARE_KW_RE = re.compile(
    r"(?P<kw>cancel|cancel subscription|cancel my subscription"
    r"|(?:cancelar|cancelen|cancele|cancela|anular|anulen|anule|anula)(?: mi| la)? suscripcion"
    r"|cancelar"
    r"|annuler|fin|para|pare|salir|remove|remove me|basta|ya basta|basta ya"
    r"|take me off)(?: (?P=kw))*")
# CANCEL / END with the messages as their object, the whole message: "Cancel all texts", "End
# messages", "Cancelar mensajes"; not "cancel the visit", nor "cancel my message" (taking back
# the one just sent): the plural is read in the text as written (PLURAL_RE), as folding made
# "texts" "text".
_MESSAGES = r"(?:text )?(?:text|message|notification|notifications)"
_CANCEL_MESSAGES_RE = re.compile(
    rf"(?:{COURTESY} )*(?:cancel|end|cancelar|cancela|cancelen|annuler|annulez)(?: (?:all"
    rf"|all the|all my|all your|the|my|your|these|those|todos los|todos mis|los|mis|tous les"
    rf"|tous mes|les|mes))? {_MESSAGES}(?: {OPTOUT_EXTRA})*")
# NO TEXTS (OR CALLS), the whole message with only courtesy, plural as written like CANCEL's:
# "No texts please", "No calls or texts please"; not "no text on the sign". And only with a
# courtesy word, "anymore" (_NO_MESSAGES_SIGNAL_RE) or another way to be reached ("No texts,
# call me"): a bare "No texts", "No messages" is as often the answer to "did you get my
# texts?". ("No more texts" is a revocation phrase.)
_CALLS = r"(?:call|calls|email|emails)"
# Each word once: "ever again" is "ever" then "again". An alternative that is two others in a
# row ("ever again" beside "ever" and "again") inside a repeated group let the matcher split
# each repeat two ways: "No texts" + " ever again" * 22 + " x" took 1.9 s, doubling each time.
_NO_MORE = r"(?:anymore|again|ever|at all|period)"
_NO_MESSAGES_RE = re.compile(
    rf"(?:{COURTESY} )*no (?:{_CALLS} (?:or|and|n) )?{_MESSAGES}(?: (?:or|and|n) {_CALLS})?"
    rf"(?: (?:{OPTOUT_EXTRA}|{_NO_MORE}))*(?P<other_way>{phrases.OTHER_WAY})")
_NO_MESSAGES_SIGNAL_RE = re.compile(rf"\b(?:{COURTESY}|{_NO_MORE})\b")


def _no_messages(words: str) -> bool:
    """NO TEXTS with a courtesy word, "anymore" or another way to be reached ("No texts, call
    me"): _NO_MESSAGES_RE's."""
    m = _NO_MESSAGES_RE.fullmatch(words)
    return m is not None and bool(m["other_way"] or _NO_MESSAGES_SIGNAL_RE.search(words))
PLURAL_RE = re.compile(r"(?i)\b(?:texts|messages|msgs|txts|notifications|mensajes|textos"
                       r"|notificaciones|sms)\b")
# REMOVE ME / TAKE ME OFF, alone or with courtesy ("please take me off").
_TAKE_ME_OFF_RE = re.compile(
    rf"(?:{COURTESY} )*(?:take me off|remove me)(?: {COURTESY})*")
OPTIN_WORDS = r"(?:start|unstop)"
YES_WORDS = r"(?:yes|oui|si)"
HELP_WORDS = r"(?:help|info|aide|ayuda)"
_OPTIN_KW_RE = re.compile(rf"(?:{COURTESY} )*{OPTIN_WORDS}(?: (?:{COURTESY}|{OPTIN_WORDS}))*")
_YES_KW_RE = re.compile(rf"(?:{COURTESY} )*{YES_WORDS}(?: (?:{COURTESY}|{YES_WORDS}))*")
_HELP_KW_RE = re.compile(rf"(?:{COURTESY} )*{HELP_WORDS}(?: (?:{COURTESY}|{HELP_WORDS}))*")

# Words of one language only, among those a keyword message or a complaint next to a STOP
# is made of; the first one found names the language of the reply.
_LANGUAGE_OF_WORD = text_folding.word_table({
    "fr": "arretez arreter arrete arret stoppez annuler annulez oui aide merci beaucoup svp stp"
          " vous plait sil qui etes mauvais personne dit combien fois hier repete derniere"
          " reponds repond reponse accord harcelement interesse interessee inscrit inscrite quelqu"
          " autre engage embauche"
          " jamais trop pub pubs publicite publicites je suite immediatement maintenant suffit est"
          " trompe arretent arrivent sans cesse nerfs tapent enervent gossent achalent fatiguent"
          " tannent tellement fatigants agacants enervants penibles",
    "es": "alto baja parar detener darse para pare cancelar cancela cancelen suscripcion si ayuda"
          " basta salir"
          " por favor porfavor porfa xfa xfavor gracias muchas quien eres equivocado equivocada"
          " persona dije pedi cuantas veces vez otra ayer pares respondo contesto respuesta"
          " bueno vale listo demasiados inmediato inmediatamente contratamos encontramos alguien"
          " interesa siguen llegando llegar dejan paran estos molestos molestan fastidian",
})


def language(words: list[str]) -> str:
    """The language of the first word that belongs to one only; English when none does."""
    get = _LANGUAGE_OF_WORD.get
    for word in words:
        language = get(word)
        if language is not None:
            return language
    return DEFAULT_LANGUAGE


def keyword(words: str, text: str, opted_out: bool, question: bool = False) -> Intent | None:
    """The intent of a whole-message keyword (with only courtesy words around it), if any;
    `text` is the message as written."""
    if (_OPTOUT_KW_RE.fullmatch(words) and not (question and _STRESS_RE.search(words))
            or _BARE_KW_RE.fullmatch(words)
            or _POLITE_PARA_RE.fullmatch(words) or _ASKED_KW_RE.fullmatch(words)
            or _BASTA_RE.fullmatch(words)
            or _TAKE_ME_OFF_RE.fullmatch(words)
            or ((_CANCEL_MESSAGES_RE.fullmatch(words)
                 or _no_messages(words))
                and PLURAL_RE.search(text))):
        return Intent.OPT_OUT
    if not question and (_STOP_OBJECT_KW_RE.fullmatch(words) or _LED_KW_RE.fullmatch(words)
                         or _REPLYING_KW_RE.fullmatch(words)):
        return Intent.OPT_OUT
    if _OPTIN_KW_RE.fullmatch(words):
        return Intent.OPT_IN
    if _YES_KW_RE.fullmatch(words):
        return Intent.OPT_IN if opted_out else Intent.CONVERSATION
    if _HELP_KW_RE.fullmatch(words):
        return Intent.HELP
    return None
