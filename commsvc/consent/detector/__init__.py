"""Classify an inbound SMS as opt-out, opt-in, help request or ordinary conversation.

Runs on every inbound message: standard library only, everything compiled at import, about
10 µs of CPU for a 40-character message.

Pipeline
--------
0. What the phone added is set aside (phone_additions.py): a signature line ("Sent from my
   iPhone", a "--" line) or a business's signature block (a name line, then the company with
   its legal form: "Mike Johnson" / "Johnson Plumbing LLC") and what follows, and a "Re:"
   before the text. An email or web address ("stoptextingme@gmail.com",
   "https://example.com/unsubscribe") becomes one word no rule knows: a name, not the
   sender's words.
   A message typed as one run of words ("notextsplease"), or such a run among spaced words
   ("pls stoptextingmenow ok"), is then spaced (text_folding.spaced_run_on), for the rules and
   what reads it as written alike.
1. Tokens (text_folding.py): NFKD with combining marks dropped (accents optional), casefold,
   apostrophes unified, ``n't`` -> ``nt``; clause punctuation becomes a ``|`` token, every other
   non-word character (emoji, quotes, hyphens, apostrophes) a space; then typo and
   abbreviation folding word by word (txt/texting -> ``text``, msgs/mensajes -> ``message``,
   plz -> ``please``, mrc -> ``merci``, x favor -> ``xfavor``, stpo/stoooop -> ``stop``,
   do not -> ``dont``, unsubcribe -> ``unsubscribe``, Québec pu -> ``plus``, mécrire ->
   ``m ecrire``, mensajear -> ``escribir``, ...). A keyword quoted as an
   instruction ("Reply STOP to unsubscribe", "Répondez STOP pour vous désabonner") becomes,
   with the rest of its clause, one word no rule knows (instructions.py).
2. Whole-message keywords (keywords.py): Twilio's opt-out set plus French and Spanish,
   START/UNSTOP, YES/OUI/SI, HELP/INFO/AIDE/AYUDA, with only courtesy words around them ("STOP
   please", "help?"). Words that are as often ordinary conversation (CANCEL, CANCELAR, ANNULER,
   CANCELAR SUSCRIPCION, FIN, PARA, PARE, SALIR, REMOVE, TAKE ME OFF, BASTA) only count bare:
   "cancel please" is more often about an appointment than about messages, "para" also means
   "for", and a false opt-out silences a customer; CANCEL or END with the messages as object
   ("Cancel all texts") is one too, and so is NO TEXTS with a courtesy word or "anymore" ("No
   texts please", "No calls or texts please"; a bare "No texts" answers "did you get my
   texts?"); DAR DE BAJA counts as a keyword like DARSE DE BAJA; so does a keyword the sender
   says they reply ("Replying STOP", "Je réponds STOP", "Respondo BAJA").
3. Revocation in the sender's own words (own_words.py; en/fr/es; the patterns are in
   revocation_phrases.py, the guards in others.py, limits.py and vetoes.py): patterns that need
   a directive about *messaging* ("stop texting me", "remove me from your list", "ne m'écrivez
   plus", "no me manden más mensajes"), each tried only at the words it can start with, with
   guards against negation ("don't stop texting me"), other people or numbers ("stop texting my
   husband", "stop texting Maria, text me instead"), things of the job ("stop
   texting me photos"), nouns ("the bus stop"), who stops ("I'll stop texting you", "he's going
   to stop texting"), time or frequency limits ("don't text me before 8am", "stop texting me
   every hour"), mistakes ("I unsubscribed by accident"), what the sender tells another person
   ("tell him to stop texting me", "tell my partner to ...") and, for the words that must end
   the message, a question ("Don't text again?"). A revocation beats every other reading.
4. (stop_with_complaint.py) A bare STOP as its own sentence next to a plain complaint about the
   messages ("STOP. I never signed up for this", "Stop! Who is this?") or beside nothing but
   clauses that want no more contact or say the sender asked before ("STOP. I told you
   yesterday", "Stop. I said stop a week ago", "ARRÊTEZ. Je vous l'ai déjà dit", "STOP. Ya te
   dije") or after an instruction quoted and agreed to ("Reply STOP? Fine. STOP"), or the whole
   message with one that says the sender is the wrong person ("STOP wrong number", "Número
   equivocado, BAJA", and REMOVE after it: "Wrong number, please remove").

A text past Twilio's 1,600 characters (the webhook takes longer bodies) is read for steps 3 and
4 only in its first and last 800 characters, each cut at a clause break near its end or, in a
longer clause, a few words short of it (_two_ends): what a real text at most holds, at a
bounded cost.

`detect` also says which language a keyword or revocation was written in (en, fr or es), so
the confirmation can answer in it: the phrase list that matched, else the first word of the
message that belongs to one language only ("arret", "svp", "por favor"); English when no word
tells (STOP, START, HELP and FIN alone). Conversation is never given a language: nothing is
spent on it.
"""
from __future__ import annotations

import re

from commsvc.consent import text_folding
from commsvc.consent.detector.instructions import without_instructions
from commsvc.consent.detector.intent import CONVERSATION, DEFAULT_LANGUAGE, Detection, Intent
from commsvc.consent.detector.keywords import (
    SPELLED_RE,
    ends_as_question,
    keyword,
    language,
)
from commsvc.consent.detector.own_words import revocation
from commsvc.consent.detector.phone_additions import without_signature
from commsvc.consent.detector.stop_with_complaint import (
    BESIDE_WORDS,
    STRONG_BESIDE_SIGNAL_RE,
    STRONG_CLAUSE_RE,
    UNWANTED_SIGNAL_RE,
    only_stop_and_fed_up,
)

__all__ = ["DEFAULT_LANGUAGE", "Detection", "Intent", "as_said", "classify", "detect"]


def as_said(text: str) -> str:
    """The text without what the phone or mail app added (a "Re:", a signature and anything
    after it): what a keyword's evidence keeps. A signature may hold a name, an address."""
    return without_signature(text).strip()


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
        return CONVERSATION
    text = text_folding.spaced_run_on(_without_addresses(without_signature(text)))
    tokens = without_instructions(text_folding.tokens(text))
    if not tokens:
        return CONVERSATION
    s = " ".join(tokens)
    words = s.replace(" |", "") if "|" in s else s
    if len(words) < 40 and SPELLED_RE.fullmatch(words):
        words = words.replace(" ", "")
    question = ends_as_question(text, s)
    intent = keyword(words, text, opted_out, question=question)
    if intent is Intent.CONVERSATION:  # YES from someone who has not opted out
        return CONVERSATION
    if intent is not None:
        return Detection(intent, language(words.split()))
    if len(text) > TWILIO_MAX_CHARS:
        tokens = _two_ends(tokens)
        s = " ".join(tokens)
        words = s.replace(" |", "") if "|" in s else s
    revoked_in = revocation(s, tokens, question, text)
    if revoked_in is None and "|" in s and _one_word_clauses(tokens):
        # a word a sentence, for stress: "Stop. Texting. Me."
        revoked_in = revocation(words, words.split(), question, text)
    if revoked_in is not None:
        return Detection(Intent.OPT_OUT, revoked_in, own_words=True)
    if ("|" in s and any(STRONG_CLAUSE_RE.fullmatch(c) for c in s.split(" | "))
            and (UNWANTED_SIGNAL_RE.search(s) or only_stop_and_fed_up(s, question, text))
            or not BESIDE_WORDS.isdisjoint(words.split())
            and STRONG_BESIDE_SIGNAL_RE.fullmatch(words)):
        return Detection(Intent.OPT_OUT, language(tokens), own_words=True)
    return CONVERSATION


# Twilio sends a text of at most 1,600 characters; the webhook takes longer bodies (64 KB), whose
# rules, read in full, cost 17-22 ms of CPU at 8 KB and 147 ms at 64 KB. Such a text is read for a
# revocation or a complaint (steps 3 and 4) at its two ends only, about 800 folded characters
# each, what a real text at most holds: a revocation opens or closes a message, and a text
# within Twilio's cap is always read whole. The keywords (step 2) still read it all.
TWILIO_MAX_CHARS = 1600
_END_CHARS = TWILIO_MAX_CHARS // 2
# Between the two ends, a word no rule knows. Each end stops at a clause break within _MARGIN
# characters of its cut ("stop texting me" cut off from "the address" after it, or from "don't"
# before it, is no revocation), else the _MARGIN characters' worth of words next to the cut
# go, the most a guard reads before or after a phrase: the rest of a clause longer than that
# is read ("<a long run-on> please stop texting me. Thanks").
_GAP = "\u2026"
_MARGIN = 60


def _two_ends(tokens: list[str]) -> list[str]:
    """`tokens` if they fold to at most TWILIO_MAX_CHARS characters, else their first and last
    _END_CHARS characters, each cut at a clause break or _MARGIN short of its end, with _GAP
    between them."""
    if sum(map(len, tokens)) + len(tokens) <= TWILIO_MAX_CHARS:
        return tokens
    head = chars = 0
    while chars < _END_CHARS:
        chars += len(tokens[head]) + 1
        head += 1
    chars = 0
    while head > 0 and tokens[head - 1] != "|" and chars < _MARGIN:
        head -= 1
        chars += len(tokens[head]) + 1
    tail = len(tokens)
    chars = 0
    while chars < _END_CHARS:
        tail -= 1
        chars += len(tokens[tail]) + 1
    chars = 0
    while tail < len(tokens) and tokens[tail] != "|" and chars < _MARGIN:
        chars += len(tokens[tail]) + 1
        tail += 1
    return [*tokens[:head], _GAP, *tokens[max(head, tail):]]


# An email or web address is a name, not the sender's words: "stoptextingme@gmail.com", "my
# email is stop.texting@...", "https://example.com/unsubscribe", "www.nomoretexts.com",
# "stoptexting.com" (a bare domain only under a generic ending: "arretez.ca suffit" is French
# typed without its space). Each is one word no rule knows.
_ADDRESS_RE = re.compile(
    r"(?i)[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b(?:https?://|www\.)[^\s]+"
    r"|\b[\w-]{2,}(?:\.[\w-]+)*\.(?:com|net|org|io)(?:/[^\s]*)?(?!\w)")
_ADDRESS = "weblink"


def _without_addresses(text: str) -> str:
    """`text` with each email or web address made one word no rule knows."""
    if "@" not in text and "//" not in text:  # most texts: plain string tests, not the pattern
        if "." not in text:
            return text
        lowered = text.lower()
        if not ("www." in lowered or ".com" in lowered or ".net" in lowered or ".org" in lowered
                or ".io" in lowered):
            return text
    return _ADDRESS_RE.sub(_ADDRESS, text)


def _one_word_clauses(tokens: list[str]) -> bool:
    """Every clause one word, a few of them ("stop | text | me")."""
    return len(tokens) <= 11 and all(t == "|" for t in tokens[1::2])
