"""An id or a word a client sent (mask_word): also a number glued to letters, which the
API reads past and mask_text knows nothing of."""
from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

from commsvc.log_masking.phone_numbers import (
    NOT_DIGITS,
    Hint,
    bounded,
    budget_spent,
    last_shown,
    masked_dialled,
    read_as_number,
    within_budget,
)
from commsvc.log_masking.text import mask_text


@bounded
def mask_word(text: str, keep: frozenset[str] = frozenset()) -> str:
    """An id a client sent (a path segment, an X-Request-Id) or words a person wrote (a stated
    reason) masked as a log masks them in a URL: mask_text, and also a number glued to letters
    that the API reads past ("4155550101x", "x415-555-0101", "415555010x1", "415-CALL-NOW"),
    which mask_text knows nothing of. Numbers written in E.164 that are in `keep` stay. Not
    for our own ids: about one 16-digit hex id (key_...) in 400 reads as such a number."""
    if _GROUPED_HINT.search(text):
        text = _GROUPED_BEFORE_LETTERS.sub(_masked_grouped, text)
    return mask_text(glued_masked(text), keep)


# A North American number written in groups, letters glued to its end ("415 555 0101x",
# "(415) 555-0101ab", "1 415 555 0101x"): the API reads past the letters, GLUED_TO_LETTERS
# reads a token with no space in it, and mask_text no number a letter follows.
_GROUPED_BEFORE_LETTERS = re.compile(
    r"(?<![\w%-])(?:1[ .-]{1,2})?(?:\([2-9]\d\d\)|[2-9]\d\d)[ .-]{0,2}[2-9]\d\d[ .-]{0,2}\d{4}"
    r"(?=[A-Za-z])")
# What its every match holds, scanned for by its first character (the pattern, opening with a
# lookbehind, is tried at every position of the text).
_GROUPED_HINT = Hint(r"[2-9]\d\d\)?[ .-]{0,2}[2-9]\d\d[ .-]{0,2}\d{4}[A-Za-z]")


def _masked_grouped(match: re.Match) -> str:
    """The grouped number masked where the API reads it ("200 300 4000ms" is none); one with no
    space in it is one token, GLUED_TO_LETTERS' to read (an id's hex: "4155550101abcdef...")."""
    number = match[0]
    if " " not in number or not read_as_number(number):
        return number
    return masked_dialled(NOT_DIGITS.sub("", number))


# A path segment or query value with letters glued to its digits (but for a hex id's, see
# _HEX_ID): the API reads "4155550101x", "x415-555-0101" or "tel4155550101" as the
# phone number in it (phonenumbers skips the letters), so the log must not keep it readable;
# nor the numbers in "4155550101x4155550202", which it refuses.
# A letter may follow the digits after up to three separators too (not a space, which ends a
# request line's part): the API reads "415-555-CALL" and "415-555-0101-x" as it reads
# "415555CALL" and "4155550101x" ("%" stands for an escape once masked_phone_part has cut
# them). Three at most, as _DIGIT_GROUPS: a digit in each of a long run of "%20" would
# otherwise scan the rest of it.
_SEPARATED = r"(?:%2[0BbDdEe89]|[.()+%-]){0,3}"
GLUED_TO_LETTERS = re.compile(r"(?<![^\s/?&=#;])(?=[^\s/?&=#;]*?(?:[A-Za-z]\d|\d"
                              + _SEPARATED + r"[A-Za-z]))"
                              # 7 digits, or 7 digits and letters of which 3 are letters,
                              # which phonenumbers reads as a keypad's: 415555CALL
                              r"(?=(?:[^\s/?&=#;\d]*+\d){7}|(?=(?:[^\s/?&=#;A-Za-z]*+[A-Za-z]){3})"
                              r"(?:[^\s/?&=#;A-Za-z\d]*+[A-Za-z\d]){7})[^\s/?&=#;]++")
# What every match of GLUED_TO_LETTERS holds: a letter by a digit, before it or after it (maybe
# past separators). One scan, by the digit, which most lines have fewer of than letters (the
# letter before one is looked behind for): a scan by each side's first character, the letter
# before a digit's first, tried each letter of the relay line's words up to its SID.
_LETTER_BY_DIGIT = re.compile(r"\d(?:(?<=[A-Za-z]\d)|" + _SEPARATED + r"[A-Za-z])")


def glued_masked(text: str) -> str:
    """Each part of the text with a number glued to letters masked (GLUED_TO_LETTERS,
    masked_phone_part); the text as it is, unscanned, where no letter is next to a digit."""
    first = _LETTER_BY_DIGIT.search(text)
    if not first:
        return text
    # A match is a whole part holding a letter by a digit: none ends before the part of the
    # first, which the pattern, tried at every position, would otherwise be asked at each of
    # (the relay line's words before its SID).
    before = _UP_TO_LAST_SEPARATOR.match(text, 0, first.start())
    start = before.end() if before else 0
    return text[:start] + GLUED_TO_LETTERS.sub(masked_phone_part, text[start:])


# What ends the part before (GLUED_TO_LETTERS' lookbehind), the last of them before a position.
_UP_TO_LAST_SEPARATOR = re.compile(r".*[\s/?&=#;]", re.DOTALL)


_DIGIT_GROUPS = re.compile(r"\d(?:(?:[ .()+-]|%2[0BbDdEe89]){0,3}\d)*")


def masked_phone_part(match: re.Match) -> str:
    """A URL part with a number glued to letters, its digits masked unless it is an id."""
    part = match.group(0)
    if "%" in part and not _LETTER_BY_DIGIT.search(_ESCAPE.sub("%", part)):
        return part  # only an escape's letters ("%2B1..."): mask_numbers' to judge
    # Not %2B's B, nor a word before the first digit, which the API skips ("phone4155550101");
    # what follows it must have the 7 digits (or keypad letters) of the shortest number.
    glued = part[_BEFORE_NUMBER.match(part).end():]
    if "%" in glued:
        glued = _ESCAPE.sub("%", glued)
    if not _SEVEN_LETTERS_OR_DIGITS.match(glued):
        return part
    if _all_digits_in_hex_ids(part):  # no reading but of an id shaped like ours (budgeted)
        return part
    if not within_budget():  # past the text's budget (MASKING_STEPS): masked unread
        return masked_outright(part)
    masked = _DIGIT_GROUPS.sub(_masked_group, part)
    masked = masked if masked != part else _masked_reading(part)
    # The budget ran out among the part's readings: NOT_READ made a number of a digit group or
    # of the keypad letters' reading, and showed the rest ("415-FLOWERS"): masked unread too.
    return masked_outright(part) if budget_spent() else masked


# A machine's id among the letters: 16 hex digits or more of one case (a Twilio SID after its
# two letters, our ids after their prefix, request ids, key ids, hashes) or a UUID, ending its
# part or before punctuation. How many letters are glued to a number says nothing of whether
# it is one ("4155550101abcde" is); random hex shows itself by short runs of digits and of
# letters all through it (16 in a SID's 32 on average), where a number with words glued to it
# has two or three ("4155550101abcdef", "cafe4155550101dead").
_HEX_ID = re.compile(r"(?:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{16,}"
                     r"|[0-9A-F]{8}(?:-[0-9A-F]{4}){3}-[0-9A-F]{12}|[0-9A-F]{16,})"
                     r"(?![0-9A-Za-z])")
HEX_ID_MIN_RUNS = 5  # of digits or of letters, one after the other
# That many runs from the id's start, each taken whole (possessive: a run is never cut in two to
# make up the count); matched, not listed: a list of a SID's 16 runs cost more than the rest of
# the id's reading.
_HEX_RUNS = re.compile(rf"(?:[^\dA-Fa-f]*+(?:\d++|[A-Fa-f]++)){{{HEX_ID_MIN_RUNS}}}")


# Our own ids, each a prefix and secrets.token_hex (auth.service, sessions.service,
# sending.service.acceptance, records.holds), whatever runs its hex has: in a key id's 16 hex
# digits a run of 10 that is a valid number is not rare (key_78255d6807923986, 1 in 400).
# Not where the API reads a number in the id itself ("key_abcdef4155550101" is +14155550101;
# 3 to 6 random key ids in 10,000 read so, no hold, session or message id).
_OWN_ID = re.compile(r"(?<![0-9A-Za-z])(?:key_[0-9a-f]{16}|hold_[0-9a-f]{20}|(?:ses|msg)_"
                     r"[0-9a-f]{24})(?![0-9A-Za-z])")


def _all_digits_in_hex_ids(part: str) -> bool:
    """Whether every digit of the part is a hex id's (a SID, "ses_...") or an ISO time's: an
    id's, no phone's."""
    if ":" in part:  # each ISO time has one
        part = _ISO_TIME.sub("", part)
    if "_" in part:  # each id of ours has one
        part = _OWN_ID.sub(_own_id_left, part)
    return not _DIGIT.search(_HEX_ID.sub(
        lambda found: "" if _random_hex(found[0]) else found[0], part))


def _random_hex(hex_id: str) -> bool:
    """Whether a hex id (_HEX_ID's match) has the short runs of random hex, no number's."""
    return _HEX_RUNS.match(hex_id) is not None


def _own_id_left(own: re.Match) -> str:
    """What of an id of ours _all_digits_in_hex_ids keeps: the id where the API reads a number
    in it, else nothing. Its hex is a _HEX_ID match of its own (16 hex digits or more, "_"
    before it, no letter or digit after): where that hex is random (_random_hex), the id's
    digits go with it either way, so the number is not read (a phonenumbers parse, 30 µs of
    every relayed text's log line), its step of the budget taken all the same."""
    if _random_hex(own[0][own[0].index("_") + 1:]):
        within_budget()
        return ""
    return own[0] if read_as_number(own[0]) else ""


# A date and time as the contract writes them (2026-11-24T17:42:13.108945Z): its seconds and
# fraction ("13.108945") may read as a number glued to the "Z".
_ISO_TIME = re.compile(r"(?<!\d)(?:19|20)\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d"
                       r"(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-][0-2]\d:?[0-5]\d)?(?!\d)")


# What comes before a part's first digit (an escape of one, %30-%39, is one): a word the API
# skips ("tel:", "mobile%3A"), none of the number's digits.
_BEFORE_NUMBER = re.compile(r"(?:%(?!3\d)[0-9A-Fa-f]{2}|[^\d%])*")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_DIGIT_OR_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|\d")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")
_LETTER_OR_DIGIT = re.compile(r"[A-Za-z\d]")
# Seven of them, matched rather than listed (a list of a SID's 32 characters, one string each).
_SEVEN_LETTERS_OR_DIGITS = re.compile(r"(?:[^A-Za-z\d]*+[A-Za-z\d]){7}")
_LETTER_OR_DIGIT_OR_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|[A-Za-z\d]")


def masked_outright(part: str) -> str:
    """A part with a digit, every letter and digit after the word before its number masked
    (a keypad's letters too: "415-FLOWERS" is +14153569377), escapes kept but a digit's."""
    word = _BEFORE_NUMBER.match(part).end()
    return part[:word] + _LETTER_OR_DIGIT_OR_ESCAPE.sub(
        lambda token: token[0] if len(token[0]) == 3 and token[0][1] != "3" else "*",
        part[word:])


def _masked_reading(part: str) -> str:
    """The part with all but the last digits phones.mask shows masked when the API reads it,
    letters and all, as one valid number: phonenumbers drops a letter or two wherever it stands, so
    "415555010E1" is +14155550101 though no group of digits between the letters is one."""
    digits = [token for token in _DIGIT_OR_ESCAPE.findall(part) if len(token) == 1]
    if DATE_STAMP.fullmatch("".join(digits)):
        return part
    number = (read_as_number(unquote(part))
              # in a query a "+" is a space: ?phone=415+555+01E01 is 415 555 01E01
              or ("+" in part and read_as_number(unquote_plus(part))))
    if not number:
        return part
    # Three letters or more phonenumbers reads as a keypad's (+1415555CALL is +14155552255):
    # then they are the number's digits, masked as digits are (not a word before it: "tel:").
    without_letters = _LETTER.sub("", unquote(part))
    word = _BEFORE_NUMBER.match(part).end()
    if number not in (read_as_number(without_letters), read_as_number(without_letters.replace(
            "+", " "))):
        digits = _LETTER_OR_DIGIT.findall(unquote(part[word:]))
        positions = _LETTER_OR_DIGIT_OR_ESCAPE
    else:
        positions = _DIGIT_OR_ESCAPE
    # As many last digits as phones.mask shows: four, or half of a short national number.
    hidden = iter(range(len(digits) - last_shown(number)))
    return part[:word] + positions.sub(
        lambda token: "*" if len(token[0]) == 1 and next(hidden, None) is not None
        else token[0], part[word:])


def _masked_group(run: re.Match) -> str:
    """A group of digits that reads as a valid phone number on its own, masked."""
    digits = NOT_DIGITS.sub("", run[0])
    if len(digits) < 7 or DATE_STAMP.fullmatch(digits):  # "v2026061512" stays readable
        return run[0]
    return masked_dialled(digits) if read_as_number(unquote(run[0])) else run[0]


DATE_STAMP = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])?")
