"""Classify an inbound SMS as opt-out, opt-in, help request or ordinary conversation.

Runs on every inbound message: standard library only, everything compiled at import, about
10 µs of CPU for a 40-character message.

Pipeline
--------
1. Tokens: NFKD with combining marks dropped (accents optional), casefold, apostrophes
   unified, ``n't`` -> ``nt``; clause punctuation becomes a ``|`` token, every other
   non-word character (emoji, quotes, hyphens, apostrophes) a space; then typo and
   abbreviation folding word by word (txt/texting -> ``text``, msgs/mensajes -> ``message``,
   plz -> ``please``, stpo/stoooop -> ``stop``, do not -> ``dont``, unsubcribe ->
   ``unsubscribe``, ...).
2. Whole-message keywords: Twilio's opt-out set plus French and Spanish, START/UNSTOP/YES,
   HELP/INFO/AIDE/AYUDA, with only courtesy words around them ("STOP please", "help?").
   CANCEL/CANCELAR only count bare: "cancel please" is more often about an appointment
   than about messages, and a false opt-out silences a customer.
3. Revocation in the sender's own words (en/fr/es; the patterns are in
   revocation_phrases.py): patterns that need a directive about *messaging* ("stop texting
   me", "remove me from your list", "ne m'écrivez plus", "no me manden más mensajes"),
   each tried only at the words it can start with, with guards against negation ("don't
   stop texting me"), other people or numbers ("stop texting my husband", "text my wife
   instead"), nouns ("the bus stop"), time or frequency limits ("don't text me before 8am",
   "stop texting me every hour") and mistakes ("I unsubscribed by accident"). A revocation
   beats every other reading.
4. A bare STOP as its own sentence next to a plain complaint about the messages
   ("STOP. I never signed up for this", "Stop! Who is this?").
"""
from __future__ import annotations

import enum
import re
import unicodedata

from commsvc.consent import revocation_phrases as phrases

__all__ = ["Intent", "classify"]


class Intent(enum.StrEnum):  # a str: Intent.OPT_OUT == "opt_out", str() gives the value
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CONVERSATION = "conversation"


# --------------------------------------------------------------------------- normalisation

_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02b9`\u00b4\u2032\uff07"})
# ASCII in one translate: clause punctuation -> " | ", every other non-alphanumeric -> " ".
_ASCII_TABLE = str.maketrans({
    chr(c): (" | " if chr(c) in ".!?;,:\n\r|" else " ")
    for c in range(128) if not chr(c).isalnum()
})
_NONWORD_RE = re.compile(r"[^\w|]+|_+")  # what is left after the table: emoji, symbols

# Word-level folding of typos and abbreviations, applied token by token (dict look-up; a
# regex only for elongations such as "stoooop", "pleeease", "unsubscribeee").
_FOLD_WORDS: dict[str, str] = {
    variant: canonical
    for canonical, variants in {
        "text": "txt txts txtd txtn txting txtin txtng texting textin textn textng texing textig"
                " tetxing tetx texts texto textos sms smss smses",
        "message": "msg msgs msgz msging msgng msges mssg mssgs messages messaging messagin"
                   " messageing messeges messege mesage mesages messges mensaje mensajes"
                   " mensajito mensajitos mensages mesajes mensjes msj msjs mjs",
        "stop": "stop stpo sotp stahp sstop",
        "please": "please plse plez pleaz pleeze",
        "dont": "dont dnt doont donot",
        "you": "u yu",
        "your": "ur yur",
        "anymore": "anymor",
        "opt out": "optout",
        "thanks": "thx thnx thanx tnx tks thks",
    }.items()
    for variant in variants.split()
}
_FOLD_PREFIXES = ("sto", "pl", "uns")
_FOLD_PATTERN_RE = re.compile(
    r"(?P<stop>stopp+|sto{3,}p+)|(?P<please>plz+|pls+|ple+a+s+e+)"
    r"|(?P<unsubscribe>unsub(?!st|tl)\w*|unsuscrib\w*|unsbscrib\w*|unscubscrib\w*)")


def _tokens(text: str) -> list[str]:
    """Lowercase, accent-free, folded words; ``|`` marks a clause break (never twice running,
    never first or last)."""
    s = text
    if s.isascii():
        s = s.lower()
    else:
        s = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", s)).translate(_APOSTROPHES)
        s = s.casefold()
    if "n't" in s:
        s = s.replace("n't", "nt")
    s = s.translate(_ASCII_TABLE)
    if not s.isascii():
        s = _NONWORD_RE.sub(" ", s)
    out: list[str] = []
    get = _FOLD_WORDS.get
    for token in s.split():
        if token == "|":
            if out and out[-1] != "|":
                out.append(token)
            continue
        folded = get(token)
        if folded is None:
            folded = token
            if token.startswith(_FOLD_PREFIXES):
                m = _FOLD_PATTERN_RE.fullmatch(token)
                if m is not None:
                    folded = m.lastgroup  # type: ignore[assignment]
            elif out:  # two-word forms: "do not" -> dont, "any more" -> anymore
                if token == "not" and out[-1] == "do":
                    out[-1] = "dont"
                    continue
                if token == "more" and out[-1] == "any":
                    out[-1] = "anymore"
                    continue
        out.append(folded)
    if out and out[-1] == "|":
        out.pop()
    return out


def _normalise(text: str) -> str:
    """The normalised text the patterns run on: tokens joined by single spaces."""
    return " ".join(_tokens(text))


# --------------------------------------------------------------------------- keywords

_COURTESY = (r"(?:please|thanks|thank you|thank you very much|thank you so much|thankyou|ty"
             r"|merci|merci beaucoup|svp|stp|s il vous plait|s il te plait|sil vous plait"
             r"|sil te plait|por favor|porfavor|porfa|xfa|xfavor|gracias|muchas gracias)")
_OPTOUT_WORDS = (r"(?:stop all|stopall|stop|unsubscribe|opt out|revoke|quit|end"
                 r"|arretez|arreter|arrete|arret|alto|baja|parar)")
# filler allowed next to an opt-out keyword: courtesy plus a few intensifiers ("stop now")
_OPTOUT_EXTRA = rf"(?:{_COURTESY}|now|right now|it|already|immediately|asap)"

_OPTOUT_KW_RE = re.compile(
    rf"(?:no thanks |no thank you |not interested )?(?:{_COURTESY} )*{_OPTOUT_WORDS}"
    rf"(?: (?:{_OPTOUT_EXTRA}|{_OPTOUT_WORDS}))*")
_SPELLED_RE = re.compile(r"\w(?: \w){2,}")
_CANCEL_KW_RE = re.compile(r"(?:cancel|cancelar)(?: (?:cancel|cancelar))*")
_OPTIN_KW_RE = re.compile(rf"(?:{_COURTESY} )*(?:start|unstop)(?: (?:{_COURTESY}|start|unstop))*")
_YES_KW_RE = re.compile(rf"(?:{_COURTESY} )*yes(?: (?:{_COURTESY}|yes))*")
_HELP_KW_RE = re.compile(
    rf"(?:{_COURTESY} )*(?:help|info|aide|ayuda)(?: (?:{_COURTESY}|help|info|aide|ayuda))*")

# "STOP. I never signed up for this": a bare strong keyword as its own clause, next to a
# clause that is plainly about unwanted messages.
_STRONG_CLAUSE_RE = re.compile(
    rf"(?:{_COURTESY} )*(?:stop all|stopall|stop|unsubscribe|opt out|revoke|arretez|arrete"
    rf"|arret)(?: (?:{_OPTOUT_EXTRA}|stop))*")
_UNWANTED_SIGNAL_RE = re.compile(
    r"\b(?:(?:never|dont remember|didnt|did not) (?:sign(?:ed)? up|subscribe[d]?|opt(?:ed)? in"
    r"|ask(?:ed)? for (?:this|these|it|them))|wrong number|who is this|whos this|who s this"
    r"|who are you|not interested|spam|scam|harass\w*|how did you get (?:my|this) number"
    r"|keep (?:text|message|texting|messaging|contacting|spamming) (?:me|us)"
    r"|why (?:am i|do i keep|do you keep|are you) (?:getting|receiving|sending|text|message)"
    r"|qui etes vous|c est qui|mauvais numero|quien es|quien eres|numero equivocado)\b")


# --------------------------------------------------------------------------- own words
# The phrase patterns live in revocation_phrases.py; here they are indexed by trigger word.


def _index_patterns() -> tuple[dict[str, tuple[re.Pattern[str], ...]],
                               tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]]:
    """Patterns by the word a match can start with ("arret*" is a prefix), each compiled once."""
    exact: dict[str, list[re.Pattern[str]]] = {}
    prefix: dict[str, list[re.Pattern[str]]] = {}
    for triggers, pattern in phrases.EN + phrases.FR + phrases.ES:
        compiled = re.compile(pattern)
        for trigger in triggers.split():
            table = prefix if trigger.endswith("*") else exact
            table.setdefault(trigger.rstrip("*"), []).append(compiled)
    return ({w: tuple(ps) for w, ps in exact.items()},
            tuple((p, tuple(ps)) for p, ps in prefix.items()))


_BY_WORD, _BY_PREFIX = _index_patterns()
_PREFIXES = tuple(p for p, _ in _BY_PREFIX)  # all at least 3 characters long
_BY_PREFIX_HEAD: dict[str, tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]] = {
    head: tuple(entry for entry in _BY_PREFIX if entry[0][:3] == head)
    for head in {p[:3] for p in _PREFIXES}
}

# Just before a match: negation, condition or a noun use of "stop" -> not a revocation.
_GUARD_BEFORE_RE = re.compile(
    r"(?:^|\s)(?:dont|never|didnt|not|doesnt|wont|no need to|if you|if u|if they|did you"
    r"|did they|n|ne|no|nunca|si|the|a|bus|next|last|first|one)"
    r"(?: (?:want|need|ask|tell) (?:you|them) to| please)? $")
# Just after a match in the same clause: a time or condition limit -> not a revocation.
_GUARD_AFTER_RE = re.compile(
    r"[^|]{0,40}?\b(?:before|after|until|till|til|unless|while|during|tonight|today|tomorrow"
    r"|this (?:week|morning|afternoon|evening|weekend)|for now|at night|so late|so early"
    r"|this late|this early|on weekends?|on the weekend|instead|antes|despues|hasta|mientras"
    r"|hoy|manana|esta (?:noche|semana|tarde)|por ahora|de noche|en la noche|avant|apres|jusqu"
    r"|pendant|ce soir|aujourd hui|demain|cette semaine|pour l instant|le soir|la nuit"
    r"|le week end|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|lundi|mardi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|every|once a|so often|so much|so many|early|late|at \d\w*|\d+ ?(?:am|pm|h))\b")
# Anywhere: the sender says it was a mistake, or redirects us to someone or somewhere else
# ("don't text me, text my husband"): that is conversation, not a revocation.
_VETO_RE = re.compile(
    r"\b(?:by (?:accident|mistake)|accidentally|resubscribe|didnt mean to|did not mean to"
    r"|par erreur|sans faire expres|por error|sin querer"
    r"|(?:text|message|contact|call|email|write to) (?:my (?!number|phone|cell)\w+|him|her"
    r"|the office)|(?:use|try) (?:my|this|the) (?:(?:other|new|work|home|cell|mobile) )*"
    r"(?:number|phone|cell|email|line)|my (?:new|other|work|home) (?:number|phone|cell)"
    r"|(?:ecrivez|envoyez|contactez|appelez|ecris|envoie|contacte)(?: plutot)? a (?:mon|ma|mes)"
    r"|(?:escrib|mand|envi|contact|llam)\w* a mi)\b")


def _accepted(s: str, start: int, patterns: tuple[re.Pattern[str], ...]) -> bool:
    for pattern in patterns:
        m = pattern.match(s, start)
        if m is None:
            continue
        if start and _GUARD_BEFORE_RE.search(s, max(0, start - 30), start):
            continue
        if _GUARD_AFTER_RE.match(s, m.end()):
            continue
        return True
    return False


def _revocation(s: str, tokens: list[str]) -> bool:
    """An unguarded own-words revocation anywhere in ``s`` (``" ".join(tokens)``)."""
    # Only the patterns that can start at each word are tried, anchored there.
    start = 0
    by_word, by_head = _BY_WORD.get, _BY_PREFIX_HEAD.get
    for token in tokens:
        patterns = by_word(token)
        if patterns is not None and _accepted(s, start, patterns):
            return not _VETO_RE.search(s)
        candidates = by_head(token[:3])
        if candidates is not None:
            for prefix, patterns in candidates:
                if token.startswith(prefix) and _accepted(s, start, patterns):
                    return not _VETO_RE.search(s)
        start += len(token) + 1
    return False


# --------------------------------------------------------------------------- public API

def classify(text: str | None, *, opted_out: bool = False) -> Intent:
    """Decide whether an inbound text is an opt-out, an opt-in, a help request, or conversation.

    ``opted_out`` is the sender's current state: a bare YES is an opt-in only for someone who
    has opted out; START and UNSTOP always are. Never raises; None or blank is conversation.
    """
    if not text:
        return Intent.CONVERSATION
    tokens = _tokens(text)
    if not tokens:
        return Intent.CONVERSATION
    s = " ".join(tokens)
    words = s.replace(" |", "") if "|" in s else s
    if len(words) < 40 and _SPELLED_RE.fullmatch(words):
        words = words.replace(" ", "")
    if _OPTOUT_KW_RE.fullmatch(words) or _CANCEL_KW_RE.fullmatch(words):
        return Intent.OPT_OUT
    if _OPTIN_KW_RE.fullmatch(words):
        return Intent.OPT_IN
    if _YES_KW_RE.fullmatch(words):
        return Intent.OPT_IN if opted_out else Intent.CONVERSATION
    if _HELP_KW_RE.fullmatch(words):
        return Intent.HELP
    if _revocation(s, tokens):
        return Intent.OPT_OUT
    if "|" in s and _UNWANTED_SIGNAL_RE.search(s):
        for clause in s.split(" | "):
            if _STRONG_CLAUSE_RE.fullmatch(clause):
                return Intent.OPT_OUT
    return Intent.CONVERSATION
