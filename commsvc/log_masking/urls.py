"""Request lines, paths, queries and referers for a log (mask_url): numbers masked, decoded
where a part has an unusual character, API keys and message content redacted."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

from commsvc.log_masking.keys import redact_keys
from commsvc.log_masking.phone_numbers import (
    bounded,
    masked_dialled,
    masked_e164,
    within_budget,
)
from commsvc.log_masking.text import (
    encoded_controls,
    literal_percents_masked,
    mask_numbers,
    mask_prefixed,
    unquoted,
)
from commsvc.log_masking.words import (
    DATE_STAMP,
    glued_masked,
    mask_word,
    masked_outright,
)

# The same in a URL, encoded or not (%5B %5D %2A %7E %5F %2C %09-%0D %28 %29, %C2.. to
# %F4..), encoded twice (%25: "%252B1415..."), or digits encoded (%34%31%35...); or a "%"
# before a digit that is no escape, which the app keeps ("%1-415-555-0101").
_UNUSUAL_URL = re.compile(r"%(?:[C-Fc-f][0-9A-Fa-f]|0[9A-Da-d]|25|3[0-9]|5[BbDdFf]|2[89AaCc]|7[Ee])"
                          r"|%(?=\d(?![0-9A-Fa-f]))"
                          r"|[^\x20-\x7e]"
                          r"|[\[\]*~_,()]")
# Any other escape right before a digit but "+" (which mask_phones reads encoded): a separator
# a client's encoder wrote ("tel%3A4155550125", "a%2F4155550125", "call%204155550101").
_ESCAPE_BEFORE_DIGIT = re.compile(r"%(?![2][Bb])[0-9A-Fa-f]{2}(?=\d)")
URL_PART = re.compile(r"[^\s/?&=#;]+")  # a path segment, a query name or value, a fragment


# A part longer than this is masked unread (_masked_outright): decoding and masking it as a
# word is a dozen passes over it (a 4 KB "%NNNN..." part took 2.4-6.7 ms), and no number the API
# reads (phones.MAX_INPUT_LENGTH), id of ours or cursor (paging.MAX_CURSOR_LENGTH, 200) is so
# long.
LONGEST_READ_PART = 256


def _masked_url_part(match: re.Match) -> str:
    """A path segment or query value with an unusual character, masked decoded (mask_text)
    if it holds a number; else as it was."""
    part = match.group(0)
    unusual = _UNUSUAL_URL.search(part)
    if not unusual and not _ESCAPE_BEFORE_DIGIT.search(part):
        return part
    if len(part) > LONGEST_READ_PART or not within_budget():
        return _masked_outright(part)
    if not unusual and (glued := glued_masked(part)) != part:
        return glued  # read whole, escapes and all ("%2B1%20415%20555%2001E01")
    text = unquoted(part)
    # The glued-letters rule too: a letter among the digits may come encoded ("415555010%451"
    # is the API's 415555010E1).
    # The app decodes a part once: a "%" that leaves (%25) or that is no escape ("%1-...") is
    # the client's own, which the API reads past ("%254155550101" is its "%4155550101",
    # +14155550101), and which three decodings made an escape ("A55550101"). That reading
    # masked first, then decoded.
    once = unquote(part, errors="replace") if "%" in part else ""
    if (literal := literal_percents_masked(once)) != once:
        text, masked = once, mask_word(unquoted(literal))
    else:
        masked = mask_word(text)
    if masked == text:
        return part
    if unusual:  # decoded, its separators made plain, but no control character made one
        return encoded_controls(masked)
    # Encoded again ("tel%3A******0125"), so the line stays one request line; what the client
    # wrote unencoded stays so ("call+me%3A..." keeps its "+").
    return quote(masked, safe="*" + "".join(set(re.sub(r"%[0-9A-Fa-f]{2}|[\w%]", "", part))))


def _masked_outright(part: str) -> str:
    """A part past its line's budget (phone_numbers.MASKING_STEPS): decoded as it would be,
    API keys redacted, if it holds a digit every letter and digit after the word before it
    masked (words.masked_outright), no control character made one."""
    text = unquoted(part)
    plain = unicodedata.normalize("NFKC", redact_keys(text))
    if not any(char.isdigit() for char in plain):
        return part if plain == text else encoded_controls(plain)
    return encoded_controls(masked_outright(plain))


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


@bounded
def mask_client_line(text: str) -> str:
    """A request or header line gunicorn repeats as a client sent it (in its error answer and
    in its own log line), masked as the access log masks a request line; a Unicode space in
    it URL-encoded, as a client's encoder writes it in a URL ("415%C2%A0555%C2%A00101"), so that
    the groups it joins stay one part (a space ends one); then as a client's words (mask_word:
    a header line is one, "X-Phone 415 555 0101x")."""
    text = wsgi_text(_C1_ESCAPE.sub(lambda escape: chr(int(escape[1], 16)), text))
    return mask_word(mask_url(_UNICODE_SPACE.sub(lambda space: quote(space[0]), text)))


_UNICODE_SPACE = re.compile(r"[^\S\x00-\x7f]")


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
    if "?" not in text and "&" not in text and ";" not in text:
        # An argument starts the text or follows one of these: only the text's first may be
        # one (a log line's "outcome=forwarded from=..." is none); the pattern, opening with
        # a lookbehind, is not tried at every position of it.
        first = _QUERY_ARGUMENT.match(text)
        return text if first is None else _redacted_argument(first) + text[first.end():]
    return _QUERY_ARGUMENT.sub(_redacted_argument, text)


def _redacted_argument(arg: re.Match) -> str:
    name, value = arg[1], arg[2]
    if value and _CONTENT_ARGUMENT.fullmatch(unquoted(name) if "%" in name else name):
        return f"{name}={CONTENT_REDACTED}"
    return arg[0]


@bounded
def mask_url(text: str) -> str:
    """A request line, path, query or referer for a log: every phone number masked, those
    written with Unicode separators or digits or unusual punctuation too (only the parts that
    have such a character are decoded), API keys and message content redacted."""
    # first: making separators plain turns "_" to "-"
    text = mask_prefixed(redact_keys(redact_content(text)))
    if _UNUSUAL_URL.search(text) or _ESCAPE_BEFORE_DIGIT.search(text):
        text = URL_PART.sub(_masked_url_part, text)
    # After the parts with an unusual character, "*" among them: the stars of a short number
    # masked first (+298***345) were read as a client's separators and the digits left masked
    # again (+298**5). A masked number has no run of digits _SHORT_NUMBER_PART reads.
    text = _mask_short_numbers(text)
    # Before mask_numbers, which would mask only the run before a letter ("+1***5550E101")
    return mask_numbers(glued_masked(text))


# A number of 7 to 9 digits that is a whole path segment or query value, its groups maybe
# separated, maybe after "tel:" or "+": what the API takes as a national number where
# DEFAULT_REGION's numbers are that short (ES, PT, PL, BE: 9 digits; NO, SG, HK: 8), or a
# person's number a digit short or without its area code. mask_phones reads a number only from
# 10 digits (fewer, in free text, are counts and ids), so these were logged whole.
# Quotes end a part too: gunicorn quotes the request line it could not parse.
# Its digits may come encoded (%35%35%35...), its groups joined by "_" too (555_1234), its
# area code bracketed ((555)1234).
_SHORT_DIGIT = r"(?:\d|%3\d)"
_SHORT_NUMBER_PART = re.compile(
    r"(?<![^\s/?&=#;'\"])(?P<word>tel(?::|%3[Aa]))?(?P<plus>\+|%2[Bb])?"
    r"(?P<number>(?:\(|%28)?" + _SHORT_DIGIT + r"(?:(?:[ ._()+-]|%2[0BbDdEe89]|%5[Ff]){0,2}"
    + _SHORT_DIGIT + r"){6,8})(?![^\s/?&=#;'\"])")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_NON_DIGIT = re.compile(r"\D")


def _mask_short_numbers(text: str) -> str:
    """The numbers of 7 to 9 digits standing alone in a URL's parts masked (_SHORT_NUMBER_PART);
    not a date stamp (20261124) or an IP address."""
    return _SHORT_NUMBER_PART.sub(_masked_short_number, text)


def _masked_short_number(match: re.Match) -> str:
    digits = _NON_DIGIT.sub("", unquote(match["number"]))
    if DATE_STAMP.fullmatch(digits) or _IPV4.fullmatch(match["number"]):
        return match[0]
    word, plus = match["word"] or "", match["plus"]
    if plus:  # +47 4123 4567: E.164, masked as phones.mask masks it
        return word + plus + masked_e164("+" + digits)[1:]
    return word + masked_dialled(digits)
