"""Free text for a log, an error or the audit trail (mask_text): numbers written with Unicode
or unusual separators, in loose groupings, glued to a word or to each other, URL-encoded."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from commsvc.log_masking.keys import redact_keys
from commsvc.log_masking.phone_numbers import (
    DECIMAL_PART,
    END,
    NOT_DIGITS,
    PHONE,
    Hint,
    bounded,
    mask_match,
    mask_phones,
    masked_dialled,
    masked_e164,
    may_hold_phone,
    read_as_number,
)

# What a number may be written with that mask_phones does not read as a separator: any
# non-ASCII character (Unicode spaces, dashes, invisible format characters, fullwidth
# digits), square brackets, "*", "~", "_", "," and a tab or line break (\t \n \v \f \r).
_UNUSUAL_TEXT = re.compile(r"[^\x20-\x7e]|[\[\]*~_,]")
_AS_SEPARATOR = str.maketrans({"[": "(", "]": ")", "*": " ", "~": " ", "_": "-", ",": " ",
                               "\t": " ", "\n": " ", "\v": " ", "\f": " ", "\r": " "})


def _plain(text: str) -> str:
    """The text with what people write numbers with made what mask_phones reads: fullwidth
    digits as ASCII (NFKC), every space and ",", "*", "~" " ", every dash and "_" a "-",
    brackets round, invisible format characters (soft hyphen, word joiner) dropped. "*" and
    "~" are no hyphen: the API reads "~4155550101" and "ab*4155550101" as +14155550101, and a
    number after a "-" is taken for digits inside an id."""
    if not text.isascii():
        category = unicodedata.category
        text = "".join(_CHAR_AS[c] if c in _CHAR_AS else _CATEGORY_AS.get(category(c), c)
                       for c in unicodedata.normalize("NFKC", text))
    return text.translate(_AS_SEPARATOR)


def phones_masked(text: str, keep: frozenset[str] = frozenset()) -> str:
    """mask_phones, asked first of an ASCII text's plain form (_plain), which mask_text looks
    in next (_mask_in_place; may_hold_phone keeps the answer): where mask_phones may read a
    number in the text, it may in the plain form too, so that where the plain form holds none,
    the text holds none. The plain form of an ASCII text is the text, a character for a
    character, with characters that are no separator made one: no hint's character ([ ./+()-],
    "%2B" and the like, digits) changes, and no character before a digit changes whether it is
    a word's, "%" or "-" ("_" becomes "-")."""
    if text.isascii() and not may_hold_phone(_plain(text)):
        return text
    return mask_phones(text, keep)


_CATEGORY_AS = {"Zs": " ", "Pd": "-", "Cf": ""}
# Dots and bullets between groups (415·555·0101, 415 • 555 • 0101) and what makes a digit a
# keycap emoji (4️⃣1️⃣5️⃣...).
_CHAR_AS = {"\u00b7": "-", "\u2022": "-", "\u2219": "-", "\u20e3": "", "\ufe0f": "",
            # a minus sign, a hyphen bullet, the katakana long vowel mark (ー) between groups
            "\u2212": "-", "\u2043": "-", "\u30fc": "-"}


# Digits standing alone in any grouping, one space, "+" (a query string's space) or "-" between
# any two of them (10 to 15 digits): "4-1-5-5-5-5-0-1-0-1", "415 555 01 01", "415555+0101".
# Not "." (version strings: Chrome/120.0.6099.129), nor a run that starts with a date
# (2026-05-01-1234, 20260501-00042).
# Nine after the international prefix 00: the shortest numbers, 7 digits with their calling
# code (Niue's +683 4002, Tokelau's +690 3010), dialled from abroad ("006834002", "00 683
# 4002"); not a decimal's (0.006834002).
# An area code and a 7-digit number joined by a dot ("415.5550101"): a decimal, masked only
# where the API reads it as a number (_masked_run).
_DOTTED_NUMBER = re.compile(r"[2-9]\d\d\.\d{7}")
_LOOSE_RUN = re.compile(
    r"(?<![\w%-])(?!(?:19|20)\d\d-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])(?!\d))"
    r"(?:\+?\d(?:[ +-]?\d){9,14}|(?<!\d\.)0[ -]?0(?:[ -]?\d){7}|(?<!\d\.)"
    + _DOTTED_NUMBER.pattern + ")" + END)
# What every match of _LOOSE_RUN holds, scanned for by its first character: a digit that no
# word, "%" or "-" comes before, then 8 more, one space, "+" or "-" at most between two, or
# an area code and 7 digits joined by a dot.
_LOOSE_HINT = Hint(r"\d(?<![\w%-]\d)(?:(?:[ +-]?\d){8}|\d\d\.\d{7})")


def _loose_runs(text: str) -> list[re.Match]:
    """_LOOSE_RUN's matches in the text."""
    return list(_LOOSE_RUN.finditer(text)) if _LOOSE_HINT.search(text) else []


def _loose_runs_masked(text: str) -> str:
    """The text with _LOOSE_RUN's matches masked."""
    return _LOOSE_RUN.sub(_masked_run, text) if _LOOSE_HINT.search(text) else text


# A local number of 7 digits as a person writes it without its area code, its exchange (NXX,
# 2-9 first) and line joined by one "-", "." or space: 555-1234, 555.1234, 555 1234. Bounded
# as PHONE bounds a 10-digit number (not inside an id, after a decimal point, before a letter,
# a "-word" or a decimal part); a bare run of 7 digits stays (a count, an id).
_LOCAL_NUMBER = re.compile(r"[2-9](?<![\w%-][2-9])(?<!\d\.[2-9])\d\d[ .-]\d{4}" + END)
# Brackets in a number: round 1-4 digits ("(415) 555 01 01", "1-(415)-555-01-01",
# "0044 (0)20 7946 0958", "(55) 1234-5678") or between two digits ("415)555-0101"). Read as a
# space only for the loose runs, and kept where no number comes of it: a version and a build
# date ("MyApp/12 (20260501)", "App/5 (2026-05-01)") have none of these.
_BRACKETED_GROUP = re.compile(r"[ -]*\((\d{1,4})\)[ -]*")
_BRACKET_BETWEEN_DIGITS = re.compile(r"(?<=\d)[()](?=\d)")


# A North American number glued to a word by "_" or "-" (or their encodings) and ending the
# token: an id a client made of a phone number ("ses_4155550101", "x_415_555_0101",
# "acme_bk-14155550101"). Ours and Twilio's ids carry letters among their digits; Unix
# times (1732345678) and date stamps (2026061512) are no such number.
_ID_SEP = r"(?:[_-]|%2[Dd]|%5[Ff])"
# 2026061512 (YYYYMMDDHH) is a date stamp, not a number.
_NOT_A_DATE_STAMP = (r"(?!(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])"
                     r"(?!\d))")
# Between the groups of such a number: what _ID_SEP allows, ".", a space, or their encodings.
_GROUP_SEP = r"(?:[ ._-]|%2[0DdEe]|%5[Ff]){0,2}"
_PREFIXED_NUMBER = re.compile(
    # a word with a letter in it (3cx_, 8x8-, josé_), maybe of several parts, then "_" or "-"
    r"(?<![\w%-])(?=(?:[\w-]|%2[Dd]|%5[Ff])*?[^\W\d_])(?P<word>[^\W_]++(?:" + _ID_SEP
    + r"+[^\W_]+)*"
    + _ID_SEP + r"+)"
    + _NOT_A_DATE_STAMP +
    # NPA-NXX-XXXX: neither the area code nor the exchange starts with 0 or 1
    r"(?P<number>(?:1" + _GROUP_SEP + r")?[2-9]\d\d" + _GROUP_SEP + r"[2-9]\d\d" + _GROUP_SEP
    + r"\d{4})"
    # its end: not inside more digits or letters, though "_x" or "-2" may follow
    r"(?![0-9A-Za-z]|" + DECIMAL_PART + ")")


# Numbers glued to each other by "-", "_" or "." (4155550101-4155550102, +14155550101_+4477...):
# each reads as inside an id to PHONE, so neither would be masked. Each is E.164 or a North
# American number, so that Unix times (1700000000-1700003600) and date stamps stay.
_GLUED = r"(?:\+[1-9]\d{9,14}|" + _NOT_A_DATE_STAMP + r"1?[2-9]\d\d[2-9]\d{6})"
_JOINED_NUMBERS = re.compile(rf"(?<![\w%+.-]){_GLUED}(?:[._-]{_GLUED})+(?![\w-])")
_JOIN = re.compile(r"([._-])")
# What every match of _JOINED_NUMBERS holds (a number's last 10 digits, a join, the next one's
# first character), of _PREFIXED_NUMBER and of _SUFFIXED_NUMBER (a North American number's
# groups): patterns the regex engine scans for by their first character, where the others,
# opening with lookbehinds, are tried at every position of the text. The join is scanned for
# first (the ten digits before it looked behind for): a line has fewer of them than digits (an
# id's hex: 60 digits in the relay line, three "_").
_JOINED_HINT = Hint(r"[._-](?<=\d{10}[._-])[+\d]")


def mask_prefixed(text: str) -> str:
    """The numbers glued to a word or to each other in `text` masked, the word and its "_" or
    "-" kept."""
    if "_" not in text and "-" not in text and "%" not in text and "." not in text:
        return text
    if _JOINED_HINT.search(text):
        text = _JOINED_NUMBERS.sub(lambda match: "".join(
            part if _JOIN.fullmatch(part) else _masked_run_text(part)
            for part in _JOIN.split(match[0])), text)
    if "_" not in text and "-" not in text and "%" not in text or not _NANP_HINT.search(text):
        return text
    text = _PREFIXED_NUMBER.sub(
        lambda match: (_NUMBER_IN_WORD.sub(lambda inner: _masked_digits(inner[0]),
                                           match["word"])
                       + _masked_digits(match["number"])), text)
    return _SUFFIXED_NUMBER.sub(lambda match: _masked_digits(match[0]), text)


def _masked_digits(number: str) -> str:
    return masked_dialled(NOT_DIGITS.sub("", number))


# An earlier number in the same word, between "_" or "-" ("conv-4155550101-4155550102").
_NUMBER_IN_WORD = re.compile(r"(?<![^_-])" + _NOT_A_DATE_STAMP + r"(?:1[_-]{0,2})?[2-9]\d\d"
                             r"[_-]{0,2}[2-9]\d\d[_-]{0,2}\d{4}(?=[_-])")


# The same number with the word after it ("4155550101_abcdef", "415-555-0101_retry", its area
# code maybe bracketed: "(415) 555-0101-ab"), at the start of a token; or ending the token
# after another number and "_" ("415-555-0101_415-555-0102"; joined by "-", as "555-1234
# 555-1235", its first digits may be the other's last), or after a "-" starting it
# ("-4155550101", "(-4155550101)", which the API reads as the number), or after a date and
# "-". Not after a "+" (mask_phones reads it), "%" (an escape) or "." (a decimal). It opens by
# looking ahead at what a number may start with, so that the regex engine skips every other
# position (a lookbehind first tried them all).
# A date glued by "-" before the number ("2026-11-24-4155550101", "20261124-14155550101": a
# reference a client made), masked as the team decided, privacy first; the date stays.
_AFTER_A_DATE = (r"(?:(?<=(?:19|20)\d\d-[01]\d-[0-3]\d-)|(?<=(?:19|20)\d\d[01]\d[0-3]\d-))")
_NANP_GROUPS = r"[2-9]\d\d" + _GROUP_SEP + r"[2-9]\d\d" + _GROUP_SEP + r"\d{4}"
_NANP_HINT = Hint(r"[2-9]\d\d(?:\)|%29)?" + _GROUP_SEP + r"[2-9]\d\d" + _GROUP_SEP
                  + r"\d{4}")
_SUFFIXED_NUMBER = re.compile(
    r"(?=[\d(%])(?<![^\W_])(?<![%.+])" + _NOT_A_DATE_STAMP
    + r"(?:(?:(?<=_)|(?<=-)(?<![\w%.+-]-)|" + _AFTER_A_DATE + r"(?:1" + _GROUP_SEP + r")?)"
    + _NANP_GROUPS
    + r"(?![0-9A-Za-z]|" + DECIMAL_PART + ")"
    + r"|(?:1" + _GROUP_SEP + r")?(?:\(|%28)?[2-9]\d\d(?:\)|%29)?" + _GROUP_SEP + r"[2-9]\d\d"
    + _GROUP_SEP + r"\d{4}(?=" + _ID_SEP + r"+[^\W_]))")


def _masked_run(match: re.Match) -> str:
    run = match.group(0)
    if _DOTTED_NUMBER.fullmatch(run):  # 415.5550101: a decimal but where the API reads it
        return _masked_run_text(run) if read_as_number(run) else run
    point = _WHOLE_PART.search(match.string, max(0, match.start() - 32), match.start())
    if point and not (read_as_number(run) or read_as_number(run.lstrip("0"))
                      or read_as_number(point[0] + run)):
        return run  # a decimal's digits (0.0012345678): no number the API reads, nor a part
    return _masked_run_text(run)


# The digits and point before a loose run that is a decimal's fraction ("0." of 0.0012345678).
_WHOLE_PART = re.compile(r"\d+\.\Z")


def _masked_run_text(run: str) -> str:
    digits = "".join(c for c in run if c.isdigit())
    return masked_e164("+" + digits) if run.startswith("+") else masked_dialled(digits)


def mask_numbers(text: str) -> str:
    """mask_phones, then the loose runs it does not read, brackets and all (mask_text's and
    mask_url's last step)."""
    text = _loose_runs_masked(mask_phones(text))
    if "(" not in text and ")" not in text:
        return text
    unbracketed = _BRACKET_BETWEEN_DIGITS.sub(" ", _BRACKETED_GROUP.sub(r" \1 ", text))
    masked = _loose_runs_masked(unbracketed)
    return masked if masked != unbracketed else text


@bounded
def mask_text(text: str, keep: frozenset[str] = frozenset()) -> str:
    """Free text for a log, an error or the audit trail (a User-Agent, an id a client sent, a
    stated reason): API keys redacted, every phone number masked, also one written with
    Unicode separators or digits, "[415] 555*0101", digits in any grouping, or URL-encoded (up
    to three times). Only the numbers change in an ASCII text; another comes back with its
    separators made plain, or decoded. Numbers written in E.164 that are in `keep` stay."""
    kept = sorted((number for number in keep if _E164.fullmatch(number) and number in text),
                  key=len, reverse=True)
    if not kept:
        return _mask_text(text)
    # Set aside while the rest is masked, so that no neighbouring number makes one run with
    # it; only where it stands alone (glued to other digits, the whole run is masked), and
    # under a mark the text does not hold already.
    # Longer than any run of Q after KEPTNUMBER in the text, then two letters of its own.
    base = "KEPTNUMBER" + "Q" * (1 + max(map(len, _MARKS.findall(text)), default=0))
    marks = []
    for i, number in enumerate(kept[:26 * 26]):
        mark = f"{base}{chr(65 + i // 26)}{chr(65 + i % 26)}"
        alone = re.compile(r"(?<![\w+%])" + re.escape(number) + r"(?![\w])")
        text, found = alone.subn(mark, text)
        if found:
            marks.append((number, mark))
    text = _mask_text(text)
    for number, mark in reversed(marks):
        text = text.replace(mark, number)
    return text


_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MARKS = re.compile(r"(?<=KEPTNUMBER)Q*")


def _mask_text(text: str) -> str:
    text = mask_prefixed(redact_keys(text))  # first: making separators plain turns "_" to "-"
    if "%" in text:
        text = literal_percents_masked(text)
        decoded = unquoted(text)
        if decoded != text:
            # Once: what three decodings leave encoded stays so (a recursion per three
            # layers failed the log call on a long enough "%252525...").
            masked = _mask_decoded(mask_prefixed(redact_keys(decoded)))
            if masked != decoded:  # a text of one line stays one (a user agent)
                # what decoding brought encoded again; a text's own kinds of control (a
                # traceback's line breaks, a user agent's tab) kept
                return encoded_controls(masked, frozenset(_CONTROL.findall(text)))
    return _mask_decoded(text)


# A "%" before three digits or more, which the text may hold as the client wrote it: the API
# reads past it ("%4155550101" is +14155550101), where decoding it makes "A55550101"; or
# before one digit that no hex digit follows, no escape ("%1-415-555-0101", which PHONE took
# for digits inside a word).
PERCENT_BEFORE_DIGITS = re.compile(r"%(?=\d{3}|\d(?![0-9A-Fa-f]))")


def literal_percents_masked(text: str) -> str:
    """The numbers after a "%" read as the client's own (PERCENT_BEFORE_DIGITS) masked, the
    "%" kept; the text as it is if there are none. Before decoding, so that no escape hides
    them; an escape of digits ("%34%31...") is no such "%", and decoded still."""
    mark = next((char for char in "~*," if char not in text), None)
    if mark is None or not PERCENT_BEFORE_DIGITS.search(text):
        return text
    literal = PERCENT_BEFORE_DIGITS.sub(mark, text)
    masked = _mask_decoded(literal)
    return text if masked == literal else masked.replace(mark, "%")


def _mask_decoded(text: str) -> str:
    """mask_text's masking of a text already decoded: the numbers mask_phones reads first; then
    those only its plain form shows (415_555_0177, 415\u2013555\u20130177). An ASCII text keeps
    everything else as written ("SUB_2026_0042: caller ******0177"), as its plain form is a
    character for a character."""
    if text.isascii():
        return _mask_in_place(text, _plain(text) if _UNUSUAL_TEXT.search(text) else text)
    plain = _plain(text)
    masked = _LOCAL_NUMBER.sub(_masked_run, mask_numbers(plain))
    return masked if masked != plain else mask_phones(text)


def _mask_in_place(text: str, plain: str) -> str:
    """mask_numbers for an ASCII `text` whose plain form `plain` has the same length: the
    numbers are found in `plain` and replaced in `text`, so nothing else changes. Linear: the
    numbers mask_phones reads, then the loose runs outside them, then those that only reading
    brackets as spaces shows ("[415] 555 01 01", "415)555 01 01"), then 7-digit local numbers
    (555-1234)."""
    spans = []
    for match in PHONE.finditer(plain) if may_hold_phone(plain) else ():
        masked = mask_match(match)
        if masked != match.group(0):
            spans.append((match.start(), match.end(), masked))
    filled: list[str] = []  # `rest` as a list, made at its first fill

    def fill(found, rest: str) -> str:  # a masked number is no digit of a later pass's run
        if not found:
            return rest
        if not filled:
            filled.extend(rest)
        for start, end, _ in found:
            filled[start:end] = "#" * (end - start)
        return "".join(filled)

    rest = fill(spans, plain)
    loose = [(match.start(), match.end(), _masked_run(match))
             for match in _loose_runs(rest)]
    spans += loose
    rest = fill(loose, rest)
    if "(" in rest or ")" in rest:
        unbracketed, starts, ends = _unbracketed(rest)
        bracketed = [(starts[match.start()], ends[match.end() - 1], _masked_run(match))
                     for match in _loose_runs(unbracketed)]
        spans += bracketed
        rest = fill(bracketed, rest)
    spans += [(match.start(), match.end(), _masked_run(match))
              for match in _LOCAL_NUMBER.finditer(rest)]
    if not spans:
        return text
    out, at = [], 0
    for start, end, masked in sorted(spans):
        out.append(text[at:start] + masked)
        at = end
    return "".join(out) + text[at:]


def _unbracketed(text: str) -> tuple[str, list[int], list[int]]:
    """mask_numbers' reading of brackets as spaces; and, for each of its characters, where in
    `text` a span starting at it starts and a span ending at it ends: a run that starts or
    ends at a bracketed group's digits takes its bracket too ("(415) 555 01 01")."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def keep(start: int, end: int) -> None:
        out.extend(text[start:end])
        starts.extend(range(start, end))
        ends.extend(range(start + 1, end + 1))

    at = 0
    for match in _BRACKETED_GROUP.finditer(text):
        keep(at, match.start())
        first, last = match.start(1), match.end(1)
        out.append(" ")
        starts.append(match.start())
        ends.append(first)
        keep(first, last)
        starts[-(last - first)] = first - 1  # the "(" before the first digit
        ends[-1] = last + 1  # the ")" after the last
        out.append(" ")
        starts.append(last + 1)
        ends.append(match.end())
        at = match.end()
    keep(at, len(text))
    return _BRACKET_BETWEEN_DIGITS.sub(" ", "".join(out)), starts, ends


# A control character ("%0A", "%00", "%1B" decoded): a line break would start a forged log
# line, an escape reach an operator's terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def encoded_controls(text: str, own: frozenset[str] = frozenset()) -> str:
    """The text with every control character URL-encoded again (%0A), but those in `own`."""
    return _CONTROL.sub(lambda char: char[0] if char[0] in own else f"%{ord(char[0]):02X}", text)


def unquoted(text: str) -> str:
    """URL-decoded until it stops changing (three times at most: %25252B is "+" thrice over)."""
    for _ in range(3):
        decoded = unquote(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    return text
