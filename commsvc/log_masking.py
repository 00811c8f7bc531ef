"""Masking for logs and audit text: phone numbers in any written form, API keys, and what a
person wrote (message bodies and the like in query strings). Every log handler's filter
(logging_setup.MaskPhones) and the access log (access_log) apply it; so do the audit log and
the error renderer for free text."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote, unquote_plus

from commsvc.phones import mask, try_normalise

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
_NOT_AFTER = r"(?!(?i:x|ext)\.?\d{1,6}(?![\w-]))(?:[^\W_]|[_-](?=[\w-]))|\.\d"
_END = rf"(?!{_NOT_AFTER})"
_END_OR_TIME = rf"(?!{_NOT_AFTER}|:\d)"  # a grouped number not before ":5" (05/06/2026 10:30)
# Each alternative starts by consuming a character and only then looks behind it, so that the
# regex engine can skip ahead to the characters a number may start with (a leading lookbehind
# made every position of every line a candidate).
_PHONE = re.compile(
    # E.164 after "+" or its URL encoding "%2B", its digits maybe grouped: +1 415 555 0101.
    # The digits run on past 15: two numbers written side by side (+14155550101 +14155550202)
    # are one run, masked whole, or the second would be left readable after the first's 15.
    # A "+" sent unencoded in a query string arrives as a space, "%20" (%2014155550101); the
    # area code may be bracketed: +1 (415) 555-0101, %2B1(415)555-0101.
    r"(?P<prefix>\+|%2[Bb]|%20)(?P<intl>\d(?:" + _INTL_SEP + r"{0,3}\d){5,})"
    # National numbers as people write them, standing alone (not inside ids or dates):
    # (415) 555-0101, (415)5550101, %28415%29%20555-0101;
    r"|(?:\(|%28)(?<![\w%-]\()(?<![\w%-]%28)\d{3}(?:\)|%29)" + _SEP + r"{0,3}\d{3}" + _SEP
    + r"{0,3}\d{4}" + _END
    # a run of 10+ digits, or 415-555-0101, 1.415.555.0101, 1 415 555 0101, 415 5550101, or
    # the French way, 06 12 34 56 78 (five pairs, the first 0x). Digits inside ids (msg_<hex>,
    # UUIDs, Twilio SIDs), dates (2026-11-22 06:53), IPs and decimals are left alone.
    + r"|\d(?<![\w%-]\d)(?<!\d\.\d)(?:\d{9,}"
    r"|(?:" + _SEP + r"{1,3}\d)?\d{2}" + _SEP + r"{1,3}\d{3}" + _SEP + r"{1,3}\d{4}"
    r"|(?:" + _GAP + r"{1,3}\d)?\d{2}" + _GAP + r"{1,3}\d{7}"
    r"|(?<=0)\d(?:" + _SEP + r"{1,3}\d{2}){4}"
    r")" + _END
    # Last, numbers written with a leading 0, as most countries write them: a trunk 0 (020
    # 7946 0958, 07700 900123, 030/1234 5678, 0170-1234567) or an international prefix, 00 or
    # 011 (0044 20 7946 0958, 011 44 20 7946 0958, 0033 6 12 34 56 78): two groups or more
    # after the first, or one of 6 to 8 digits. Groups are joined by a space, "+" (a query
    # string's space) or "-", and "/" only after the first (030/...): not dates, paths or a
    # time ("05/06/2026 10:30"). Fewer than 10 digits are no number; more than 15 are masked
    # whole, since two numbers may run together (_mask_match).
    # The area code may be bracketed, (020) 7946 0958; one separator may also run through the
    # whole number, 020.7946.0958 or 020/7946/0958 (a date has too few digits: 05/06/2026).
    + r"|(?P<grouped>(?:0(?<![\w%-]0)(?<!\d\.0)\d{1,4}"
    r"|(?:\(|%28)(?<![\w%-]\()(?<![\w%-]%28)0\d{1,4}(?:\)|%29))"
    r"(?:" + _AREA_GAP + r"{1,2}(?:\d{1,8}(?:" + _WORD_GAP + r"{1,2}\d{1,8}){1,4}|\d{6,8})"
    r"|(?P<gsep>[ ./+-]|%2[0DdEeFf])\d{1,8}(?:(?P=gsep)\d{1,8}){1,4}))"
    + _END_OR_TIME)
_NOT_DIGITS = re.compile(r"%2[0-9A-Fa-f]|\D")


def _mask_match(match: re.Match) -> str:
    prefix, intl, grouped = match.group("prefix", "intl", "grouped")
    if grouped is not None and len(_NOT_DIGITS.sub("", grouped)) < 10:
        return grouped  # too few digits for a phone number
    if prefix is None:
        return _masked_dialled(_NOT_DIGITS.sub("", match.group(0)))
    if match.start() and match.string[match.start() - 1].isalnum():
        # "44+20 7946 0958", "1%20415 555 0101", "at+415+555+0101": a space after a digit or
        # a word, not a "+" before a calling code; keeping the digits after it as one would
        # leave most of them readable (+41 and 0101). Nor more of its last digits than the
        # number read with the "+" shows: "tel+6834002" is the API's +683 4002 (Niue).
        return prefix + _masked_dialled(_NOT_DIGITS.sub("", intl), "")
    return prefix + mask("+" + _NOT_DIGITS.sub("", intl))[1:]


def _last_shown(e164: str) -> int:
    """How many last digits phones.mask shows of the number: four, or the last half of a
    national number of four digits or fewer."""
    masked = mask(e164)
    return len(masked) - len(masked.rstrip("0123456789"))


# International prefixes a number written without "+" may start with (011 from North America).
_DIALLED_PREFIXES = ("011", "00")


def _masked_dialled(digits: str, *prefixes: str) -> str:
    """Digits written without "+" masked as phones.mask masks them (the last four shown), and
    no more shown than it shows of the number dialled after an international prefix
    ("0116834002", "00 683 4002": Niue's +683 4002, of which it shows the last half) or, with
    the prefix "" given, of the digits read as E.164 ("tel+6834002": a "+" after a word)."""
    if not prefixes and digits[:1] != "0":  # the usual case: no prefix to dial
        return mask(digits)
    shown = min([4, *(_last_shown("+" + digits[len(prefix):])
                      for prefix in (*_DIALLED_PREFIXES, *prefixes) if digits.startswith(prefix))])
    hidden = max(len(digits) - shown, 0)
    return "*" * hidden + digits[hidden:]


def mask_phones(text: str, keep: frozenset[str] = frozenset()) -> str:
    """The text with every phone number in it masked as phones.mask masks one, except those
    written in E.164 that are in `keep`."""
    if not keep:
        return _PHONE.sub(_mask_match, text)
    return _PHONE.sub(lambda match: match.group(0) if match.group(0) in keep
                      else _mask_match(match), text)


def masked_integer(value: int, keep: frozenset[str] = frozenset()) -> int | str:
    """A JSON integer written as a phone number (14155550101) masked as mask_phones masks one;
    any other integer (a count, an id) as it is."""
    masked = mask_phones(str(value), keep)
    return value if masked == str(value) else masked


# An API key (commsvc.auth.service.KEY_PREFIX and its secret), wherever a client put it, its
# "_" URL-encoded too.
_API_KEY = re.compile(r"(?i)csk(?:[_-]|%5F)[A-Za-z0-9_%-]{4,}")
# What a number may be written with that mask_phones does not read as a separator: any
# non-ASCII character (Unicode spaces, dashes, invisible format characters, fullwidth
# digits), square brackets, "*", "~", "_", "," and a tab or line break (\t \n \v \f \r).
_UNUSUAL_TEXT = re.compile(r"[^\x20-\x7e]|[\[\]*~_,]")
# The same in a URL, encoded or not (%5B %5D %2A %7E %5F %2C %09-%0D %28 %29, %C2.. to
# %F4..), encoded twice (%25: "%252B1415..."), or digits encoded (%34%31%35...).
_UNUSUAL_URL = re.compile(r"%(?:[C-Fc-f][0-9A-Fa-f]|0[9A-Da-d]|25|3[0-9]|5[BbDdFf]|2[89AaCc]|7[Ee])"
                          r"|[^\x20-\x7e]"
                          r"|[\[\]*~_,()]")
# Any other escape right before a digit but "+" (which mask_phones reads encoded): a separator
# a client's encoder wrote ("tel%3A4155550125", "a%2F4155550125", "call%204155550101").
_ESCAPE_BEFORE_DIGIT = re.compile(r"%(?![2][Bb])[0-9A-Fa-f]{2}(?=\d)")
_URL_PART = re.compile(r"[^\s/?&=#;]+")  # a path segment, a query name or value, a fragment
_AS_SEPARATOR = str.maketrans({"[": "(", "]": ")", "*": "-", "~": "-", "_": "-", ",": " ",
                               "\t": " ", "\n": " ", "\v": " ", "\f": " ", "\r": " "})


KEY_REDACTED = "csk:REDACTED"  # nothing mask_text would make plain ("_" or "*")


def redact_keys(text: str) -> str:
    """API keys (csk_..., whatever the case, "_" encoded too) and bearer credentials hidden."""
    lowered = text.lower()  # the patterns ignore case; so must the quick look
    if "csk" in lowered or "bearer" in lowered:
        text = _BEARER.sub(r"Bearer \1REDACTED", _API_KEY.sub(KEY_REDACTED, text))
    return text


# A token never holds a quote (RFC 6750's b64token): quotes around it stay.
_BEARER = re.compile(r"(?i)\bbearer(?:\s|%20|\+)+(['\"]?)(?!REDACTED)[^\s&;,)'\"]{8,}")


def _plain(text: str) -> str:
    """The text with what people write numbers with made what mask_phones reads: fullwidth
    digits as ASCII (NFKC), every space and "," " ", every dash and "*", "~", "_" a "-",
    brackets round, invisible format characters (soft hyphen, word joiner) dropped."""
    if not text.isascii():
        category = unicodedata.category
        text = "".join(_CHAR_AS[c] if c in _CHAR_AS else _CATEGORY_AS.get(category(c), c)
                       for c in unicodedata.normalize("NFKC", text))
    return text.translate(_AS_SEPARATOR)


_CATEGORY_AS = {"Zs": " ", "Pd": "-", "Cf": ""}
# Dots and bullets between groups (415·555·0101, 415 • 555 • 0101) and what makes a digit a
# keycap emoji (4️⃣1️⃣5️⃣...).
_CHAR_AS = {"\u00b7": "-", "\u2022": "-", "\u2219": "-", "\u20e3": "", "\ufe0f": "",
            # a minus sign, a hyphen bullet, the katakana long vowel mark (ー) between groups
            "\u2212": "-", "\u2043": "-", "\u30fc": "-"}


# Digits standing alone in any grouping, one space or "-" between any two of them (10 to 15
# digits): "4-1-5-5-5-5-0-1-0-1", "415 555 01 01". Not "." (version strings:
# Chrome/120.0.6099.129), nor a run that starts with a date (2026-05-01-1234, 20260501-00042).
_LOOSE_RUN = re.compile(
    r"(?<![\w%-])(?!(?:19|20)\d\d-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])(?!\d))"
    r"\+?\d(?:[ -]?\d){9,14}" + _END)
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
    r"(?![0-9A-Za-z]|\.\d)")


# Numbers glued to each other by "-", "_" or "." (4155550101-4155550102, +14155550101_+4477...):
# each reads as inside an id to _PHONE, so neither would be masked. Each is E.164 or a North
# American number, so that Unix times (1700000000-1700003600) and date stamps stay.
_GLUED = r"(?:\+[1-9]\d{9,14}|" + _NOT_A_DATE_STAMP + r"1?[2-9]\d\d[2-9]\d{6})"
_JOINED_NUMBERS = re.compile(rf"(?<![\w%+.-]){_GLUED}(?:[._-]{_GLUED})+(?![\w-])")
_JOIN = re.compile(r"([._-])")


def _mask_prefixed(text: str) -> str:
    """The numbers glued to a word or to each other in `text` masked, the word and its "_" or
    "-" kept."""
    if "_" not in text and "-" not in text and "%" not in text and "." not in text:
        return text
    text = _JOINED_NUMBERS.sub(lambda match: "".join(
        part if _JOIN.fullmatch(part) else _masked_run_text(part)
        for part in _JOIN.split(match[0])), text)
    if "_" not in text and "-" not in text and "%" not in text:
        return text
    return _PREFIXED_NUMBER.sub(
        lambda match: (_NUMBER_IN_WORD.sub(lambda inner: _masked_digits(inner[0]),
                                           match["word"])
                       + _masked_digits(match["number"])), text)


def _masked_digits(number: str) -> str:
    return _masked_dialled(_NOT_DIGITS.sub("", number))


# An earlier number in the same word, between "_" or "-" ("conv-4155550101-4155550102").
_NUMBER_IN_WORD = re.compile(r"(?<![^_-])" + _NOT_A_DATE_STAMP + r"(?:1[_-]{0,2})?[2-9]\d\d"
                             r"[_-]{0,2}[2-9]\d\d[_-]{0,2}\d{4}(?=[_-])")


def _masked_run(match: re.Match) -> str:
    return _masked_run_text(match.group(0))


def _masked_run_text(run: str) -> str:
    digits = "".join(c for c in run if c.isdigit())
    return mask("+" + digits) if run.startswith("+") else _masked_dialled(digits)


def _mask_numbers(text: str) -> str:
    """mask_phones, then the loose runs it does not read, brackets and all (mask_text's and
    mask_url's last step)."""
    text = _LOOSE_RUN.sub(_masked_run, mask_phones(text))
    if "(" not in text and ")" not in text:
        return text
    unbracketed = _BRACKET_BETWEEN_DIGITS.sub(" ", _BRACKETED_GROUP.sub(r" \1 ", text))
    masked = _LOOSE_RUN.sub(_masked_run, unbracketed)
    return masked if masked != unbracketed else text


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
    text = _mask_prefixed(redact_keys(text))  # first: making separators plain turns "_" to "-"
    if "%" in text:
        decoded = _unquoted(text)
        if decoded != text:
            # Once: what three decodings leave encoded stays so (a recursion per three
            # layers failed the log call on a long enough "%252525...").
            masked = _mask_decoded(_mask_prefixed(redact_keys(decoded)))
            if masked != decoded:
                return masked
    return _mask_decoded(text)


def _mask_decoded(text: str) -> str:
    """mask_text's masking of a text already decoded: the numbers mask_phones reads first; then
    those only its plain form shows (415_555_0177, 415\u2013555\u20130177). An ASCII text keeps
    everything else as written ("SUB_2026_0042: caller ******0177"), as its plain form is a
    character for a character."""
    if text.isascii():
        return _mask_in_place(text, _plain(text) if _UNUSUAL_TEXT.search(text) else text)
    plain = _plain(text)
    masked = _mask_numbers(plain)
    return masked if masked != plain else mask_phones(text)


def _mask_in_place(text: str, plain: str) -> str:
    """_mask_numbers for an ASCII `text` whose plain form `plain` has the same length: the
    numbers are found in `plain` and replaced in `text`, so nothing else changes. Linear: the
    numbers mask_phones reads, then the loose runs outside them, then those that only reading
    brackets as spaces shows ("[415] 555 01 01", "415)555 01 01")."""
    spans = []
    for match in _PHONE.finditer(plain):
        masked = _mask_match(match)
        if masked != match.group(0):
            spans.append((match.start(), match.end(), masked))
    filled = list(plain)

    def fill(found) -> str:  # a masked number is no digit of a later pass's run
        for start, end, _ in found:
            filled[start:end] = "#" * (end - start)
        return "".join(filled)

    rest = fill(spans)
    loose = [(match.start(), match.end(), _masked_run(match))
             for match in _LOOSE_RUN.finditer(rest)]
    spans += loose
    if "(" in rest or ")" in rest:
        unbracketed, starts, ends = _unbracketed(fill(loose))
        spans += [(starts[match.start()], ends[match.end() - 1], _masked_run(match))
                  for match in _LOOSE_RUN.finditer(unbracketed)]
    if not spans:
        return text
    out, at = [], 0
    for start, end, masked in sorted(spans):
        out.append(text[at:start] + masked)
        at = end
    return "".join(out) + text[at:]


def _unbracketed(text: str) -> tuple[str, list[int], list[int]]:
    """_mask_numbers' reading of brackets as spaces; and, for each of its characters, where in
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


def _unquoted(text: str) -> str:
    """URL-decoded until it stops changing (three times at most: %25252B is "+" thrice over)."""
    for _ in range(3):
        decoded = unquote(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    return text


def _masked_url_part(match: re.Match) -> str:
    """A path segment or query value with an unusual character, masked decoded (mask_text)
    if it holds a number; else as it was."""
    part = match.group(0)
    unusual = _UNUSUAL_URL.search(part)
    if not unusual and not _ESCAPE_BEFORE_DIGIT.search(part):
        return part
    if not unusual and (glued := _GLUED_TO_LETTERS.sub(_masked_phone_part, part)) != part:
        return glued  # read whole, escapes and all ("%2B1%20415%20555%2001E01")
    text = _unquoted(part)
    # The glued-letters rule too: a letter among the digits may come encoded ("415555010%451"
    # is the API's 415555010E1).
    masked = mask_word(text)
    if masked == text:
        return part
    if unusual:  # decoded, its separators made plain
        return masked
    # Encoded again ("tel%3A******0125"), so the line stays one request line; what the client
    # wrote unencoded stays so ("call+me%3A..." keeps its "+").
    return quote(masked, safe="*" + "".join(set(re.sub(r"%[0-9A-Fa-f]{2}|[\w%]", "", part))))


def mask_word(text: str, keep: frozenset[str] = frozenset()) -> str:
    """An id a client sent (a path segment, an X-Request-Id) or words a person wrote (a stated
    reason) masked as a log masks them in a URL: mask_text, and also a number glued to a few
    letters that the API reads past ("4155550101x", "x415-555-0101", "415555010x1"), which
    mask_text knows nothing of. Numbers written in E.164 that are in `keep` stay. Not for our
    own ids: about one hex id in 500 reads as such a number."""
    return mask_text(_GLUED_TO_LETTERS.sub(_masked_phone_part, text), keep)


def wsgi_text(value: str) -> str:
    """A header or request line as the client wrote it: WSGI hands over its bytes decoded as
    ISO-8859-1 (PEP 3333), so UTF-8 arrives as "Â\xa0"; bytes that are not UTF-8 stay."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


# gunicorn repeats a line it could not parse as its repr: the C1 bytes of UTF-8 read as
# ISO-8859-1 come as "\x94" escapes (full-width digits: "ï¼\x94ï¼\x91..."); \xa0, \xad too.
_C1_ESCAPE = re.compile(r"\\x([89a-f][0-9a-f])")


def mask_client_line(text: str) -> str:
    """A request or header line gunicorn repeats as a client sent it (in its error answer and
    in its own log line), masked as the access log masks a request line."""
    return mask_url(wsgi_text(_C1_ESCAPE.sub(lambda escape: chr(int(escape[1], 16)), text)))


# Query arguments that carry what a person wrote or where they are, never a filter: a text's
# body and media (a Twilio number set to "HTTP GET" sends its whole webhook form in the query
# string; a client may put a message's body there by mistake), the caller's name, and the
# location Twilio derives from a number.
_CONTENT_ARGUMENT = re.compile(
    r"(?i)body|mediaurl\d*|callername|(?:from|to|caller|called)(?:city|state|zip)")
_QUERY_ARGUMENT = re.compile(r"(?<![^?&;])([^=?&;#\s]+)=([^&;#\s]*)")  # %(q)s has no "?"
CONTENT_REDACTED = "REDACTED"


def redact_content(text: str) -> str:
    """The text with the value of every query argument that carries message content or a
    person's whereabouts (_CONTENT_ARGUMENT) replaced by REDACTED."""
    if "=" not in text:
        return text
    return _QUERY_ARGUMENT.sub(_redacted_argument, text)


def _redacted_argument(arg: re.Match) -> str:
    name, value = arg[1], arg[2]
    if value and _CONTENT_ARGUMENT.fullmatch(_unquoted(name) if "%" in name else name):
        return f"{name}={CONTENT_REDACTED}"
    return arg[0]


def mask_url(text: str) -> str:
    """A request line, path, query or referer for a log: every phone number masked, those
    written with Unicode separators or digits or unusual punctuation too (only the parts that
    have such a character are decoded), API keys and message content redacted."""
    # first: making separators plain turns "_" to "-"
    text = _mask_prefixed(_mask_short_numbers(redact_keys(redact_content(text))))
    if _UNUSUAL_URL.search(text) or _ESCAPE_BEFORE_DIGIT.search(text):
        text = _URL_PART.sub(_masked_url_part, text)
    # Before _mask_numbers, which would mask only the run before a letter ("+1***5550E101")
    return _mask_numbers(_GLUED_TO_LETTERS.sub(_masked_phone_part, text))


# A number of 7 to 9 digits that is a whole path segment or query value, its groups maybe
# separated, maybe after "tel:" or "+": what the API takes as a national number where
# DEFAULT_REGION's numbers are that short (ES, PT, PL, BE: 9 digits; NO, SG, HK: 8), or a
# person's number a digit short or without its area code. mask_phones reads a number only from
# 10 digits (fewer, in free text, are counts and ids), so these were logged whole.
# Quotes end a part too: gunicorn quotes the request line it could not parse.
_SHORT_NUMBER_PART = re.compile(
    r"(?<![^\s/?&=#;'\"])(?P<word>tel(?::|%3[Aa]))?(?P<plus>\+|%2[Bb])?"
    r"(?P<number>\d(?:(?:[ .()+-]|%2[0BbDdEe89]){0,2}\d){6,8})(?![^\s/?&=#;'\"])")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def _mask_short_numbers(text: str) -> str:
    """The numbers of 7 to 9 digits standing alone in a URL's parts masked (_SHORT_NUMBER_PART);
    not a date stamp (20261124) or an IP address."""
    return _SHORT_NUMBER_PART.sub(_masked_short_number, text)


def _masked_short_number(match: re.Match) -> str:
    digits = _NOT_DIGITS.sub("", match["number"])
    if _DATE_STAMP.fullmatch(digits) or _IPV4.fullmatch(match["number"]):
        return match[0]
    word, plus = match["word"] or "", match["plus"]
    if plus:  # +47 4123 4567: E.164, masked as phones.mask masks it
        return word + plus + mask("+" + digits)[1:]
    return word + _masked_dialled(digits)


# A path segment or query value with letters glued to its digits, few letters (ids and Twilio
# SIDs have many): the API reads "4155550101x", "x415-555-0101" or "tel4155550101" as the
# phone number in it (phonenumbers skips the letters), so the log must not keep it readable;
# nor the numbers in "4155550101x4155550202", which it refuses.
# A letter may follow the digits after up to three separators too (not a space, which ends a
# request line's part): the API reads "415-555-CALL" and "415-555-0101-x" as it reads
# "415555CALL" and "4155550101x" ("%" stands for an escape once _masked_phone_part has cut
# them). Three at most, as _DIGIT_GROUPS: a digit in each of a long run of "%20" would
# otherwise scan the rest of it.
_SEPARATED = r"(?:%2[0BbDdEe89]|[.()+%-]){0,3}"
_GLUED_TO_LETTERS = re.compile(r"(?<![^\s/?&=#;])(?=[^\s/?&=#;]*?(?:[A-Za-z]\d|\d"
                               + _SEPARATED + r"[A-Za-z]))"
                               # 7 digits, or 7 digits and letters of which 3 are letters,
                               # which phonenumbers reads as a keypad's: 415555CALL
                               r"(?=(?:[^\s/?&=#;\d]*+\d){7}|(?=(?:[^\s/?&=#;A-Za-z]*+[A-Za-z]){3})"
                               r"(?:[^\s/?&=#;A-Za-z\d]*+[A-Za-z\d]){7})[^\s/?&=#;]++")
_DIGIT_GROUPS = re.compile(r"\d(?:(?:[ .()+-]|%2[0BbDdEe89]){0,3}\d)*")
MAX_GLUED_LETTERS = 4


def _masked_phone_part(match: re.Match) -> str:
    part = match.group(0)
    if "%" in part and not _LETTER_BY_DIGIT.search(_ESCAPE.sub("%", part)):
        return part  # only an escape's letters ("%2B1..."): _mask_numbers' to judge
    # Not %2B's B, nor a word before the first digit, which the API skips ("phone4155550101");
    # what follows it must have the 7 digits (or keypad letters) of the shortest number.
    glued = _ESCAPE.sub("%", part[_BEFORE_NUMBER.match(part).end():])
    if (sum(c.isalpha() for c in glued) > MAX_GLUED_LETTERS
            or len(_LETTER_OR_DIGIT.findall(glued)) < 7):
        return part
    masked = _DIGIT_GROUPS.sub(_masked_group, part)
    return masked if masked != part else _masked_reading(part)


# What comes before a part's first digit (an escape of one, %30-%39, is one): a word the API
# skips ("tel:", "mobile%3A"), none of the number's digits.
_BEFORE_NUMBER = re.compile(r"(?:%(?!3\d)[0-9A-Fa-f]{2}|[^\d%])*")
_LETTER_BY_DIGIT = re.compile(r"[A-Za-z]\d|\d" + _SEPARATED + r"[A-Za-z]")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_DIGIT_OR_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|\d")
_LETTER = re.compile(r"[A-Za-z]")
_LETTER_OR_DIGIT = re.compile(r"[A-Za-z\d]")
_LETTER_OR_DIGIT_OR_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|[A-Za-z\d]")


def _masked_reading(part: str) -> str:
    """The part with all but its last four digits masked when the API reads it, letters and
    all, as one valid number: phonenumbers drops a letter or two wherever it stands, so
    "415555010E1" is +14155550101 though no group of digits between the letters is one."""
    digits = [token for token in _DIGIT_OR_ESCAPE.findall(part) if len(token) == 1]
    if _DATE_STAMP.fullmatch("".join(digits)):
        return part
    number = (try_normalise(unquote(part))
              # in a query a "+" is a space: ?phone=415+555+01E01 is 415 555 01E01
              or ("+" in part and try_normalise(unquote_plus(part))))
    if not number:
        return part
    # Three letters or more phonenumbers reads as a keypad's (+1415555CALL is +14155552255):
    # then they are the number's digits, masked as digits are (not a word before it: "tel:").
    without_letters = _LETTER.sub("", unquote(part))
    word = _BEFORE_NUMBER.match(part).end()
    if number not in (try_normalise(without_letters), try_normalise(without_letters.replace(
            "+", " "))):
        digits = _LETTER_OR_DIGIT.findall(unquote(part[word:]))
        positions = _LETTER_OR_DIGIT_OR_ESCAPE
    else:
        positions = _DIGIT_OR_ESCAPE
    # As many last digits as phones.mask shows: four, or half of a short national number.
    hidden = iter(range(len(digits) - _last_shown(number)))
    return part[:word] + positions.sub(
        lambda token: "*" if len(token[0]) == 1 and next(hidden, None) is not None
        else token[0], part[word:])


def _masked_group(run: re.Match) -> str:
    """A group of digits that reads as a valid phone number on its own, masked."""
    digits = _NOT_DIGITS.sub("", run[0])
    if len(digits) < 7 or _DATE_STAMP.fullmatch(digits):  # "v2026061512" stays readable
        return run[0]
    return _masked_dialled(digits) if try_normalise(unquote(run[0])) else run[0]


_DATE_STAMP = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])?")
