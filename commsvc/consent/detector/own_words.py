"""Revocations in the sender's own words (pipeline step 3): the patterns of
revocation_phrases.py indexed by trigger word, each match checked against the guards."""
from __future__ import annotations

import bisect
import functools
import re

from commsvc.consent import revocation_phrases as phrases
from commsvc.consent.detector.keywords import COURTESY_TAIL_RE, PLURAL_RE
from commsvc.consent.detector.limits import (
    GUARD_AFTER_RE,
    LIMIT_AFTER_RE,
    without_widened_limits,
)
from commsvc.consent.detector.others import (
    ANSWER_NO_RE,
    FR_INFINITIVE_RE,
    GUARD_BEFORE_RE,
    OBJECT_US_RE,
    PAS_BEFORE_RE,
    SAID_BY_OTHER_RE,
    SENDER_TOO_RE,
    STOPPING,
    TELLING_RE,
    WHO_STOPS_RE,
    YOU_TOO_RE,
)
from commsvc.consent.detector.stop_with_complaint import COMPLAINT, STRONG_WORDS, strong
from commsvc.consent.detector.vetoes import VETO_RE

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
                                     or PLURAL_RE.fullmatch(last["word"]))


# The question that may end a LAST phrase: "Stop bothering me. Who is this?"
_ASKS_WHO_RE = re.compile(rf"(?:^|\| ){phrases.WHO_ASKED}$")


def _clause_end(s: str, pos: int) -> int:
    """Where the clause that goes on at `pos` ends."""
    end = s.find(" |", pos)
    return len(s) if end < 0 else end


@functools.lru_cache(maxsize=8)
def _starts(pattern: re.Pattern[str], s: str) -> tuple[int, ...]:
    """Every position of `s` where a match of `pattern` starts (``pattern.match(s, i)``, the
    text before ``i`` seen as a search sees it), found in one pass over the message and cached
    for it: what follows a request is read once per text, not searched to its end at every
    request (quadratic in a long text of repeated requests)."""
    return tuple(m.start() for m in re.finditer("(?=" + pattern.pattern + ")", s, pattern.flags))


def _last_start(pattern: re.Pattern[str], s: str) -> int:
    """Where the last match of `pattern` in `s` starts, -1 if none: whether one follows a point
    (``_last_start(p, s) >= pos``, as ``p.search(s, pos)`` says)."""
    starts = _starts(pattern, s)
    return starts[-1] if starts else -1


def _starts_within(pattern: re.Pattern[str], s: str, pos: int, endpos: int) -> bool:
    """``p.search(s, pos, endpos)`` found something, for a pattern whose matches never hold a
    clause break and an `endpos` at one (`_clause_end`)."""
    starts = _starts(pattern, s)
    i = bisect.bisect_left(starts, pos)
    return i < len(starts) and starts[i] < endpos


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
        if start and ((guard := GUARD_BEFORE_RE.search(s, max(0, start - 40), start))
                      and not (language == "en"
                               and ANSWER_NO_RE.search(s, max(0, start - 30), start))
                      and not (TELLING_RE.match(s, guard.start())
                               and _last_start(YOU_TOO_RE, s) >= m.end())
                      or PAS_BEFORE_RE.search(s, max(0, start - 5), start)
                      and FR_INFINITIVE_RE.match(s, start)
                      or s.startswith(STOPPING, start)
                      and WHO_STOPS_RE.search(s, max(0, start - 30), start)
                      or SAID_BY_OTHER_RE.search(s, max(0, start - 40), start)
                      and not _starts_within(OBJECT_US_RE, s, start, _clause_end(s, m.end()))
                      and _last_start(SENDER_TOO_RE, s) < m.end()):
            continue
        # (a thing of the job after it, "stop texting me the address", beside a bare STOP or
        # a complaint still revokes: "stop texting me the address. Who is this?")
        after = GUARD_AFTER_RE.match(s, m.end())
        if after is not None and not (after["job"] and _insists(s, start)):
            continue
        limit = LIMIT_AFTER_RE.match(s, m.end())
        if limit is not None and (limit.group("redirect") or not _insists(s, start)):
            continue
        return language
    return None


# A whole clause that says the messages are unwanted (COMPLAINT): "This is harassment", "Who
# is this?", "I never signed up", "Esto es acoso", "C'est du harcèlement". Only whole clauses:
# "Who is this technician?" or "not interested in Saturday" are about the job.
_COMPLAINT_CLAUSE_RE = re.compile(COMPLAINT)
# A bare opt-out keyword as a clause, or just before the revocation in its clause ("STOP stop
# texting me at work"), in any of the three languages.
_INSISTING_KEYWORD_RE = re.compile(strong(STRONG_WORDS + "|stoppez|alto|baja"))
# "Who is this?" that the sender answers in the next clause, having placed the pro: "Who is
# this? Oh the plumber", "Qui est-ce? Ah, le plombier", "¿Quién es? Ah el plomero", "Who's
# this? nvm": no complaint, so it is no insistence beside a thing of the job. A bare "Oh." is
# no answer ("Who is this? Oh. Stop texting me the address" still insists).
_WHO_ANSWERED_RE = re.compile(
    r"(?:^|\| )(?:" + phrases.WHO_ASKED + r"|who s this|qui est ce)"
    r" \| (?:(?:(?:oh|ah|ahh|ohh|ok|okay)(?: (?:ok|okay|right|i see))*(?: \|)?"
    r" (?:the|its|it s|you re|youre|ur|your|le|la|l|c est|el|es|eres|son|from) \w+"
    r"|(?:(?:oh|ah|ok|okay) )?(?:nvm|never mind|nevermind|got it)(?= \||$)))")
_WHO_CLAUSE_RE = re.compile(r"(?:" + phrases.WHO_ASKED + r"|who s this|qui est ce)")


def _insists(s: str, start: int) -> bool:
    """Another clause is a bare STOP (ALTO, BAJA, ARRÊTEZ...) or says the messages are
    unwanted, or either leads into the revocation at `start` in its clause: "STOP!!! Stop
    texting me at work", "This is harassment stop texting me at work." A limit beside it is
    no request to be texted elsewhere."""
    clause_start = s.rfind("| ", 0, start) + 2 if "| " in s[:start] else 0
    if start > clause_start and (_INSISTING_KEYWORD_RE.fullmatch(s, clause_start, start - 1)
                                 or _COMPLAINT_CLAUSE_RE.fullmatch(s, clause_start, start - 1)):
        return True
    answered = None
    for clause in s.split(" | "):
        clause = clause.strip("| ")
        if _INSISTING_KEYWORD_RE.fullmatch(clause):
            return True
        clause = COURTESY_TAIL_RE.sub("", clause)
        if _COMPLAINT_CLAUSE_RE.fullmatch(clause):
            if answered is None:
                answered = _WHO_ANSWERED_RE.search(s) is not None
            if not (answered and _WHO_CLAUSE_RE.fullmatch(clause)):
                return True
    return False




# A word of address (phrases.ADDRESS) that opens a clause, alone or after an interjection, is
# set aside, as the same word after a request is (phrases.LAST): "bro stop bugging me" reads as
# "stop bugging me bro" does, "güey deja de molestarme" as "deja de molestarme güey".
_ADDRESS_WORDS = frozenset(phrases.ADDRESS.split("|"))
_OPENING_ADDRESS = frozenset((phrases.LEAD_EN + "|oye|ey|ya|bon|svp|stp|porfa").split("|"))


def without_address(tokens: list[str]) -> list[str]:
    """`tokens` without the words of address that open a clause (and the comma after one)."""
    out: list[str] = []
    skip_break = False
    for i, token in enumerate(tokens):
        if skip_break and token == "|":
            skip_break = False
            continue
        skip_break = False
        if (token in _ADDRESS_WORDS and i + 1 < len(tokens)
                and (not out or out[-1] == "|" or out[-1] in _OPENING_ADDRESS)):
            skip_break = True
            continue
        out.append(token)
    return out


# Thanks closing the message, in any of the three languages whatever the request's: "Arrêtez de
# m'écrire svp thanks", "Retirez-moi ty", "Quítenme por favor thanks" read as without it, as
# each language's own courtesy is (a mixed-language sender thanks in English)
_CLOSING_THANKS_RE = re.compile(
    r"(?: \|)*(?: (?:thanks|thank you|ty|tysm|thankyou|merci|gracias)(?: (?:so much|very much"
    r"|beaucoup))?(?: \|)*)+$")
_THANKS_WORDS = frozenset(("thanks", "you", "ty", "tysm", "thankyou", "merci", "gracias", "much",
                           "beaucoup", "|"))


def revocation(s: str, tokens: list[str], question: bool, text: str) -> str | None:
    """The language of an unguarded own-words revocation in ``s`` (``" ".join(tokens)``);
    `text` is the message as written."""
    if tokens[-1] in _THANKS_WORDS and (thanks := _CLOSING_THANKS_RE.search(s)) and thanks.start():
        s = s[:thanks.start()]
        tokens = s.split()
    if not _ADDRESS_WORDS.isdisjoint(tokens):
        tokens = without_address(tokens)
        s = " ".join(tokens)
    if (widened := without_widened_limits(s)) is not s:
        s = widened
        tokens = s.split()
    # Only the patterns that can start at each word are tried, anchored there.
    no_last = question and _ASKS_WHO_RE.search(s, max(0, len(s) - 40)) is None
    start = 0
    by_word, by_head = _BY_WORD.get, _BY_PREFIX_HEAD.get
    for token in tokens:
        patterns = by_word(token)
        if patterns is not None:
            language = _accepted(s, start, patterns, no_last, text)
            if language is not None:
                return None if VETO_RE.search(s) else language
        candidates = by_head(token[:3])
        if candidates is not None:
            for prefix, patterns in candidates:
                if token.startswith(prefix):
                    language = _accepted(s, start, patterns, no_last, text)
                    if language is not None:
                        return None if VETO_RE.search(s) else language
        start += len(token) + 1
    return None
