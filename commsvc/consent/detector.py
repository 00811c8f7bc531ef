"""Classify an inbound SMS as opt-out, opt-in, help request or ordinary conversation.

Runs on every inbound message: standard library only, everything compiled at import, about
10 µs of CPU for a 40-character message.

Pipeline
--------
0. What the phone added is set aside (_without_signature): a signature line ("Sent from my
   iPhone", a "--" line) or a business's signature block (a name line, then the company with
   its legal form: "Mike Johnson" / "Johnson Plumbing LLC") and what follows, and a "Re:"
   before the text.
1. Tokens (text_folding.py): NFKD with combining marks dropped (accents optional), casefold,
   apostrophes unified, ``n't`` -> ``nt``; clause punctuation becomes a ``|`` token, every other
   non-word character (emoji, quotes, hyphens, apostrophes) a space; then typo and
   abbreviation folding word by word (txt/texting -> ``text``, msgs/mensajes -> ``message``,
   plz -> ``please``, mrc -> ``merci``, x favor -> ``xfavor``, stpo/stoooop -> ``stop``,
   do not -> ``dont``, unsubcribe -> ``unsubscribe``, Québec pu -> ``plus``, mécrire ->
   ``m ecrire``, mensajear -> ``escribir``, ...). A keyword quoted as an
   instruction ("Reply STOP to unsubscribe", "Répondez STOP pour vous désabonner") becomes,
   with the rest of its clause, one word no rule knows (_without_instructions).
2. Whole-message keywords: Twilio's opt-out set plus French and Spanish, START/UNSTOP,
   YES/OUI/SI, HELP/INFO/AIDE/AYUDA, with only courtesy words around them ("STOP please",
   "help?"). Words that are as often ordinary conversation (CANCEL, CANCELAR, ANNULER,
   CANCELAR SUSCRIPCION, FIN, PARA, PARE, REMOVE, TAKE ME OFF, BASTA) only count bare: "cancel
   please" is more often about an appointment than about messages, "para" also means "for",
   and a false opt-out silences a customer; CANCEL or END with the messages as object ("Cancel
   all texts") is one too, and so is NO TEXTS with a courtesy word or "anymore" ("No texts
   please", "No calls or texts please"; a bare "No texts" answers "did you get my texts?");
   DAR DE BAJA counts as a keyword like DARSE DE BAJA; so does a keyword the sender says
   they reply ("Replying STOP", "Je réponds STOP", "Respondo BAJA").
3. Revocation in the sender's own words (en/fr/es; the patterns are in
   revocation_phrases.py): patterns that need a directive about *messaging* ("stop texting
   me", "remove me from your list", "ne m'écrivez plus", "no me manden más mensajes"),
   each tried only at the words it can start with, with guards against negation ("don't
   stop texting me"), other people or numbers ("stop texting my husband", "text my wife
   instead", "my wife will handle it"), things of the job ("stop texting me photos"), nouns
   ("the bus stop"), who stops ("I'll stop texting you", "he's going to stop texting"), time
   or frequency limits ("don't text me before 8am", "stop texting me every hour"), mistakes
   ("I unsubscribed by accident"), what the sender tells another person ("tell him to stop
   texting me", "tell my partner to ...") and, for the words that must end the message, a
   question ("Don't text again?"). A revocation beats every other reading.
4. A bare STOP as its own sentence next to a plain complaint about the messages
   ("STOP. I never signed up for this", "Stop! Who is this?") or beside nothing but clauses
   that want no more contact or say the sender asked before ("STOP. I told you yesterday",
   "Stop. I said stop a week ago", "ARRÊTEZ. Je vous l'ai déjà dit", "STOP. Ya te dije") or
   after an instruction quoted and agreed to ("Reply STOP? Fine. STOP"), or
   the whole message with one
   that says the sender is the wrong person ("STOP wrong number", "Número equivocado, BAJA",
   and REMOVE after it: "Wrong number, please remove").

`detect` also says which language a keyword or revocation was written in (en, fr or es), so
the confirmation can answer in it: the phrase list that matched, else the first word of the
message that belongs to one language only ("arret", "svp", "por favor"); English when no word
tells (STOP, START, HELP and FIN alone). Conversation is never given a language: nothing is
spent on it.
"""
from __future__ import annotations

import enum
import re
from typing import NamedTuple

from commsvc.consent import revocation_phrases as phrases
from commsvc.consent import text_folding

__all__ = ["Detection", "Intent", "classify", "detect"]


class Intent(enum.StrEnum):  # a str: Intent.OPT_OUT == "opt_out", str() gives the value
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CONVERSATION = "conversation"


DEFAULT_LANGUAGE = "en"


class Detection(NamedTuple):
    """What a text is, and the language to answer it in ("en", "fr" or "es")."""

    intent: Intent
    language: str = DEFAULT_LANGUAGE
    # An opt-out said in the sender's own words rather than a keyword message: the text may
    # hold anything else they wrote (a name, an address), so it is no evidence to keep as is.
    own_words: bool = False


_CONVERSATION = Detection(Intent.CONVERSATION)


# --------------------------------------------------------------------------- keywords

_COURTESY = (r"(?:please|thanks|thank you|thank you very much|thank you so much|thankyou|ty"
             r"|merci|merci beaucoup|svp|stp|s il vous plait|s il te plait|sil vous plait"
             r"|sil te plait|por favor|porfavor|porfa|xfa|xfavor|gracias|muchas gracias)")
_OPTOUT_WORDS = (r"(?:stop all|stopall|stop|unsubscribe|opt out|revoke|quit|end"
                 r"|arretez|arreter|arrete|arret|stoppez|alto|baja|parar|detener"
                 r"|darse de baja|dar de baja)")
# filler allowed next to an opt-out keyword: courtesy, a few intensifiers and "and" ("stop
# now", "stop please and thank you", "ALTO YA": Spanish "ya" is "now", "Arrêtez tout de
# suite", "Alto de inmediato"; not "Baja de inmediato", which is "come down right away"),
# and after it a parting wish ("stop merci bonne journée", "STOP thanks, have a good day")
_STRESS = (r"(?:now|right now|immediately|asap|ya|tout de suite|immediatement|maintenant"
           r"|(?<!\bbaja )(?:de inmediato|inmediatamente))")
_OPTOUT_EXTRA = (rf"(?:{_COURTESY}|{_STRESS}|it|already|and|y|et"
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
# ("Ça suffit, arrêtez", "C'est assez, arrêtez" as "Enough, stop")
_INTERJECTION = (r"(?:ok|okay|k|hey|hi|hello|yo|enough|ca suffit|c est assez|assez|alright"
                 r"|all right|look|listen"
                 r"|seriously|just|so|well|again|but|i said|bon|merci mais|basta|ya basta"
                 rf"|{_ALL_SET})")
_STRONG_OPTOUT = (r"(?:stop all|stopall|stop|unsubscribe|opt out|revoke|arretez|arreter|arrete"
                  r"|arret|stoppez)")
_OPTOUT_KW_RE = re.compile(
    rf"(?:(?:{_REFUSAL}|{_COURTESY}) )*{_OPTOUT_WORDS}"
    rf"(?: (?:{_OPTOUT_EXTRA}|{_OPTOUT_WORDS}))*")
# Led in by a greeting, an acknowledgement or a plea: never a question ("So stop?", "Ok stop
# now?" ask about the work).
_LED_KW_RE = re.compile(
    rf"(?:(?:{_REFUSAL}|{_INTERJECTION}|{_COURTESY}) )*{_STRONG_OPTOUT}"
    # ... and said again after "just" ("Stop. Just stop.", "Arrêtez. Juste arrêtez.")
    rf"(?: (?:{_OPTOUT_EXTRA}|{_OPTOUT_WORDS}|(?:just|juste) {_STRONG_OPTOUT}|{_ALL_SET}))*")
# Asked, with "please" or "kindly" somewhere and nothing else: "Can you please stop", "Please
# can you stop", "Can you stop please", "Could you kindly just stop it?"; not "Can you stop
# it?", "Will you stop?", which may be about the job.
_ASKED_KW_RE = re.compile(
    rf"(?=.*\b(?:please|kindly)\b)(?:(?:{_REFUSAL}|{_INTERJECTION}|{_COURTESY}) )*"
    rf"(?:can|could|would|will) (?:you|u)(?: (?:please|kindly))?"
    # "it" or "now" only with "just" ("Can you please just stop it already"): "Can you stop it
    # please?" may be the leak or the alarm
    rf"(?: {_STRONG_OPTOUT}(?: {_COURTESY})*"
    rf"| just(?: please)? {_STRONG_OPTOUT}(?: (?:it|now|already|{_COURTESY}))*)")
# The sender saying they reply with the keyword, the whole message and never a question:
# "Replying STOP", "I'm replying STOP", "Je réponds STOP", "Respondo BAJA" ("Reply STOP",
# "Répondez STOP" quote an instruction: _without_instructions).
_REPLYING = (r"(?:(?:i m|im|i am|we re|were|we are) replying|replying|i reply|i replied"
             r"|i ve replied|ive replied|my (?:answer|reply)(?: is)?|je (?:vous |te )?(?:reponds"
             r"|repond)|ma reponse(?: est)?|(?:le |les )?(?:respondo|contesto)"
             r"|mi respuesta(?: es)?)")
_REPLYING_KW_RE = re.compile(
    rf"{_REPLYING}(?: {_COURTESY})* {_OPTOUT_WORDS}(?: (?:{_OPTOUT_EXTRA}|{_OPTOUT_WORDS}))*")
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
    rf"(?:{_COURTESY} )*(?:stop all|stopall|stop)"
    rf" (?:sending(?: me| us)?(?: {_STOP_OBJECT})?|{_STOP_OBJECT})(?: {_OPTOUT_EXTRA})*")
# A message that ends as a question: a question mark (any form) with nothing after it but
# punctuation, emoji or spaces ("stop this?!", "stop this? 😡", "stop this？").
_QUESTION_MARKS = frozenset("?？⁇⁈⁉❓❔¿")


def _ends_as_question(text: str) -> bool:
    """A question mark in the text's tail of non-word characters. Scanned from the end: a
    regex searched for it tried every "?" of a long run of them (33 ms for 1,600)."""
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] == "_"):
        end -= 1
    return not _QUESTION_MARKS.isdisjoint(text[end:])
_SPELLED_RE = re.compile(r"\w(?: \w){2,}")
# Opt-out words that are as often ordinary conversation: only the whole message, alone or
# repeated ("cancel", "FIN!", "para para"), never with other words ("cancel please").
_BARE_KW_RE = re.compile(
    r"(?P<kw>cancel|cancel subscription|cancel my subscription"
    r"|(?:cancelar|cancelen|cancele|cancela|anular|anulen|anule|anula)(?: mi| la)? suscripcion"
    r"|cancelar"
    r"|annuler|fin|para|pare|remove|remove me|basta|ya basta|basta ya"
    r"|take me off)(?: (?P=kw))*")
# CANCEL / END with the messages as their object, the whole message: "Cancel all texts", "End
# messages", "Cancelar mensajes"; not "cancel the visit", nor "cancel my message" (taking back
# the one just sent): the plural is read in the text as written (_PLURAL_RE), as folding made
# "texts" "text".
_MESSAGES = r"(?:text )?(?:text|message|notification|notifications)"
_CANCEL_MESSAGES_RE = re.compile(
    rf"(?:{_COURTESY} )*(?:cancel|end|cancelar|cancela|cancelen|annuler|annulez)(?: (?:all"
    rf"|all the|all my|all your|the|my|your|these|those|todos los|todos mis|los|mis|tous les"
    rf"|tous mes|les|mes))? {_MESSAGES}(?: {_OPTOUT_EXTRA})*")
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
    rf"(?:{_COURTESY} )*no (?:{_CALLS} (?:or|and|n) )?{_MESSAGES}(?: (?:or|and|n) {_CALLS})?"
    rf"(?: (?:{_OPTOUT_EXTRA}|{_NO_MORE}))*(?P<other_way>{phrases.OTHER_WAY})")
_NO_MESSAGES_SIGNAL_RE = re.compile(rf"\b(?:{_COURTESY}|{_NO_MORE})\b")


def _no_messages(words: str) -> bool:
    """NO TEXTS with a courtesy word, "anymore" or another way to be reached ("No texts, call
    me"): _NO_MESSAGES_RE's."""
    m = _NO_MESSAGES_RE.fullmatch(words)
    return m is not None and bool(m["other_way"] or _NO_MESSAGES_SIGNAL_RE.search(words))
_PLURAL_RE = re.compile(r"(?i)\b(?:texts|messages|msgs|txts|notifications|mensajes|textos"
                        r"|notificaciones|sms)\b")
# REMOVE ME / TAKE ME OFF, alone or with courtesy ("please take me off").
_TAKE_ME_OFF_RE = re.compile(
    rf"(?:{_COURTESY} )*(?:take me off|remove me)(?: {_COURTESY})*")
_OPTIN_WORDS = r"(?:start|unstop)"
_YES_WORDS = r"(?:yes|oui|si)"
_HELP_WORDS = r"(?:help|info|aide|ayuda)"
_OPTIN_KW_RE = re.compile(rf"(?:{_COURTESY} )*{_OPTIN_WORDS}(?: (?:{_COURTESY}|{_OPTIN_WORDS}))*")
_YES_KW_RE = re.compile(rf"(?:{_COURTESY} )*{_YES_WORDS}(?: (?:{_COURTESY}|{_YES_WORDS}))*")
_HELP_KW_RE = re.compile(rf"(?:{_COURTESY} )*{_HELP_WORDS}(?: (?:{_COURTESY}|{_HELP_WORDS}))*")

# Words of one language only, among those a keyword message or a complaint next to a STOP
# is made of; the first one found names the language of the reply.
_LANGUAGE_OF_WORD = text_folding.word_table({
    "fr": "arretez arreter arrete arret stoppez annuler annulez oui aide merci beaucoup svp stp"
          " vous plait sil qui etes mauvais personne dit combien fois hier repete derniere"
          " reponds repond reponse accord harcelement interesse interessee inscrit inscrite quelqu"
          " autre engage embauche"
          " jamais trop pub pubs publicite publicites je suite immediatement maintenant suffit est"
          " trompe",
    "es": "alto baja parar detener darse para pare cancelar cancela cancelen suscripcion si ayuda"
          " basta"
          " por favor porfavor porfa xfa xfavor gracias muchas quien eres equivocado equivocada"
          " persona dije pedi cuantas veces vez otra ayer pares respondo contesto respuesta"
          " bueno vale listo demasiados inmediato inmediatamente contratamos encontramos alguien"
          " interesa",
})


def _language(words: list[str]) -> str:
    """The language of the first word that belongs to one only; English when none does."""
    get = _LANGUAGE_OF_WORD.get
    for word in words:
        language = get(word)
        if language is not None:
            return language
    return DEFAULT_LANGUAGE


# "STOP. I never signed up for this": a bare strong keyword as its own clause, next to a
# clause that is plainly about unwanted messages. A wrong number is no such clause: only with
# nothing else (_STRONG_BESIDE_SIGNAL_RE, _only_stop_and_fed_up), so "Stop, wrong number on
# the gate", "Stop! Wrong number, the house is 4521" are about the job.
_STRONG_WORDS = "stop all|stopall|stop|unsubscribe|opt out|revoke|arretez|arrete|arret"


def _strong(words: str) -> str:
    """A strong keyword among `words` with only courtesy and intensifiers around it."""
    return rf"(?:(?:{_COURTESY} )*(?:{words})(?: (?:{_OPTOUT_EXTRA}|stop))*)"


_STRONG_CLAUSE_RE = re.compile(_strong(_STRONG_WORDS))
# Words of a complaint that the messages are unwanted, shared by _UNWANTED_SIGNAL_RE and
# _COMPLAINT: who the sender is asked, and never having asked for the messages.
_WHO_IS_THIS = (r"(?:who is this|whos this|who s this|who are you|qui etes vous|c est qui"
                r"|quien es|quien eres)")
_SIGNED_UP = r"(?:sign(?:ed)? up|subscribe[d]?|opt(?:ed)? in|ask(?:ed)? for (?:this|these|it|them))"
_NEVER_SIGNED_UP_ES = r"(?:nunca|no) me (?:suscribi|inscribi|registre)"
# Who gave them the number, or that the sender never did: "Who gave you my number? Stop", "Je
# vous ai jamais donné mon numéro, arrêtez", "¿Quién les dio mi número? Alto"
_MY_NUMBER = (r"(?:who gave you (?:my|this) number|how did you get (?:my|this) number"
              r"|(?:i )?never gave you (?:my|this) number"
              r"|qui vous a donne mon numero"
              r"|(?:je )?(?:ne )?(?:vous |t )?ai jamais donne mon numero"
              r"|quien (?:le |les |te )?dio mi numero|de donde (?:saco|sacaron|sacaste) mi numero"
              r"|(?:yo )?nunca (?:le |les |te )?di mi numero)")
# Not knowing who writes, or never having booked anything: "Don't know you. STOP", "I never
# booked anything. STOP", "Je vous connais pas, arrêtez", "No los conozco. BAJA"
_STRANGER = (r"(?:(?:i )?(?:dont|do not) know (?:you|who you are|who this is)"
             r"|(?:i )?(?:never|didnt|did not) (?:book|booked|order|ordered|request|requested)"
             r" anything"
             r"|je (?:ne )?(?:sais pas qui vous etes|vous connais pas)"
             r"|no (?:se quien(?:es)? (?:son|es|eres)|(?:lo|los|la|las|te) conozco))")
# The end of a clause, then only clauses of a strong keyword or courtesy to the end
_THEN_ONLY_KEYWORDS = (rf"(?=(?: {_COURTESY})*(?: \| (?:{_strong(_STRONG_WORDS)}"
                       rf"|{_COURTESY}(?: {_COURTESY})*))*$)")
_UNWANTED_SIGNAL_RE = re.compile(
    r"\b(?:(?:never|dont remember|didnt|did not) " + _SIGNED_UP
    # who the sender is asked as the end of its clause: "Stop! Who is this technician?" asks
    # about the job
    + r"|" + _WHO_IS_THIS + rf"(?=(?: {_COURTESY})*(?: \||$))"
    # not interested in a thing of the job is no complaint about the messages ("Stop, not
    # interested in the upgrade, just the repair"); in the services, offers, texts it is
    r"|not interested(?! in (?:the|an|a|your|that) (?!service|offer|text|message"
    r"|promo|ad)\w)|spam|scam|harass\w*"
    # ... and who gave us the number, as the end of its clause ("Stop! Who gave you my number
    # for the gate?" is about the job) and with only keywords and courtesy after it: "Stop!
    # Who gave you my number? My neighbour, she loved your work" answers its own question
    + r"|" + _MY_NUMBER + _THEN_ONLY_KEYWORDS
    # ... and not knowing the sender or never having booked, the same way: "I never requested
    # anything. Stop, wait, did my husband book?" goes on about the job
    + r"|" + _STRANGER + _THEN_ONLY_KEYWORDS
    + r"|keep (?:text|message|texting|messaging|contacting|spamming) (?:me|us)"
    r"|why (?:am i|do i keep|do you keep|are you) (?:getting|receiving|sending|text|message)"
    # the same in French and Spanish: "STOP. Esto es acoso", "Stop, je suis jamais inscrit"
    # (not interested, in them, only as the whole message: _STRONG_BESIDE_SIGNAL_RE)
    r"|harcel\w*|acoso|hostigamiento|jamais inscrite?|" + _NEVER_SIGNED_UP_ES + r")\b")
# Units of time and amounts of them, in en/fr/es: one vocabulary for how long ago the sender
# asked ("a week ago", "il y a une heure", "hace un mes": _PAST_TIME), how long a revocation is
# limited to ("for a month", "pendant un mois", "por un mes": _TIME_UNIT) and how many times
# the sender asked ("fifteen times": _TIMES).
_UNIT = (r"(?:sec|secs|second|seconds|moment|moments|min|mins|minute|minutes|hr|hrs|hour|hours"
         r"|while|bit|day|days|night|morning|afternoon|evening|weekend|week end|week|weeks|month"
         r"|months|seconde|secondes|heure|heures|jour|jours|journee|soiree|semaine|semaines|mois"
         r"|segundo|segundos|momento|momentito|minuto|minutos|hora|horas|rato|ratito|dia|dias"
         r"|semana|semanas|mes|meses|finde|fin de semana)")
_NUMBER = (r"(?:one|two|three|four|five|ten|fifteen|twenty|thirty|deux|trois|quatre|cinq|dix"
           r"|quinze|vingt|trente|dos|tres|cuatro|cinco|diez|quince|veinte|treinta)")
# "a", "a few", "a couple (of)" in the three languages: an amount of a unit
_FEW = r"(?:an?|un|une|una|unos|unas|quelques|a few|a couple|a couple of)"
_AGO_AMOUNT = rf"(?:(?:{_FEW}|several|many|{_NUMBER}|\d+) )?"
# A whole clause that says the sender asked before, in en/fr/es: "I told you yesterday", "I said
# stop a week ago", "I asked you to stop", "How many times", "For the last time", "Je vous
# l'ai déjà dit", "J'ai dit stop hier", "Combien de fois", "Ya te dije", "Te dije que pares",
# "¿Cuántas veces?", "Otra vez". A past time may end it (when they asked: "yesterday", "a week
# ago", "il y a une heure", "hace una semana"), never anything else: "I said no", "I told you
# the gate code", "I said I'd come" are about the job. Each part at most once, so it cannot
# backtrack.
_PAST_TIME = (r"(?:yesterday|earlier|before|this morning|this afternoon|last (?:week|night"
              r"|month|time)|on (?:mon|tues|wednes|thurs|fri|satur|sun)day|ages ago"
              rf"|{_AGO_AMOUNT}{_UNIT} ago|hier|ce matin|la semaine derniere|avant"
              rf"|tout a l heure|deja|il y a {_AGO_AMOUNT}{_UNIT}|ayer|esta manana|antes"
              rf"|la semana pasada|hace {_AGO_AMOUNT}{_UNIT})")
# A count of times, in en/fr/es ("3 times", "trois fois", "3 veces"), counts as "how many
# times" does, with "already" after it ("I told you 3 times already").
_TIMES = (rf"(?:(?:\d+|{_NUMBER}|a hundred|a million|a thousand|cent|mille|plusieurs|cien|mil"
          r"|muchas|tantas) (?:times|fois|veces)(?: already| deja| ya)?)")
_HOW_OFTEN = (r"(?:already|again|twice|(?:so )?many times|" + _TIMES + ")")
_REITERATION = (
    r"(?:(?:(?:i|we) (?:(?:ve|have) )?)?(?:already )?(?:told you|said(?: (?:it|so|that|stop))?"
    r"|asked(?: you)?(?: (?:nicely|to stop|not to))?)"
    rf"(?: {_HOW_OFTEN})?"
    r"|how many times(?: do (?:i|we) (?:have|need) to (?:tell you|say it|say this|say that"
    r"|say stop|ask))?|(?:once )?again|for the (?:last|second|third|fourth|fifth|hundredth"
    r"|millionth|nth|\d+(?:st|nd|rd|th)) time|i repeat"
    r"|(?:im|i m|i am) not (?:going to|gonna) (?:tell you|say it|say this|ask)(?: again)?"
    r"|i (?:wont|will not) (?:tell you|say it|say this|ask) again"
    r"|(?:je (?:vous |te |t )?(?:l )?|j )ai (?:deja )?(?:dit|demande)(?: (?:stop|d arreter))?"
    rf"(?: {_TIMES})?"
    r"|(?:je (?:vous |te |t )?l ai |j ai )?deja dit"
    r"|combien de fois(?: faut il (?:vous |te )?le dire)?"
    r"|encore(?: une fois)?|une fois de plus|pour la (?:derniere|deuxieme|troisieme|enieme"
    r"|nieme) fois|je repete"
    r"|(?:ya )?(?:te |se |les |le )?(?:lo )?(?:dije|pedi)(?: (?:que (?:pares|paren|pare|parara"
    r"|no me (?:escribas|escriba|escriban|mandes|manden)|ya no)|ya))?"
    rf"(?: {_TIMES})?"
    r"|cuantas veces(?: (?:te |se |les )?lo tengo que (?:decir|repetir))?|otra vez|de nuevo"
    r"|una vez mas|por (?:ultima|segunda|tercera|enesima) vez)"
    rf"(?: {_PAST_TIME})?")
# The whole message a keyword (ALTO, BAJA, STOPPEZ too) and that the sender is the wrong person
# or has no job for us, in either order: "STOP wrong number", "Already hired someone. STOP",
# "Número equivocado, BAJA". Nothing more: "Stop, wrong person. The invoice should say
# Garcia" corrects the pro.
_NOT_FOR_ME = (r"(?:(?:(?:this is|youve got|you ve got|you have) )?(?:the )?wrong"
               r" (?:number|person)"
               # ... or no longer someone's, or not the sender's: "This isn't Sarah's phone
               # anymore", "This is not my number", "Ce n'est plus le numéro de Julie", "Ce
               # n'est pas mon numéro", "Este ya no es el número de Juan", "No es mi número"
               r"|(?:(?:this|it|that) (?:is not|isnt|is no longer)|(?:thats|that s|its|it s)"
               r" not|not) (?:\w+ s |my |our )?(?:phone|number|cell)(?: anymore)?"
               r"|ce n est (?:plus|pas) (?:le (?:numero|cell) d\w*(?: \w+)?|mon (?:numero|cell))"
               r"|(?:este )?(?:ya )?no es (?:el (?:numero|celular|telefono) de \w+|mi (?:numero"
               r"|celular|telefono))"
               # "Je ne suis pas la bonne personne", "Vous vous êtes trompé de numéro"
               r"|(?:je (?:ne )?suis )?pas la bonne personne"
               r"|(?:vous vous etes|tu t es) trompee?s? de (?:numero|personne)"
               r"|(?:(?:i|we) )?(?:already )?(?:(?:hired|found|booked) someone(?: else)?"
               r"|(?:went with|hired|found|booked) (?:someone else|another (?:company|contractor"
               r"|pro|plumber|electrician|painter|roofer|handyman|crew)))"
               # ... in French and Spanish: "Stop svp, on a trouvé quelqu'un d'autre", "Alto,
               # ya contratamos a alguien" (someone: not a thing found, "Alto, ya encontré
               # otro", "Stop, j'ai pris un autre")
               r"|(?:on a|j ai|nous avons) (?:deja )?(?:(?:trouve|engage|embauche|pris)"
               r" (?:quelqu un(?: d autre)?|une? autre (?:plombier|entrepreneur|electricien"
               r"|peintre|couvreur|contracteur|gars|compagnie|entreprise))"
               r"|(?:engage|embauche) un autre)"
               r"|(?:ya )?(?:(?:contrate|contratamos) (?:a )?(?:alguien|otro)"
               r"|(?:encontre|encontramos) (?:a (?:alguien|otro)|alguien|otr[oa] (?:plomero"
               r"|contratista|tecnico|electricista|pintor|albanil|compania|empresa)))(?: mas)?"
               r"|(?:(?:tiene|tienen|tienes) (?:el )?)?numero equivocado|persona equivocada"
               r"|(?:se )?equivocaron de numero"
               r"|(?:(?:vous avez|tu as|c est) (?:le |un )?)?mauvais numero|mauvaise personne)")
# Nothing but bare STOPs and clauses that want no more contact or say the sender asked before:
# "Stop calling me. STOP", "Go away. STOP", "STOP. I already told you", "Please no more. STOP",
# "STOP. I said STOP a week ago", "ARRÊTEZ. Je vous l'ai déjà dit", "ALTO. Ya te dije". Only
# so: beside anything else ("Stop! No more, that's enough mulch", "Stop! Go away, there's a
# wasp nest", "Stop! I told you. The pipe is behind that wall") the STOP is about the job.
# A wrong number counts only so, as ALTO's does (_NOT_FOR_ME): "Stop! Wrong number. I told
# you" is one; "Stop! Wrong number, it's 4521 not 4512" corrects the pro.
# Meaning it: "Stop. I mean it", "Arrêtez. Je suis sérieux", "Alto. Lo digo en serio"; not
# asked ("Arrête! C'est sérieux?", "no way, is it serious?": _only_stop_and_fed_up)
_MEANS_IT = (r"(?:i mean it|(?:im|i m|i am) serious|je suis serieuse?|c est serieux"
             r"|(?:lo digo|hablo) en serio)")
_MEANS_IT_RE = re.compile(_MEANS_IT)
_FED_UP_CLAUSE_RE = re.compile(
    rf"(?:(?:{_COURTESY}|just|now) )*"
    r"(?:(?:(?:stop|quit) calling|dont call)(?: me| us)?(?: again| anymore| ever again)?"
    r"|go away|leave me alone|no more|not anymore|(?:i )?(?:already )?told you(?: already)?"
    rf"|{_MEANS_IT}"
    # reported or blocking: "STOP. Reported.", "Stop. Blocking this number" (not "blocked"
    # alone: the drain may be)
    r"|reported(?: as spam)?|blocked and reported|(?:(?:im|i m|i am) )?(?:blocking|reporting)"
    r" (?:you|this number)(?: as spam)?(?: now)?|(?:ill|i ll|i will|im going to|i m going to"
    r"|gonna) (?:block|report) (?:you|this number)(?: as spam)?(?: now)?"
    r"|(?:je )?(?:bloque|vais bloquer|signale|vais signaler) (?:ce numero|votre numero)"
    r"|je (?:vous |te )?(?:bloque|vais bloquer|signale|vais signaler)"
    rf"|{_REITERATION}|{_NOT_FOR_ME})")
_COURTESY_CLAUSE_RE = re.compile(rf"{_COURTESY}(?: {_COURTESY})*")


# Agreeing to what an instruction just quoted says: "Reply STOP? Fine. STOP"
_AGREED_CLAUSE_RE = re.compile(
    r"(?:fine|ok|okay|sure|whatever|done|gladly|happily|alright|all right|d accord|bon"
    r"|tres bien|volontiers|avec plaisir|bueno|vale|listo|claro|con gusto)"
    r"(?: (?:then|by me|with me|alors|pues|entonces))?")


# Who the sender is not, named: "This is not John", "I'm not Maria", "No Mike here", "Ce
# n'est pas Julie", "No soy Juan": beside a STOP with a wrong number or person said too ("This
# is not John. Wrong number. Stop"), or written as a name (_A_NAME_RE: "This is not John.
# Stop", "Not Maria. Stop"): "Stop! This is not good" is about the job.
_NOT_NAMED_CLAUSE_RE = re.compile(
    r"(?:(?:(?:this|it) (?:is not|isnt|aint)|(?:its|it s|im|i m|i am) not|(?:there s|theres) no"
    r"|not"
    r"|ce n est pas|c est pas|(?:je ne suis|je suis) pas|no soy|no es|aqui no (?:es|vive|hay))"
    r"(?: \w+){1,2}(?: here| ici| aqui)?|(?:no|pas de) \w+ (?:here|ici|aqui))")
_NOT_FOR_ME_CLAUSE_RE = re.compile(_NOT_FOR_ME)
# A capitalised word after a word in lower case, as a name is written ("This is not John"); not
# a message in capitals, where "THIS IS NOT JOHN" cannot be told from "THIS IS NOT GOOD"
_A_NAME_RE = re.compile(r"(?<=[a-zà-ÿ] )[A-ZÀ-Þ][a-zà-ÿ]+\b")


def _only_stop_and_fed_up(s: str, question: bool, text: str) -> bool:
    """The message is bare STOP clauses and clauses that want no more contact, one of each;
    or a quoted instruction (_without_instructions: "Reply STOP?", "Your text says STOP to opt
    out"), then nothing but agreement or courtesy and a bare STOP: the sender does as it says
    ("Reply STOP? Fine. STOP", "The text said reply STOP to opt out. STOP", also after a first
    STOP: "STOP. The text said STOP to opt out. STOP"; not "STOP. Reply YES to confirm", with
    no STOP after it, which may be the sender's template); what comes before the instruction
    is the rest of the message quoted ("Your technician is on the way. Reply STOP to opt out.
    STOP"). `question`: the message ends as one, and meaning it asked is no insisting
    ("Arrête! C'est sérieux?"); `text`: the message as written, where a name is told."""
    strong = fed_up = quoted = obeyed = not_named = not_for_me = before_quote = False
    for clause in s.split(" | "):
        if _STRONG_CLAUSE_RE.fullmatch(clause):
            strong = True
            obeyed = quoted
        elif clause == "quoted" or clause.endswith(" quoted"):
            quoted = True
        elif (_FED_UP_CLAUSE_RE.fullmatch(_COURTESY_TAIL_RE.sub("", clause))
              and not (question and _MEANS_IT_RE.search(clause))):
            fed_up = True
            not_for_me = not_for_me or _NOT_FOR_ME_CLAUSE_RE.fullmatch(clause) is not None
        elif _NOT_NAMED_CLAUSE_RE.fullmatch(clause):
            if _A_NAME_RE.search(text):
                fed_up = not_for_me = True
            else:
                not_named = True
        elif not (_COURTESY_CLAUSE_RE.fullmatch(clause)
                  or quoted and not obeyed and _AGREED_CLAUSE_RE.fullmatch(clause)):
            if quoted:
                return False
            before_quote = True
    if before_quote:
        return strong and obeyed
    return strong and (obeyed or fed_up and (not_for_me or not not_named))


_STRONG_WORD = _strong(_STRONG_WORDS + "|stoppez|alto|baja")
# REMOVE / DELETE after the wrong number ("Wrong number, please remove"), REMOVE ME either side;
# not "Remove the wrong number", which may be about an invoice.
_REMOVE_WORD = _strong("remove|remove me|remove us|delete|delete me")
# The words one of _STRONG_BESIDE_SIGNAL_RE's messages must hold: most texts have none and skip it
_BESIDE_WORDS = frozenset("stop stopall unsubscribe opt revoke arretez arrete arret stoppez alto"
                          " baja remove delete".split())
# A clause that says the messages are unwanted, in en/fr/es (_COMPLAINT_CLAUSE_RE's words)
_COMPLAINT = (
    r"(?:(?:this is|thats|that s|that is|its|it s|esto es|es|c est|c est du|c est de la) )?"
    r"(?:harassment|harassing|spam|a scam|scam|acoso|hostigamiento|harcelement|du spam)"
    r"|" + _WHO_IS_THIS + r"|qui est ce"
    r"|(?:i |we )?(?:never|didnt|did not) " + _SIGNED_UP
    + r"(?: for (?:this|these|it|them|that))?"
    r"|(?:yo )?" + _NEVER_SIGNED_UP_ES
    + r"|je ne me suis jamais inscrite?|je me suis jamais inscrite?"
    r"|(?:im |i m |i am )?not interested|no me interesa|" + _MY_NUMBER + "|" + _STRANGER
    + r"|(?:ca )?(?:ne )?m interesse pas|(?:je )?(?:ne )?suis pas interessee?|pas interessee?"
    r"|(?:this is |youve got |you ve got |you have )?(?:the )?wrong number"
    r"|(?:(?:vous avez|tu as|c est) (?:le |un )?)?mauvais numero"
    r"|(?:(?:tiene|tienen|tienes) (?:el )?)?numero equivocado"
    r"|(?:(?:way|far|so|just) )?too many (?:text|message|notifications|reminders)"
    r"|(?:im|i m|i am) getting (?:(?:way|far|so) )?too many(?: of (?:these|them|your (?:text"
    r"|message)))?"
    r"|(?:beaucoup )?trop de (?:message|text)|(?:son )?demasiados (?:message|text)"
    # blocking, as "Blocking this number" beside a STOP: "Voy a bloquear este número. Alto"
    r"|(?:(?:los |lo |te )?voy a bloquear|bloqueo|bloqueando) (?:este|su|tu) numero")
# The whole message a keyword (ALTO and BAJA too) and that the sender is the wrong person or
# that the messages are unwanted, in either order: "STOP wrong number", "Es spam, BAJA",
# "Nunca me suscribí, alto", "Stop c'est du harcèlement".
_STRONG_BESIDE_SIGNAL_RE = re.compile(
    rf"(?:{_STRONG_WORD}|{_strong('remove me|remove us')}) (?:{_NOT_FOR_ME}|{_COMPLAINT})"
    rf"(?: {_COURTESY})*"
    rf"|(?:{_NOT_FOR_ME}|{_COMPLAINT}) (?:{_STRONG_WORD}|{_REMOVE_WORD})")


# --------------------------------------------------------------------------- own words
# The phrase patterns live in revocation_phrases.py; here they are indexed by trigger word.


# A compiled pattern, the language it is written in, and whether it is one that must end the
# message (phrases.LAST: the words are not about messaging in themselves), so that a question
# ("Don't text again?", "Stop bothering me?") is none.
_Phrase = tuple[re.Pattern[str], str, bool]


def _index_patterns() -> tuple[dict[str, tuple[_Phrase, ...]],
                               tuple[tuple[str, tuple[_Phrase, ...]], ...]]:
    """Patterns by the word a match can start with ("arret*" is a prefix), each compiled once."""
    exact: dict[str, list[_Phrase]] = {}
    prefix: dict[str, list[_Phrase]] = {}
    for language, entries in (("en", phrases.EN), ("fr", phrases.FR), ("es", phrases.ES)):
        for triggers, pattern in entries:
            phrase = (re.compile(pattern), language, phrases.LAST in pattern)
            for trigger in triggers.split():
                table = prefix if trigger.endswith("*") else exact
                table.setdefault(trigger.rstrip("*"), []).append(phrase)
    return ({w: tuple(ps) for w, ps in exact.items()},
            tuple((p, tuple(ps)) for p, ps in prefix.items()))


_BY_WORD, _BY_PREFIX = _index_patterns()
_PREFIXES = tuple(p for p, _ in _BY_PREFIX)  # all at least 3 characters long
_BY_PREFIX_HEAD: dict[str, tuple[tuple[str, tuple[_Phrase, ...]], ...]] = {
    head: tuple(entry for entry in _BY_PREFIX if entry[0][:3] == head)
    for head in {p[:3] for p in _PREFIXES}
}

# Someone of the sender's, or anyone's: who may be told to stop, or quoted saying it
_PERSON = (r"(?:neighbou?r|dog|cat|kid|child|children|boy|girl|guy|man|men|woman|women|lady"
           r"|ladie|landlord|tenant|roommate|husband|wife|son|daughter|brother|sister|mom|mum"
           r"|dad|mother|father|boyfriend|girlfriend|ex|baby|friend|boss|coworker)s?")
# Just before a match: negation, condition or a noun use of "stop" -> not a revocation; or
# what the sender tells, told or asks another person ("tell him to stop texting me", "ask the
# neighbor to stop bothering me", "make my husband stop": a listed person, or anyone after
# my, his, her, our with "to", but never the sender's own phone: "make my phone stop getting
# these texts" and "You make my life hell, stop texting me" are revocations). Never "you",
# "your office", "this number", "the company", "the app" or "them", which are, or may be, us
# ("Tell the company to stop texting me" is one).
_GUARD_BEFORE_RE = re.compile(
    # ("... wouldn't stop texting me" tells what someone else did)
    r"(?:^|\s)(?:(?:dont|never|didnt|not|doesnt|wont|wouldnt|couldnt|no need to|if you|if u"
    # ("why'd you stop texting me back?")
    r"|if they|did you|did they|d you|d they|n|ne|no|nunca|si|the|a|bus|next|last|first|one)"
    r"(?: (?:want|need|ask|tell) (?:you|them) to| please)?"
    r"|(?:tell|told|ask|asked|make|made|get|got) (?:(?:him|her"
    r"|(?:my|his|her|our|the|that)(?: \w+)? " + _PERSON + r")(?: to| \|)?"
    r"|(?:my|his|her|our)(?! (?:own |stupid |new |old )?(?:phone|number|cell|mobile|line|inbox"
    r"|device|iphone|android|account|notifications|messages|texts|email)\b)(?: \w+){1,3} to)"
    # the link or button that does it, a thing of the app, as "the unsubscribe link" is:
    # "le lien pour se désabonner", "le bouton de désinscription", "el enlace para desuscribirse"
    r"|(?:lien|bouton|enlace|boton|liga) (?:pour|de|d|para)(?: (?:se|me|vous|nous))?"
    r") $")
# Just before STOP (QUIT, CEASE): what the sender or a third person will stop doing, not a
# request ("I'll stop texting now", "he's going to stop texting", "do you want me to stop
# texting?"); but "I want to stop getting texts", "how can I stop these texts" are wishes,
# and "I'll unsubscribe", "I'm going to revoke my consent" revocations.
_STOPPING = ("stop ", "quit ", "cease ", "halt ")
_WHO_STOPS_RE = re.compile(
    r"(?:^|\s)(?:(?:i|we|he|she)(?: (?:ll|will|shall)(?: (?:try|promise) to)?"
    r"| (?:m|am|re|are|s|is) (?:going to|gonna)| gonna| promise to)"
    r"|(?:want|wants|wanted|need|needs|like|ask|asked|tell|told) (?:me|us) to) $")
# Just before a match: a third person quoted saying it, with or without quotation marks or a
# colon ("My wife said stop texting me, she means the group chat", 'my neighbor said "stop
# texting me"', "Ma femme a dit arrêtez de m'écrire", "Mi vecina me dijo: dejen de
# escribirme"): the "me" is theirs, not the sender's. Not with "us" as the object ("My wife
# says stop texting us" speaks for the sender's household), nor "said to stop texting me" (an
# instruction about the sender), nor the sender's own "I said stop texting me".
_SAID_BY_OTHER_RE = re.compile(
    # (not "as" or "like" before it: "As my wife said, stop texting me" is the sender's own)
    r"(?:^|(?<!\bas)(?<!\blike)\s)(?:he|she|they|il|elle|ils|elles|el|ella|ellos|ellas"
    r"|(?:my|his|her|our|the|that)(?: \w+)? " + _PERSON
    + r"|(?:mon|ma|sa|son)(?: \w+)? (?:femme|mari|voisine?|mere|pere|fils|fille|coloc|chum"
    r"|blonde|patron|patronne|amie?|soeur|frere)"
    r"|(?:mi|su)(?: \w+)? (?:esposa|esposo|marido|vecina|vecino|mama|papa|hijo|hija|novio|novia"
    r"|jefe|jefa|suegra|suegro|hermano|hermana|amigo|amiga|roomie))"
    r" (?:said|says|say|told me|tells me|was like|goes|yelled|a dit|dit|m a dit|me dit|disait"
    r"|dijo|me dijo|dice|me dice|decia)(?: \|)?(?: (?:please|just|ya|por favor|porfa|svp|stp))* $")
# ... unless the sender joins in after it: "My wife said stop texting me and so do I", "...
# Me too", "..., moi aussi", "..., yo también", "..., so stop"
_SENDER_TOO_RE = re.compile(
    r"\b(?:so do i|so did i|i do too|me too|me as well|same here|same for me|i agree|moi aussi"
    r"|moi pareil|pareil pour moi|je suis d accord|yo tambien|yo igual|estoy de acuerdo"
    # ... or asks it in their own words after it: "..., so stop", "... Please respect that"
    r"|(?:so|please|pls|now) stop|(?:she|he) s right|respect (?:that|it|this|her|his))\b")
# ... the household's object, in the match or its clause after it ("... this number" is theirs too)
_OBJECT_US_RE = re.compile(r"(?:\bus|\bnous|nos|\bthis number|\bce numero|\beste numero)\b")
# "... and come", "... and just fix it", "... y ven a arreglar", "... et venez réparer": what a
# customer tells a pro who texts instead of coming or doing the work.
# (not "come on" ending its clause: "Stop texting me. Come on!" is exasperation)
_COME = (r"(?:come(?! on(?: \||$))|get here|get over here|show up"
         # the work, not "fix your spam filter" (the messages)
         r"|(?:fix|do|finish) (?:it|this|that|my|our|the (?:job|work))|do your job"
         r"|get (?:it|this|that) done|start working|get (?:back )?to work|call 911"
         r"|ven|venga|vengan|arregla|arregle|arreglen|hazlo|hagalo|haganlo"
         r"|venez|viens|reparez|repare|faites le|fais le"
         # ... or to drive, as one says "don't text and drive": "Stop texting and drive safe",
         # "Deja de textear y maneja"; not "... and drive off a bridge"
         r"|(?:drive|driving|conduis|conduisez|maneja|maneje|manejen)(?: (?:safe|safely"
         r"|carefully|prudemment|con cuidado))?(?= \||$| (?:lol|haha|jaja|mdr|ptdr|please|svp"
         r"|porfa)\b))\b")
# ... or in the next clause: "Enough with the texts, just come over", "Basta de mensajes, ven"
_AND_COME = r"(?:and|&|y|et|pis|\|(?: (?:and|y|et|pis))?) (?:just |solo |nomas |juste )?" + _COME
_LANGUAGE = r"(?:english|spanish|french|ingles|espanol|frances|anglais|espagnol|francais)"
# What may follow a language or place to stop at: the language or place to use instead.
# The language a limit named, once more, is no other to text in ("... in Spanish, I prefer
# Spanish" revokes): the group `limited` is the one the limit captured (none for a place).
_OTHER_LANGUAGE = r"(?!(?P=limited)\b)" + _LANGUAGE
_REDIRECT = (
    r"(?:(?:(?:only|just|solo|solamente|seulement|uniquement) )?(?:(?:in|en) )?"
    + _OTHER_LANGUAGE + r"(?: (?:only|solo|solamente|seulement|uniquement))?"
    r"|(?:i )?(?:only )?(?:speak|prefer|prefiero|hablo|yo hablo) (?:only |solo )?"
    + _OTHER_LANGUAGE + r"(?: only| solo| solamente)?"
    r"|i dont (?:speak|understand) (?:it|" + _LANGUAGE + r")|no (?:hablo|entiendo)(?: "
    + _LANGUAGE + r")?|je ne (?:parle|comprends) pas (?:l )?" + _LANGUAGE
    + r"|je (?:ne )?parle (?:que |seulement |uniquement )?(?:l )?" + _OTHER_LANGUAGE
    + r"|(?:text|message|call|write to|email) me (?:at home|on my cell|later|tonight|tomorrow"
    r"|(?:after|before) \d{1,2}(?::?\d\d)?(?: ?(?:am|pm))?|in " + _OTHER_LANGUAGE + r")"
    r"(?: (?:instead|after \d{1,2}(?::?\d\d)?(?: ?(?:am|pm))?))?"
    r"|(?:(?:escrib|llam|mand|envi)(?:a|e|an|en)me|mejor|solo|solamente|pero) (?:a la casa"
    r"|al celular|en " + _OTHER_LANGUAGE
    + r")|(?:ecrivez|appelez|envoyez) moi (?:a la maison|sur mon portable|en " + _OTHER_LANGUAGE
    + r"))")
_LIMIT_COURTESY = r"(?:" + _COURTESY + r"|sorry|perdon|lo siento|desole)"
# A limit in time as a length, in en/fr/es: an amount and a unit ("a sec", "2 secs", "half an
# hour", "a couple (of) hours", "the rest of the day", "the weekend", "una hora", "un momento",
# "une heure", "deux minutes"). Not a count, a rate or a run ("a second time", "24 hours a
# day", "2 days in a row", "3 days straight", "a week ago": how long we have texted), a
# share of something ("one second of my life"), not one unit more ("a minute longer", "un
# minuto más", "une minute de plus": no more, ever), nor "the rest of my life", "good",
# "ever", "real", "una vez" (no unit). Nothing here repeats, so it cannot backtrack.
_TIME_UNIT = (_UNIT + r"(?! time\b| of (?:my|your|his|her|our|their)\b| (?:a|per) (?:day|week"
              r"|night)\b| (?:longer|more|mas|de plus|in a row|straight|ago)\b)")
# The amounts that are a length right after the revocation, without "for" ("leave me alone a
# sec", "laissez-moi tranquille une heure"); not "another" ("don't text me another minute").
_SHORT_AMOUNT = rf"(?:{_FEW}|half an?|a half|the rest of the|the rest of this|{_NUMBER})"
_SHORT_WHILE = r"(?:" + _SHORT_AMOUNT + r" |\d+ ?)" + _TIME_UNIT
# After "for" (pour, por, durante) more of them: "for the day", "for another hour".
_WHILE = (r"(?:(?:" + _SHORT_AMOUNT + r"|the|the next|the next few|the next couple of|this"
          r"|another|couple of|le|la|el) |(?:the next |another )?\d+ ?)" + _TIME_UNIT)
# Past-tense words of saying or asking: what follows them in the clause is when or how often
# the sender asked before, no limit ("stop texting me I told you this morning", "... I asked
# you before", "... I said stop on Monday", "no me escribas te lo dije esta mañana").
_ASKED_BEFORE = r"\b(?:told|said|asked|dije|dicho|pedi|ai (?:deja )?(?:dit|demande))\b"
# Just after a match in the same clause: a time or condition limit -> not a revocation; not
# once the sender says they asked before (_ASKED_BEFORE).
_GUARD_AFTER_RE = re.compile(
    r"(?:(?!" + _ASKED_BEFORE + r")[^|]){0,40}?"
    r"\b(?:before|after|until|till|til|unless|while|during|tonight|today|tomorrow"
    r"|this (?:week|month|morning|afternoon|evening|weekend)|for now|at night|so late|so early"
    r"|this late|this early|(?:at this hour|a esta hora|a estas horas|a cette heure)"
    # ... not "at this hour or any hour", "ni a esta hora ni nunca", "ni à cette heure ni à
    # aucune autre"
    r"(?! (?:ci )?(?:or|ni|ou)\b)"
    r"|on weekends?|on the weekend|antes|despues|hasta|mientras"
    # ... or someone else to text instead: "Stop texting me and text Maria instead"
    r"|(?:text|message) (?!me\b|us\b)\w+ instead"
    # ... while driving: "Arrête de texter au volant!", "... manejando"
    r"|au volant|al volante|en conduisant|manejando"
    # ... or on another phone of the sender's, as "stop sending messages to my old number" is
    # the number to drop, not a revocation: "How do I stop getting texts on my old phone?"
    r"|(?:on|to) (?:my|the) (?:old|previous|former) (?:phone|number|cell|line)"
    r"|hoy|manana|esta (?:noche|semana|tarde)|este mes|por ahora|de noche|en la noche|avant"
    r"|apres|jusqu|pendant|ce soir|aujourd hui|demain|cette semaine|ce mois|pour l instant"
    r"|le soir|la nuit|le week end|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|lundi|mardi"
    r"|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|(?:every|so much|so many)(?! (?:single |of (?:your |these |those |the )?)?(?:spam|ads?"
    r"|promo\w*|junk|marketing|text|message|notification\w*|alert\w*|offer\w*|deal\w*)\b"
    # "every day" ending the message is how often we text, said to be too often ("stop
    # texting me every day", as "tous les jours", "todos los días"); with anything after
    # ("every day, once a week is fine") it may ask for less
    r"| (?:single )?day" + phrases.LAST + ")"
    r"|once a|so often|early|late|tarde de las|mas tarde|tan tarde|trop tard|at \d\w*"
    # a condition still to come, the job done or paid: "remove me from your list once the job
    # is done", "... when the warranty ends", "une fois les travaux finis", "cuando terminen
    # el trabajo"; not the pro's convenience ("when you get a chance", "as soon as
    # possible", "dès que possible", "en cuanto puedan"), "once and for all", "at once"
    r"|(?:(?<!\bat )once|as soon as|des que|en cuanto|une fois|una vez|when|quand|lorsque"
    r"|cuando) (?:[^|]{0,30}? )?(?:job|work|project|repair|warranty|install\w*|done|finished"
    r"|over|complete\w*|paid|travaux|chantier|fini\w*|termin\w*|acab\w*|trabajo|obra"
    r"|garantia)"
    r"|(?:between|entre) (?:\d+|noon|midi|las|la)"
    r"|\d+ ?(?:am|pm|h)"
    # a while (_WHILE): "for an hour", "for a sec", "for the weekend", "pour une heure", "por
    # un rato", "durante una hora"
    r"|(?:for|pour|por|durante) " + _WHILE + r")\b"
    # ... or just after the match without "for", in what can only be a length: "laissez-moi
    # tranquille une heure", "déjame en paz un momento", "leave me alone a sec"
    r"|(?: (?:me|us|moi|nous))? " + _SHORT_WHILE + r"\b"
    # a concrete thing of the job, ending its clause, rather than the messages ("stop texting
    # me the address, I have it", "... the gate code", "... questions and just come"), or
    # "stop texting me and come": the job is the point. Only these: "stop texting me the
    # surveys", "... price updates" are revocations.
    # (or what they are for: "Stop texting this # for the quote, use my email")
    r"|(?: (?:me|us|this number))?(?: (?:for|about))?(?: (?:the (?:\w+ )?(?:address|code"
    r"|photos?|pictures?|pics?|details|directions|link|location|map|price|quote|invoice|receipt|estimate|schedule|eta"
    r"|tracking number)|questions|the same question)(?= \||$| " + _AND_COME + ")"
    # ... photos or videos of the job with any article or none, ending the clause or saying
    # what they show: "stop texting me photos", "... pictures of the mold", "arrête de me
    # texter des photos" (not "... dick pics": only an article before them)
    r"|(?: (?:me|us|moi|nous))? (?:(?:the|these|those|all|your|more|so many|des|les|ces|vos"
    r"|tes|tant de|los|las|sus|tus|mas|tantas) )?(?:same )?(?:photos?|pictures?|pics?|videos?"
    # ... or how they come: "... the photos one by one, send them all at once" (or a laugh
    # after them: "... the same photo lol I got it")
    r"|fotos?|images?|imagenes)(?= \||$| (?:lol|haha|jaja|mdr|ptdr|of|from|de|du|des|del"
    r"|one by one|one at a time|separately|individually|une par une|une a une|un par un"
    r"|una por una|uno por uno|por separado)\b"
    r"| " + _AND_COME + ")"
    # ... or how they are written, too long or in capitals, rather than whether: "Arrêtez donc
    # de m'écrire des romans", "Stop writing me essays", "Deja de escribirme testamentos jaja",
    # "Stop texting me in all caps", "Arrêtez de m'écrire aussi tard"
    # (ending the clause, or before a laugh, a courtesy or "and just" what to do instead; not
    # with no interest in any: "Stop texting me novels. Not interested")
    r"|(?: (?:me|us|moi|nous))? (?:(?:(?:des|de|such|so many|these|those|all these|tantos"
    r"|tantas|puros|puras) )?(?:novels?|essays?|paragraphs?|walls? of text|romans?|paves?"
    r"|tartines?|bibles?|testaments?|novelas?|testamentos?|biblias?|rollos?"
    # ... or silly, laughed at: "Arrête de m'écrire des bêtises lol", "Deja de escribirme
    # tonterías jaja" (not "Stop texting me nonsense", said in earnest)
    r"|(?:betises|niaiseries|conneries|tonterias|tonteras|nonsense)"
    r"(?= (?:lol|haha|jaja|jajaja|mdr|ptdr)\b))"
    r"|in (?:all )?caps|en majuscules|en mayusculas|(?:aussi|si) (?:tard|tot))"
    r"(?= \||$| (?:lol|haha|jaja|jajaja|mdr|ptdr|please|svp|por favor)\b"
    r"| (?:and|et|y) (?:just|juste|solo|nomas) (?!stop\b|arret|para\b|dej))"
    r"(?!.* \| (?:" + _COMPLAINT + r")(?: \||$))"
    r"| " + _AND_COME + ")")
# Just after a match: a language or a place, then nothing but thanks or one redirect ("stop
# texting me in English, I speak Spanish", "no me escriba en ingles, solo espanol", "... at
# work, text me at home", "... au bureau svp") -> not a revocation; without a redirect right
# after it, only while nothing else in the message insists (_insists). Anything else after it
# ("... or at home", "... I'm done", "ya basta") leaves the message a revocation.
_LIMIT_AFTER_RE = re.compile(
    r"(?: (?:me|us))? (?:(?:in|en) (?P<limited>" + _LANGUAGE + r")|at (?:work|school"
    r"|the office)|au (?:travail|bureau)|(?:en el|al) trabajo)"
    r"(?:(?: \|)? " + _LIMIT_COURTESY + r")*(?: \| (?P<redirect>" + _REDIRECT + r")(?:(?: \|)? "
    + _LIMIT_COURTESY + r")*)?(?: \|)*$")
# A person of the sender's ("my wife", "my property manager"); not their lawyer ("my lawyer
# will handle it" is a threat, not a hand-over) nor their phone or spam filter
_NOT_A_HANDOVER = r"lawyer|attorney|abogad[oa]|avocate?|phone|carrier|spam|filter|blocker"
_OTHER_PERSON = r"(?!(?:\w+ )?(?:" + _NOT_A_HANDOVER + r")\b)(?:\w+ )?\w+"
_HANDOVER = (
    r"my " + _OTHER_PERSON + r" (?:(?:will|ll|can|is going to|s going to|is gonna|s gonna) )?"
    r"(?:handle|take care of|take over|deal with|manage|handles|takes care of|takes over"
    r"|deals with|manages|is handling|s handling|is taking over|s taking over)\b"
    r"|(?:talk|speak|deal) (?:to|with) my " + _OTHER_PERSON
    + r"|mi " + _OTHER_PERSON + r" (?:se (?:encarga|va a encargar|ocupa|va a ocupar)"
    r"|lo (?:maneja|va a manejar|ve|va a ver))\b|(?:hablen|hable|habla|traten) con mi "
    + _OTHER_PERSON + r"|(?:mon|ma) " + _OTHER_PERSON + r" (?:s en occupe|va s en occuper"
    r"|s en occupera|gere|va gerer|gerera)\b|(?:voyez|parlez|voir|parler) avec"
    r" (?:mon|ma) " + _OTHER_PERSON)
# Where a request of the sender's own starts: the message or a clause, or after "just",
# "please", "and", "but" (et, y, mais, pero): "..., but keep me posted", "just text me directly";
# not "my wife will keep me posted", "no need to keep me updated"
# (or a word that starts a sentence: "Unsubscribe? Actually I want the reminders", "Lol I want
# the updates")
_CLAUSE_LEAD = (r"(?:(?<=\| )|(?<!.)|(?<=\bjust )|(?<=\bplease )|(?<=\band )|(?<=\bbut )"
                r"|(?<=\bet )|(?<=\by )|(?<=\bmais )|(?<=\bpero )|(?<=\bactually )|(?<=\bhonestly )"
                r"|(?<=\bwell )|(?<=\bwait )|(?<=\bok )|(?<=\bokay )|(?<=\boh )|(?<=\blol )"
                r"|(?<=\bhaha )|(?<=\bhmm )|(?<=\bso ))")
# ... or asked of us in so many words: "..., but do keep me updated", "you can keep me posted",
# "could you keep me posted" (not "my wife will keep me posted")
_ASKED_LEAD = (_CLAUSE_LEAD[:-1] + r"|(?<=\bdo )|(?<=\byou can )|(?<=\byou could )"
               r"|(?<=\bcan you )|(?<=\bcould you )|(?<=\bwill you )|(?<=\bwould you ))")
# ... or answering: "No, I want the reminders", "¿Baja? No, sí quiero los recordatorios"
# (not after the Spanish "no", which denies the verb: "no quiero los mensajes")
_ANSWER_LEAD = (_CLAUSE_LEAD[:-1] + r"|(?<=\bsi )|(?<=\byes )|(?<=\boui )|(?<=\bnon ))")
_ANSWER_LEAD_EN = _ANSWER_LEAD[:-1] + r"|(?<=\bno )|(?<=\bnah )|(?<=\bnope ))"
# ... not asked and refused in the next sentence: "Text me directly? No. Stop", "Call me
# instead? No. Stop texting me"
# (a "no" of its own: not "..., email me instead, no texts during work")
_REFUSED = (r"(?!(?: instead| plutot| a la place| mejor)? \| (?:(?:lol|haha|hell|oh|jaja|mdr) )?"
            r"(?:no|nope|nah|non|never|no way|jamais|nunca|nel)"
            r"(?: (?:thanks|thank you|merci|gracias))?(?: \||$))")
# Anywhere: the sender says it was a mistake, or redirects us to someone or somewhere else
# ("don't text me, text my husband"): that is conversation, not a revocation.
_VETO_RE = re.compile(
    r"\b(?:by (?:accident|mistake)|accidentally|resubscribe|didnt mean to|did not mean to"
    r"|par erreur|sans faire expres|por error|sin querer"
    # ... or that they want the texts after all: "Unsubscribe? No, I want the reminders", "Je
    # veux garder les rappels", "Sí quiero los recordatorios": the texts ending the clause or
    # before "but", "for", "just" (not "I want the texts deleted", "... to stop", "... gone")
    # (each alternative that starts with a lookbehind puts a lookahead of its first words before
    # it: _VETO_RE is tried at every position, and a lookahead fails faster)
    # (said by the sender, see _CLAUSE_LEAD, or as the answer "no, I want them": not "Why
    # would I want these texts? Stop", "I don't think I need the reminders", "If I want the
    # reminders, I'll let you know")
    r"|(?:(?=i |we )" + _ANSWER_LEAD_EN + r"(?:i|we) (?:still )?(?:want|need|like)"
    r" (?:to (?:keep|get) )?"
    r"(?:the|these|your|my|those) (?:(?:job|appointment|project|work|service|booking) )?"
    r"(?:text|message|reminders|notifications|alerts|updates)"
    r"|(?=je |on )" + _ANSWER_LEAD + r"(?:je|on) (?:veux|veut|voudrais|prefere)"
    r" (?:garder |recevoir |avoir )?(?:les|vos)"
    r" (?:text|message|rappels|notifications)"
    r"|(?=quiero |queremos |necesito )" + _ANSWER_LEAD + r"(?:quiero|queremos|necesito)"
    r" (?:seguir recibiendo )?(?:los|sus) (?:message"
    r"|text|recordatorios|notificaciones))"
    r"(?= \||$| (?:but|just|for|though|still|mais|juste|pour|pero|solo|para)\b)"
    # ... or to be kept posted: "Could you stop the automated reminders? ... but keep me posted
    # on the job", "Tenez-moi au courant", "Manténganme informado" (asked of us, see
    # _CLAUSE_LEAD; nor another way: "... by email", "... via email", "... in the app")
    r"|(?=keep |tenez |tiens |mantengan|mantenme|mantengame)" + _ASKED_LEAD +
    r"(?:keep (?:me|us) (?:posted|updated|informed|in the loop)|(?:tenez|tiens) (?:moi|nous)"
    r" au courant|(?:mantenganme|mantenme|mantengame|mantenganos) (?:informad[oa]s?|al tanto))"
    r"(?! (?:by|par|por|via|through|thru|over|in|on|sur|dans|en) (?:the |l |la |le |el |your )?"
    r"(?:e ?mail|mail|courriel|correo|phone|telephone|app|application|aplicacion|portal"
    r"|portail|website|site|letter|lettre|carta)\b)" + _REFUSED +
    # "plus de textes" (more texts) set against less in another clause, before or after it, or
    # against calls the sender cannot hear: "Plus de textes, moins d'appels", "Moins d'appels,
    # plus de textes", "Plus de textes svp, j'entends pas"
    r"|moins(?<![^|] moins)\b.* \| (?:(?:svp|merci|stp) )?plus de (?:message|text)\b"
    r"|(?=svp |merci |stp |plus de )(?:(?<=\| )|(?<!.))(?:(?:svp|merci|stp) )?plus de"
    r" (?:message|text|notifications)\b.* \| (?:moins\b"
    r"|(?:je |j )?(?:n )?(?:entends|entend|ecoute) (?:pas|rien|mal)\b|(?:je )?suis (?:sourde?"
    r"|malentendante?)\b"
    # ... or that they help: "Plus de rappels svp, j'oublie tout", "..., c'est pratique"
    r"|(?:je |j )(?:oublie|oublies)\b|c est (?:pratique|utile|super|parfait|genial)\b"
    r"|ca (?:m )?aide\b)"
    # ... or to the sender alone: "¿Pueden dejar de mandar mensajes al grupo y solo a mí?"
    r"|(?:solo|solamente|nomas|juste|seulement|only|just) (?:a mi|a moi|to me)\b"
    # ... or a proposal to talk on the phone instead: "On peut arrêter les textos et se parler
    # au téléphone?", "Could we stop texting and just talk on the phone?"
    r"|(?=(?:se |nous )?(?:parler|jaser) (?:au|par) telephone|hablar por telefono"
    r"|talk (?:on|over|by) (?:the )?phone)(?:(?<=\bet )|(?<=\by )|(?<=\band )|(?<=\band just )"
    r"|(?<=\bet juste )|(?<=\by solo ))"
    r"(?:(?:se |nous )?(?:parler|jaser) (?:au|par) telephone|hablar por telefono"
    r"|talk (?:on|over|by) (?:the )?phone)"
    # (not "contact my lawyer", which says who to deal with from now on: a threat, not a
    # hand-over)
    r"|(?:text|message|contact|call|email|write to) (?:my (?!number|cell|"
    + _NOT_A_HANDOVER + r")\w+|him|her"
    r"|the office)|(?:use|try) (?:my|this|the) (?:(?:other|new|work|home|cell|mobile) )*"
    # (not "this is my work phone", which says why to stop)
    r"(?:number|phone|cell|line)|(?<!this is )(?<!it is )(?<!its )(?<!it s )"
    r"my (?:new|other|work|home) (?:number|phone|cell)"
    r"|(?:ecrivez|envoyez|contactez|appelez|ecris|envoie|contacte)(?: moi)?(?: plutot)?"
    r" (?:a|sur|au) (?:mon|ma|mes)(?! (?:" + _NOT_A_HANDOVER + r"|courriel|mail|e mail|email)\b)"
    # ... or to the sender alone, out of a group or from the pro in person: "Take me off the
    # group text, just text me directly", "Dejen de mandar mensajes al grupo, mándenme
    # directo", "Stop the automated texts pls, just text me yourself"
    r"|(?=(?:text|message|write to|email) (?:me|us) )"
    + _CLAUSE_LEAD +
    r"(?:text|message|write to|email) (?:me|us) (?:directly|separately|individually|privately"
    # (not asked and refused: "Text me directly? No. Stop")
    r"|yourself|personally)" + _REFUSED +
    r"|(?:ecrivez|textez|envoyez) moi (?:directement|en prive|separement)" + _REFUSED +
    r"|(?:escrib|mand|envi|textee)\w*me (?:directo|directamente|por separado|aparte|en privado)"
    + _REFUSED +
    r"|(?:escrib|mand|envi|contact|llam)\w* a mi (?!abogad)"
    # ... or to the number of theirs: "..., escriban al de mi esposa", "usen el de mi hijo"
    r"|(?:(?:escrib|mand|envi|contact|llam)\w* al|(?:usen|use|usa) el) de mi (?!abogad)"
    r"|(?:escrib|mand|envi|contact)(?:a|e|an|en)me al (?:otro|nuevo)"  # "escribame al otro"
    # "... from the old plumber, only you" (the whole message ends so), "Je ne veux plus de
    # textes de Marc, juste de vous", "No quiero mensajes del otro plomero, solo de ustedes"
    r"|from\b[^|]{1,40}(?: \|)? (?:only|just) (?:you|from you)$"
    r"|\b(?:de|del)\b[^|]{1,40}(?: \|)? (?:juste|seulement|que|solo|solamente) de (?:vous|ustedes)$"
    # ... or a call asked for at a time, for one occasion: "Don't text, call me when you're
    # outside", "No me escriba, llámeme cuando llegue", "..., call me at 5" (not "when you
    # can", "when you get a chance": any time)
    # (asked: not "Never call me after 9")
    r"|(?<!\bdont )(?<!\bnever )(?<!\bnot )(?<!\bno me )(?<!\bnunca me )(?:call|phone|ring"
    r"|appelle|appelez|llamame|llameme|llamenme|marcame|marquenme)(?: (?:me|us|moi|nous))?"
    r" (?:(?:when|once|quand|lorsque|cuando)\b(?!(?: \w+)? (?:can|chance|want|like|peux|pouvez"
    r"|veux|voulez|puedas?|puedan|quieras?|quieran)\b)"
    r"|(?:at \d|a \d|a las|after|before|tomorrow|tonight|later|in the morning|apres|avant"
    r"|demain|ce soir|plus tard|despues|antes|manana|mas tarde|en la manana)\b)"
    # someone else takes the job's messages over ("you can stop texting me the updates, my
    # wife will handle it", "talk to my husband", "mi esposa se encarga", "ma femme s'en
    # occupe")
    r"|" + _HANDOVER + ")")




# The messages as written, and what makes them plural: "these"/"those" before them ("these
# text"), an "s" or an "'s" ("the text's") after them
_WRITTEN_MESSAGES_RE = re.compile(
    r"(?i)\b(?P<these>(?:these|those) )?(?P<word>texts?|txts?|messages?|msgs?|sms(?:es)?|textos?"
    r"|mensajes?)(?P<apostrophe>['’]s)?\b")


def _written_as_plural(text: str) -> bool:
    """The last time the text names the messages (where a phrase of phrases.AS_WRITTEN that
    ends the message names them), it is as a plural: "I don't need these texts anymore", not
    "Thanks for the messages. I don't need the text anymore"."""
    last = next(reversed(list(_WRITTEN_MESSAGES_RE.finditer(text))), None)
    return last is not None and bool(last["these"] or last["apostrophe"]
                                     or _PLURAL_RE.fullmatch(last["word"]))


# The question that may end a LAST phrase: "Stop bothering me. Who is this?"
_ASKS_WHO_RE = re.compile(rf"(?:^|\| ){phrases.WHO_ASKED}$")


def _clause_end(s: str, pos: int) -> int:
    """Where the clause that goes on at `pos` ends."""
    end = s.find(" |", pos)
    return len(s) if end < 0 else end


def _accepted(s: str, start: int, patterns: tuple[_Phrase, ...], no_last: bool,
              text: str) -> str | None:
    """The language of the first pattern that matches at ``start`` unguarded, else None;
    `no_last`: the LAST phrases cannot count (the message ends as a question); `text`: the
    message as written, for phrases.AS_WRITTEN."""
    for pattern, language, last in patterns:
        if last and no_last:
            continue
        m = pattern.match(s, start)
        if m is None or "as_written" in pattern.groupindex and m["as_written"] and (
                not _written_as_plural(text)):
            continue
        if start and (_GUARD_BEFORE_RE.search(s, max(0, start - 30), start)
                      or s.startswith(_STOPPING, start)
                      and _WHO_STOPS_RE.search(s, max(0, start - 30), start)
                      or _SAID_BY_OTHER_RE.search(s, max(0, start - 40), start)
                      and not _OBJECT_US_RE.search(s, start, _clause_end(s, m.end()))
                      and not _SENDER_TOO_RE.search(s, m.end())):
            continue
        if _GUARD_AFTER_RE.match(s, m.end()):
            continue
        limit = _LIMIT_AFTER_RE.match(s, m.end())
        if limit is not None and (limit.group("redirect") or not _insists(s, start)):
            continue
        return language
    return None


# A whole clause that says the messages are unwanted (_COMPLAINT): "This is harassment", "Who
# is this?", "I never signed up", "Esto es acoso", "C'est du harcèlement". Only whole clauses:
# "Who is this technician?" or "not interested in Saturday" are about the job.
_COMPLAINT_CLAUSE_RE = re.compile(_COMPLAINT)
# A bare opt-out keyword as a clause, or just before the revocation in its clause ("STOP stop
# texting me at work"), in any of the three languages.
_INSISTING_KEYWORD_RE = re.compile(_strong(_STRONG_WORDS + "|stoppez|alto|baja"))


def _insists(s: str, start: int) -> bool:
    """Another clause is a bare STOP (ALTO, BAJA, ARRÊTEZ...) or says the messages are
    unwanted, or either leads into the revocation at `start` in its clause: "STOP!!! Stop
    texting me at work", "This is harassment stop texting me at work." A limit beside it is
    no request to be texted elsewhere."""
    clause_start = s.rfind("| ", 0, start) + 2 if "| " in s[:start] else 0
    if start > clause_start and (_INSISTING_KEYWORD_RE.fullmatch(s, clause_start, start - 1)
                                 or _COMPLAINT_CLAUSE_RE.fullmatch(s, clause_start, start - 1)):
        return True
    for clause in s.split(" | "):
        clause = clause.strip("| ")
        if _INSISTING_KEYWORD_RE.fullmatch(clause) or _COMPLAINT_CLAUSE_RE.fullmatch(
                _COURTESY_TAIL_RE.sub("", clause)):
            return True
    return False


_COURTESY_TAIL_RE = re.compile(rf"(?: {_COURTESY})+$")


def _revocation(s: str, tokens: list[str], question: bool, text: str) -> str | None:
    """The language of an unguarded own-words revocation in ``s`` (``" ".join(tokens)``);
    `text` is the message as written."""
    # Only the patterns that can start at each word are tried, anchored there.
    no_last = question and _ASKS_WHO_RE.search(s, max(0, len(s) - 40)) is None
    start = 0
    by_word, by_head = _BY_WORD.get, _BY_PREFIX_HEAD.get
    for token in tokens:
        patterns = by_word(token)
        if patterns is not None:
            language = _accepted(s, start, patterns, no_last, text)
            if language is not None:
                return None if _VETO_RE.search(s) else language
        candidates = by_head(token[:3])
        if candidates is not None:
            for prefix, patterns in candidates:
                if token.startswith(prefix):
                    language = _accepted(s, start, patterns, no_last, text)
                    if language is not None:
                        return None if _VETO_RE.search(s) else language
        start += len(token) + 1
    return None


# What a phone or mail app adds to a text, never the sender's words: a "Re:" before it, and
# after it a signature line ("--", "Sent from my iPhone", "Get Outlook for iOS") with what
# follows, or "- Sent from my Samsung" / "(sent from my Apple Watch)" ending its last line.
# Only devices and mail apps: "sent from my husband's phone" is the sender speaking. Every
# pattern is anchored and bounded, so a long text costs linear time.
_REPLY_PREFIX_RE = re.compile(
    r"(?i)(?:[ \t]{0,3}(?:re|reply|r[ée]p|resp|fwd?|tr)[ \t]{0,3}:[ \t]*)+")
_SENT_FROM = (r"(?:sent|envoy[ée]|enviado) (?:from|via|with|de|depuis|desde|con)"
              r" (?:my |mon |ma |mi |an? |un |une )?(?:iphone|ipad|samsung|galaxy|android"
              r"|apple watch|pixel|blackberry|mobile|smartphone|phone|cell|verizon|t-mobile"
              r"|sprint|at&t|motorola|lg|huawei|xiaomi|oneplus|nokia|yahoo mail|outlook|gmail"
              r"|aol|mail|t[ée]l[ée]phone|tel[ée]fono|m[oó]vil|celular|portable)\b")
# A signature line: anything after the device (an operator, a model) up to 100 characters.
_SIGNATURE_LINE_RE = re.compile(
    rf"(?i)(?:--|—|__|[-–—(]?[ \t]*{_SENT_FROM}[^\n]{{0,100}}|get outlook for [^\n]{{0,20}})")
# Ending the last line: only words after the device ("iPhone", "Samsung Galaxy S23"), so
# "Cancel - sent from my iPhone, the app crashed" keeps what the sender said after it.
_SIGNATURE_TAIL_RE = re.compile(
    rf"(?i)(?<![ \t])(?:[ \t]+[-–—][ \t]{{1,3}}{_SENT_FROM}[\w .-]{{0,30}}"
    rf"|[ \t]*\({_SENT_FROM}[\w .-]{{0,30}}\)[ \t]*)\Z")
# A business's signature block: a line of one to four capitalised words (a name, maybe after a
# dash), then the company with its legal form on the next line ("Stop\nMike Johnson\nJohnson
# Plumbing LLC", "Alto\nJuan Pérez\nPlomería Pérez S.A. de C.V."). The legal form tells it
# from the sender's words: a name alone after STOP is not set aside ("STOP\nMaria", "STOP -
# Mike" cannot be told from "Stop\nWait", "STOP - Gas Leak").
_NAME_LINE_RE = re.compile(r"(?:[-–—][ \t]*)?[A-ZÀ-ÖØ-Þ][\w'.-]*(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'.-]*){0,3}")
_COMPANY_LINE_RE = re.compile(
    r"(?:[\w&'.,-]+[ \t]+){1,6}(?i:llc|l\.l\.c\.|inc|inc\.|ltd|ltd\.|corp|corp\.|co\.|llp|pllc"
    r"|s\.a\.(?: de c\.v\.)?|s\.l\.|sarl|sas|eurl|lt[ée]e)")
# With no dash only after a single word, the whole message: "STOP sent from my iPhone", but
# not "Cancel all the texts sent from my phone by mistake" (the sender's own words).
_ONE_WORD_SIGNED_RE = re.compile(rf"(?i)[ \t]*(\w+)[!.]?[ \t]+{_SENT_FROM}[\w .-]{{0,30}}")


def _without_signature(text: str) -> str:
    prefix = _REPLY_PREFIX_RE.match(text) if ":" in text[:8] else None
    if prefix is not None:
        text = text[prefix.end():]
    if "\n" in text:
        lines = text.split("\n")
        for i in range(1, len(lines)):
            line = lines[i].strip()
            if _SIGNATURE_LINE_RE.fullmatch(line):
                text = "\n".join(lines[:i])
                break
            if (i > 1 and _COMPANY_LINE_RE.fullmatch(line)
                    and _NAME_LINE_RE.fullmatch(lines[i - 1].strip())):
                text = "\n".join(lines[:i - 1])
                break
    lowered = text.lower()
    if "ent " in lowered or "nvoy" in lowered or "nviado" in lowered:
        one_word = _ONE_WORD_SIGNED_RE.fullmatch(text)
        text = one_word.group(1) if one_word else _SIGNATURE_TAIL_RE.sub("", text, count=1)
    return text


# A keyword quoted as an instruction, not said: "Reply STOP to unsubscribe" (a business's
# text forwarded or pasted, our own HELP text sent back), "I got a text saying reply STOP to
# opt out, was that you?", "Répondez STOP pour vous désabonner", "Envía BAJA al 12345". A
# reply verb with a keyword, or a send verb with a keyword and what it is for or where it goes
# ("text STOP to 12345"; "SMS stop" alone folds to "text stop" and is the sender's own).
# Only the imperative or infinitive: "I replied STOP" or "j'ai répondu STOP" reports an
# opt-out. The instruction, up to the end of its clause, becomes a word no rule knows, and
# the message is read as usual: "Reply STOP to unsubscribe" alone is conversation, a bare
# "STOP" still an opt-out, and so is "Reply STOP to opt out, my foot. Stop texting me"; but
# "STOP. Reply YES to confirm" is no bare STOP (the instruction is the sender's words too).
_REPLY_VERBS = ("reply respond repondez repondre reponds responde responda respondan responder"
                " contesta conteste contesten contestar").split()
_SEND_VERBS = ("text send envoyez envoie envoyer tapez taper envia envie envien enviar manda"
               " mande manden mandar escribe escriba escriban escribir").split()
_QUOTING_VERBS = "saying says said dit disait dice decia dijo".split()
# every keyword: the opt-out ones, those only bare, START, YES and HELP
_INSTRUCTED_KW = (rf"(?:{_OPTOUT_WORDS}|cancel|cancelar|annuler|fin|{_OPTIN_WORDS}|{_HELP_WORDS}"
                  rf"|{_YES_WORDS})")
# each word once: "back with" is "back" then "with" (see _NO_MORE)
_INSTRUCTION_LEAD = r"(?: (?:back|with|the|word|le|mot|par|con|la|palabra))*"
_INSTRUCTION_PURPOSE = r" (?:to|for|pour|para|a|au|aux|al)\b(?: [^ |]+)*"
# ... and the keywords it lists after it, each with its purpose: "Reply HELP for help, STOP to
# opt out", "Répondez AIDE pour de l'aide, STOP pour vous désabonner"
_INSTRUCTION_MORE = rf"(?: \| (?:or |ou |o )?{_INSTRUCTED_KW}{_INSTRUCTION_PURPOSE})*"
_INSTRUCTION_RE = re.compile(
    # not after "je": "je réponds STOP" says it, as "I'm replying STOP" does
    rf"(?<!\bje )\b(?:(?:{'|'.join(_REPLY_VERBS)}){_INSTRUCTION_LEAD} {_INSTRUCTED_KW}\b"
    rf"(?:{_INSTRUCTION_PURPOSE}{_INSTRUCTION_MORE})?"
    rf"|(?:{'|'.join(_SEND_VERBS)}){_INSTRUCTION_LEAD} {_INSTRUCTED_KW}{_INSTRUCTION_PURPOSE}"
    rf"{_INSTRUCTION_MORE}"
    # ... or a text reported as saying it, with what it is for: "a text saying STOP to opt out,
    # is that you?", "un texto qui dit STOP pour se désabonner", "un mensaje que dice BAJA para
    # cancelar"; not the sender's own saying ("I said STOP to opt out", "I'm saying STOP ...",
    # "Just saying STOP to opt out", "We're saying ..."): the text (it, that, qui, que) says it
    r"|(?:(?<=\btext )|(?<=\bmessage )|(?<=\breminder )|(?<=\breminders )|(?<=\bnumber )"
    r"|(?<=\bnotification )|(?<=\bemail )|(?<=\bit )|(?<=\bthat )|(?<=\bwhich )|(?<=\bqui )"
    r"|(?<=\bque ))"
    rf"(?:{'|'.join(_QUOTING_VERBS)}){_INSTRUCTION_LEAD} {_INSTRUCTED_KW}{_INSTRUCTION_PURPOSE}"
    rf"{_INSTRUCTION_MORE})")
# The words an instruction starts with: most texts have none and skip the regex.
_INSTRUCTION_VERBS = frozenset(_REPLY_VERBS + _SEND_VERBS + _QUOTING_VERBS)


def _without_instructions(tokens: list[str]) -> list[str]:
    """`tokens` with each keyword quoted as an instruction (and the rest of its clause) made
    one word, "quoted"."""
    if _INSTRUCTION_VERBS.isdisjoint(tokens):
        return tokens
    return _INSTRUCTION_RE.sub("quoted", " ".join(tokens)).split()


# --------------------------------------------------------------------------- public API

def as_said(text: str) -> str:
    """The text without what the phone or mail app added (a "Re:", a signature and anything
    after it): what a keyword's evidence keeps. A signature may hold a name, an address."""
    return _without_signature(text).strip()


def classify(text: str | None, *, opted_out: bool = False) -> Intent:
    """Decide whether an inbound text is an opt-out, an opt-in, a help request, or conversation.

    ``opted_out`` is the sender's current state: a bare YES (OUI, SI) is an opt-in only for
    someone who has opted out; START and UNSTOP always are. Never raises; None or blank is
    conversation.
    """
    return detect(text, opted_out=opted_out).intent


def detect(text: str | None, *, opted_out: bool = False) -> Detection:
    """`classify`, with the language to answer a keyword or revocation in."""
    if not text:
        return _CONVERSATION
    text = _without_signature(text)
    tokens = _without_instructions(text_folding.tokens(text))
    if not tokens:
        return _CONVERSATION
    s = " ".join(tokens)
    words = s.replace(" |", "") if "|" in s else s
    if len(words) < 40 and _SPELLED_RE.fullmatch(words):
        words = words.replace(" ", "")
    question = _ends_as_question(text)
    intent = _keyword(words, text, opted_out, question=question)
    if intent is Intent.CONVERSATION:  # YES from someone who has not opted out
        return _CONVERSATION
    if intent is not None:
        return Detection(intent, _language(words.split()))
    language = _revocation(s, tokens, question, text)
    if language is None and "|" in s and _one_word_clauses(tokens):
        # a word a sentence, for stress: "Stop. Texting. Me."
        language = _revocation(words, words.split(), question, text)
    if language is not None:
        return Detection(Intent.OPT_OUT, language, own_words=True)
    if ("|" in s and any(_STRONG_CLAUSE_RE.fullmatch(c) for c in s.split(" | "))
            and (_UNWANTED_SIGNAL_RE.search(s) or _only_stop_and_fed_up(s, question, text))
            or not _BESIDE_WORDS.isdisjoint(words.split())
            and _STRONG_BESIDE_SIGNAL_RE.fullmatch(words)):
        return Detection(Intent.OPT_OUT, _language(tokens), own_words=True)
    return _CONVERSATION


def _one_word_clauses(tokens: list[str]) -> bool:
    """Every clause one word, a few of them ("stop | text | me")."""
    return len(tokens) <= 11 and all(t == "|" for t in tokens[1::2])


def _keyword(words: str, text: str, opted_out: bool, question: bool = False) -> Intent | None:
    """The intent of a whole-message keyword (with only courtesy words around it), if any;
    `text` is the message as written."""
    if (_OPTOUT_KW_RE.fullmatch(words) and not (question and _STRESS_RE.search(words))
            or _BARE_KW_RE.fullmatch(words)
            or _POLITE_PARA_RE.fullmatch(words) or _ASKED_KW_RE.fullmatch(words)
            or _BASTA_RE.fullmatch(words)
            or _TAKE_ME_OFF_RE.fullmatch(words)
            or ((_CANCEL_MESSAGES_RE.fullmatch(words)
                 or _no_messages(words))
                and _PLURAL_RE.search(text))):
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
