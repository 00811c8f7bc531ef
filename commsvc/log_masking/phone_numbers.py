"""Phone numbers in text as people write them, masked as phones.mask masks one: E.164, national
numbers in their usual groupings, numbers written with a leading 0."""
from __future__ import annotations

import functools
import re
from contextvars import ContextVar

from commsvc.config.loader import masking_region
from commsvc.phones import mask, possible, shown_digits, try_normalise

# What separates the groups of a written phone number, raw or URL-encoded: a space (also "+"
# and "%20" in a query string), "-", "." or "/" (415/555-0101), or their encodings %2B, %2D,
# %2E and %2F (a client may encode them all: 415%2B555%2B0101 is 415+555+0101).
_SEP = r"(?:[ ./+-]|%2[0BbDdEeFf])"
# After a "+" (the number is international), brackets around the area code separate too.
_INTL_SEP = r"(?:[ ./+()-]|%2[0DdEeFf89])"
# Between the groups of a number written with a leading 0: a space (or "+", a space in a
# query string) or a hyphen; after its first group (an area code) also "/".
_WORD_GAP = r"(?:[ +-]|%20|%2[Dd])"
_AREA_GAP = r"(?:[ /+-]|%20|%2[DdFf])"
# The same without ".": a 3-digit group then a 7-digit one joined by a dot is a decimal.
_GAP = r"(?:[ /+-]|%2[0BbDdFf])"
# A national number's end: no letter, digit, "_" or "-" next to it (not inside an id), except
# an extension, "x12" or "ext12" (415-555-0101x12), and no decimal part.
# A "-" or "_" may end a number only where no word goes on after it ("call 416-555-0202- ok").
# A decimal part of zeros alone does end one: a spreadsheet writes a number as a float
# ("4155550101.0"), masked (privacy first, decided by the team), where "4155550101.5",
# "...:00.0Z" and "120.0.6099" are no number.
DECIMAL_PART = r"\.(?!0+(?![\w.]))\d"
_NOT_AFTER = r"(?!(?i:x|ext)\.?\d{1,6}(?![\w-]))(?:[^\W_]|[_-](?=[\w-]))|" + DECIMAL_PART
END = rf"(?!{_NOT_AFTER})"
_END_OR_TIME = rf"(?!{_NOT_AFTER}|:\d)"  # a grouped number not before ":5" (05/06/2026 10:30)
# Each alternative starts by consuming a character and only then looks behind it, so that the
# regex engine can skip ahead to the characters a number may start with (a leading lookbehind
# made every position of every line a candidate).
PHONE = re.compile(
    # E.164 after "+" or its URL encoding "%2B", its digits maybe grouped: +1 415 555 0101.
    # The digits run on past 15: two numbers written side by side (+14155550101 +14155550202)
    # are one run, masked whole, or the second would be left readable after the first's 15.
    # A "+" sent unencoded in a query string arrives as a space, "%20" (%2014155550101); the
    # area code may be bracketed: +1 (415) 555-0101, %2B1(415)555-0101.
    r"(?P<prefix>\+|%2[Bb]|%20)(?P<intl>\d(?:" + _INTL_SEP + r"{0,3}\d){5,})"
    # National numbers as people write them, standing alone (not inside ids or dates):
    # (415) 555-0101, (415)5550101, %28415%29%20555-0101;
    r"|(?:\(|%28)(?<![\w%-]\()(?<![\w%-]%28)\d{3}(?:\)|%29)" + _SEP + r"{0,3}\d{3}" + _SEP
    + r"{0,3}\d{4}" + END
    # a run of 10+ digits, or 415-555-0101, 1.415.555.0101, 1 415 555 0101, 415 5550101, or
    # the French way, 06 12 34 56 78 (five pairs, the first 0x). Digits inside ids (msg_<hex>,
    # UUIDs, Twilio SIDs), dates (2026-11-22 06:53), IPs and decimals are left alone.
    + r"|\d(?<![\w%-]\d)(?<!\d\.\d)(?:\d{9,}"
    r"|(?:" + _SEP + r"{1,3}\d)?\d{2}" + _SEP + r"{1,3}\d{3}" + _SEP + r"{1,3}\d{4}"
    r"|(?:" + _GAP + r"{1,3}\d)?\d{2}" + _GAP + r"{1,3}\d{7}"
    r"|(?<=0)\d(?:" + _SEP + r"{1,3}\d{2}){4}"
    r")" + END
    # Last, numbers written with a leading 0, as most countries write them: a trunk 0 (020
    # 7946 0958, 07700 900123, 030/1234 5678, 0170-1234567) or an international prefix, 00 or
    # 011 (0044 20 7946 0958, 011 44 20 7946 0958, 0033 6 12 34 56 78): two groups or more
    # after the first, or one of 6 to 8 digits. Groups are joined by a space, "+" (a query
    # string's space) or "-", and "/" only after the first (030/...): not dates, paths or a
    # time ("05/06/2026 10:30"). Fewer than 10 digits are no number; more than 15 are masked
    # whole, since two numbers may run together (mask_match).
    # A group after the first may have 9 digits (a Brazilian mobile's: 011-55-11-987654321).
    # The area code may be bracketed, (020) 7946 0958; one separator may also run through the
    # whole number, 020.7946.0958 or 020/7946/0958 (a date has too few digits: 05/06/2026).
    + r"|(?P<grouped>(?:0(?<![\w%-]0)(?<!\d\.0)\d{1,4}"
    r"|(?:\(|%28)(?<![\w%-]\()(?<![\w%-]%28)0\d{1,4}(?:\)|%29))"
    r"(?:" + _AREA_GAP + r"{1,2}(?:\d{1,8}(?:" + _WORD_GAP + r"{1,2}\d{1,9}){1,4}|\d{6,8})"
    r"|(?P<gsep>[ ./+-]|%2[0DdEeFf])\d{1,8}(?:(?P=gsep)\d{1,9}){1,4}))"
    + _END_OR_TIME)
NOT_DIGITS = re.compile(r"%2[0-9A-Fa-f]|\D")


class Hint:
    """A hint's pattern (a cheap pattern every match of a costly one holds), searched for as
    compiled with re.ASCII in an ASCII text (str.isascii() is known without a look at its
    characters): there \\d and \\w mean what they mean in Unicode, and the regex engine tests a
    character against a table rather than asking Unicode's categories of it, with fewer
    instructions a character (the relay line's hints: 20% fewer). Not for \\s, which is
    \\x1c-\\x1f too in Unicode."""

    def __init__(self, pattern: str) -> None:
        if "\\s" in pattern or "\\S" in pattern:
            raise ValueError("a Hint's pattern must read an ASCII text as Unicode reads it")
        self.pattern = pattern
        self._unicode = re.compile(pattern)
        self._ascii = re.compile(pattern, re.ASCII)

    def search(self, text: str) -> re.Match | None:
        return (self._ascii if text.isascii() else self._unicode).search(text)


# What every match of PHONE holds, each a pattern the regex engine scans for by its first
# character (PHONE, whose alternatives start with groups and lookbehinds, is tried at every
# position of the text: 10 µs of a 170-character log line with ids in it, and no number):
# E.164's prefix and 6 digits, or a bracket before a digit; a digit that no word, "%" or "-"
# comes before, with the digits of a national number after it, or a leading 0, digits and a
# separator before more.
_SIX_DIGITS = r"\d(?:" + _INTL_SEP + r"{0,3}\d){5}"
# (each alternative opening with a character: the engine scans for one of them)
_PREFIX_HINT = Hint(rf"\+{_SIX_DIGITS}|%2[Bb]{_SIX_DIGITS}|%20{_SIX_DIGITS}|\(\d|%28\d")
_NATIONAL_HINT = Hint(
    r"\d(?<![\w%-]\d)(?:\d{9}|(?:" + _SEP + r"{1,3}\d)?\d{2}" + _SEP + r"{1,3}\d{3}" + _SEP
    + r"{1,3}\d{4}|(?:" + _GAP + r"{1,3}\d)?\d{2}" + _GAP + r"{1,3}\d{7}|(?<=0)\d{1,4}" + _SEP
    + r"{1,3}\d)")


def may_hold_phone(text: str) -> bool:
    """Whether PHONE may match in the text: False only where it cannot. The last text's answer
    is kept: the log filter asks it of a line's plain form (text.phones_masked), and then
    mask_text of the same plain form (63 K instructions a look at the relay line)."""
    last, answer = _LAST_LOOK[0]
    if text != last:
        answer = bool(_PREFIX_HINT.search(text) or _NATIONAL_HINT.search(text))
        _LAST_LOOK[0] = (text, answer)  # one tuple: a thread reads a text with its own answer
    return answer


_LAST_LOOK: list[tuple[str, bool]] = [("", False)]


def mask_match(match: re.Match) -> str:
    """A phone number the text pattern matched, masked (too few digits: left as it is)."""
    prefix, intl, grouped = match.group("prefix", "intl", "grouped")
    if grouped is not None and len(NOT_DIGITS.sub("", grouped)) < 10:
        return grouped  # too few digits for a phone number
    if prefix is None:
        return masked_dialled(NOT_DIGITS.sub("", match.group(0)))
    if match.start() and match.string[match.start() - 1].isalnum():
        # "44+20 7946 0958", "1%20415 555 0101", "at+415+555+0101": a space after a digit or
        # a word, not a "+" before a calling code; keeping the digits after it as one would
        # leave most of them readable (+41 and 0101). Nor more of its last digits than the
        # number read with the "+" shows: "tel+6834002" is the API's +683 4002 (Niue).
        return prefix + masked_dialled(NOT_DIGITS.sub("", intl), "")
    return prefix + masked_e164("+" + NOT_DIGITS.sub("", intl))[1:]


# Niue's +683 4002 and Tokelau's +690 3010 have the shortest national numbers, of 4 digits:
# phones.mask shows their last 2.
_SHORTEST_SHOWN = shown_digits(4)


def masked_e164(e164: str) -> str:
    """E.164 text masked as phones.mask masks it; but digits that are no possible number, two
    run together (+6834002 +6834003, +14155550101 5551235), show no more than the second
    could spare if it were of the shortest (2): the last four are the whole of +683 4003."""
    masked = mask(e164)
    shown = _digits_shown(masked)
    # Asking phonenumbers is a costly step of the text's budget: past it, no possible number.
    if shown <= _SHORTEST_SHOWN or (within_budget() and possible(e164)):
        return masked
    return masked[:-shown] + "*" * (shown - _SHORTEST_SHOWN) + masked[-_SHORTEST_SHOWN:]


def last_shown(e164: str) -> int:
    """How many last digits phones.mask shows of the number (phones.shown_digits)."""
    return _digits_shown(mask(e164))


def _digits_shown(masked: str) -> int:
    return len(masked) - len(masked.rstrip("0123456789"))


# International prefixes a number written without "+" may start with (011 from North America).
_DIALLED_PREFIXES = ("011", "00")
_TWO_LOCAL_NUMBERS = 14  # digits


def masked_dialled(digits: str, *prefixes: str) -> str:
    """Digits written without "+" masked as phones.mask masks them (phones.shown_digits), and
    no more shown than it shows of the number dialled after an international prefix
    ("0116834002", "00 683 4002": Niue's +683 4002, of which it shows the last half) or, with
    the prefix "" given, of the digits read as E.164 ("tel+6834002": a "+" after a word)."""
    if not prefixes and digits[:1] != "0" and len(digits) < _TWO_LOCAL_NUMBERS:
        return mask(digits)  # the usual case: no prefix to dial
    readings = [last_shown("+" + digits[len(prefix):])
                for prefix in (*_DIALLED_PREFIXES, *prefixes) if digits.startswith(prefix)]
    # Without a prefix, 14 digits or more may be two local numbers of 7 (555 1234 555 1235):
    # no more shown than of the second.
    if not readings and len(digits) >= _TWO_LOCAL_NUMBERS:
        readings.append(shown_digits(7))
    shown = min([shown_digits(len(digits)), *readings])
    hidden = max(len(digits) - shown, 0)
    return "*" * hidden + digits[hidden:]


def mask_phones(text: str, keep: frozenset[str] = frozenset()) -> str:
    """The text with every phone number in it masked as phones.mask masks one, except those
    written in E.164 that are in `keep`."""
    if not may_hold_phone(text):
        return text
    if not keep:
        return PHONE.sub(mask_match, text)
    return PHONE.sub(lambda match: match.group(0) if match.group(0) in keep
                     else mask_match(match), text)


def masked_integer(value: int, keep: frozenset[str] = frozenset()) -> int | str:
    """A JSON integer written as a phone number (14155550101) masked as mask_phones masks one;
    any other integer (a count, an id) as it is."""
    masked = mask_phones(str(value), keep)
    return value if masked == str(value) else masked


def read_as_number(text: str) -> str | None:
    """The number the API reads in the text, national in DEFAULT_REGION ("ph07911123456" is
    +447911123456 where it is GB), or in the US, where most of the service's numbers are.
    Past the budget of the text being masked (bounded), any text: NOT_READ."""
    if not within_budget():
        return NOT_READ
    region = masking_region()
    return try_normalise(text) or (region != "US" and try_normalise(text, region)) or None


# Reading a number as the API does (phonenumbers) costs 20-60 µs a text not read before, and
# the masking of a text asks it once per candidate (a digit group glued to letters, a decimal's
# fraction, an id shaped like ours, whether a "+" run is a possible number); each URL part
# decoded to be masked as a word costs 10-25 µs. A 4 KB request line of random candidates
# ("a1234567b/" repeated, "%4155550101" with random digits, "(1) " repeated, "+1234567; ")
# cost 3-28 ms to mask, where a normal line takes 10-120 µs. Each text (one call of mask_url,
# mask_word, mask_text or the log filter's MaskPhones.masked, with all it calls) has a budget
# of MASKING_STEPS such steps; past it, every further candidate is taken for a number and its
# digits masked outright (privacy first). No normal line comes near it: a request line or a
# log line takes a few.
MASKING_STEPS = 32
# What read_as_number answers past the budget: a number, so that the candidate is masked as
# one (its last four digits shown, as of a North American number).
NOT_READ = "+12000000000"
_STEPS_LEFT: ContextVar[list[int] | None] = ContextVar("masking_steps_left", default=None)


def within_budget() -> bool:
    """Whether the text being masked may take one more costly step (and that step counted)."""
    left = _STEPS_LEFT.get()
    if left is None:
        return True
    left[0] -= 1
    return left[0] >= 0


def budget_spent() -> bool:
    """Whether a step of the text being masked was refused (past MASKING_STEPS): a reading
    cut short by it answered NOT_READ, no reading to compare others with."""
    left = _STEPS_LEFT.get()
    return left is not None and left[0] < 0


def bounded(function):
    """The masking function with a budget of MASKING_STEPS costly steps for each call (not for
    a call made from within another so bounded: the outer call's budget holds)."""
    @functools.wraps(function)
    def with_budget(*args, **kwargs):
        if _STEPS_LEFT.get() is not None:
            return function(*args, **kwargs)
        token = _STEPS_LEFT.set([MASKING_STEPS])
        try:
            return function(*args, **kwargs)
        finally:
            _STEPS_LEFT.reset(token)
    return with_budget
