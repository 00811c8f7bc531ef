"""Phone numbers: parsed once at the edge into E.164, masked wherever a role may not see them."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

MAX_INPUT_LENGTH = 32
# What an erased number becomes where its row must stay (records.subjects.tombstone).
TOMBSTONE_PREFIX = "erased:"
# A caller with no caller ID is stored as Twilio names it ("Anonymous", "Restricted", ...) or,
# when From comes empty, as NO_CALLER_ID. These words are no one's number: masked, ops could
# not read them ("*****mous"). Twilio also sends the word spelt on a keypad (ANONYMOUS
# +266696687, RESTRICTED +7378742833, BLOCKED +2562533, UNKNOWN +8656696, UNAVAILABLE
# +86282452253): no valid number, so no one's either; masked, they read as a caller from
# Lesotho, Russia, Uganda or China.
NO_CALLER_ID = "unknown"
_HIDDEN_CALLER_IDS = frozenset({NO_CALLER_ID, "anonymous", "restricted", "unavailable",
                                "private", "blocked", "+266696687", "+7378742833", "+2562533",
                                "+8656696", "+86282452253"})


class InvalidPhone(ValueError):
    """The text is not a valid, dialable phone number."""


_UNDIALABLE = {PhoneNumberType.UNKNOWN}


def normalise(raw: object, region: str = "US") -> str:
    """E.164 for a valid, dialable number given in E.164 or the region's national format."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_INPUT_LENGTH:
        raise InvalidPhone("not a phone number")
    e164, problem, _costly = _parse(raw, region)
    if problem:
        raise InvalidPhone(problem)
    return e164


# The same few numbers arrive again and again (every text of a conversation carries both), and
# phonenumbers' validation was a tenth of a relayed text's CPU: remember the answers. Whether
# the number is costly is answered by the same parse (is_costly asks it of every new session's
# two phones, and parsing twice was 80 µs of a session creation).
@functools.lru_cache(maxsize=65536)
def _parse(raw: str, region: str) -> tuple[str | None, str | None, bool]:
    """(E.164, None, costly) or (None, why not, False): a plain tuple, so no traceback is kept
    alive."""
    try:
        return _parse_uncached(raw, region)
    except InvalidPhone as exc:
        return None, str(exc), False


def _parse_uncached(raw: str, region: str) -> tuple[str, None, bool]:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    # number_type is UNKNOWN exactly when is_valid_number is False (both match the national
    # number against its region's patterns; checked over 200,000 random numbers): one check,
    # half the cost of asking both.
    kind = phonenumbers.number_type(parsed)
    if kind in _UNDIALABLE:
        raise InvalidPhone("not a valid, dialable phone number")
    if parsed.extension:
        # A text cannot reach an extension, and a relayed call would ring the main line.
        raise InvalidPhone("has an extension, which cannot be texted or dialled; send the"
                           " number without it")
    return (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None,
            _is_costly(parsed, kind))


# A call or text to these costs the platform many times a person's line (premium rate; the
# global networks of +870, +881, +882, +883, such as satellite phones) and is how toll fraud
# is paid out: the relay never dials them and the platform never texts them.
COSTLY_NUMBER = ("is a premium-rate or global-network number, which the service does not"
                 " call or text")


def is_costly(e164: str) -> bool:
    """Whether a valid E.164 number is premium rate or on a global network (region 001)."""
    _e164, problem, costly = _parse(e164, "US")
    if problem is None:
        return costly
    parsed = phonenumbers.parse(e164)  # a recorded number not known as valid
    return _is_costly(parsed, phonenumbers.number_type(parsed))


def _is_costly(parsed: phonenumbers.PhoneNumber, kind: int) -> bool:
    return kind == PhoneNumberType.PREMIUM_RATE or phonenumbers.region_code_for_number(
        parsed) == "001"


# A short code: the 5-6 digit sender a platform may text from (TWILIO_SENDER_NUMBER), which
# people reply to (STOP); never a person's number.
SHORT_CODE = re.compile(r"[0-9]{5,6}")


# E.164 as a webhook may have stored it from a number phonenumbers does not know as valid (a
# range its metadata lacks): never routed or texted, but its records must be found by it.
_E164_SHAPE = re.compile(r"\+[1-9][0-9]{6,14}")
_LAYOUT = re.compile(r"[ .()-]")


def normalise_recorded(raw: object, region: str = "US") -> str:
    """normalise, or else an E.164 number as it may be recorded though not known as valid:
    the number that logs, export, erasure and holds look a person up by. Its length must fit
    its country's numbers: a digit too few (+1415555010) is a typo, still a 422."""
    try:
        return normalise(raw, region)
    except InvalidPhone:
        compact = _LAYOUT.sub("", raw) if isinstance(raw, str) else ""
        if compact in _HIDDEN_CALLER_IDS:  # +86282452253 is a possible Chinese number
            raise InvalidPhone("Twilio's marker for a hidden caller: many callers', no one's "
                               "number") from None
        if _E164_SHAPE.fullmatch(compact) and possible(compact):
            return compact
        raise


# Masking asks it of every number a log line writes with a "+" (log_masking.phone_numbers),
# and the same few numbers come again and again.
@functools.lru_cache(maxsize=65536)
def possible(e164: str) -> bool:
    """Whether phonenumbers finds E.164 text a possible number: its country's length."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.is_possible_number_with_reason(parsed)
            == phonenumbers.ValidationResult.IS_POSSIBLE)


def try_normalise(raw: object, region: str = "US") -> str | None:
    """Like normalise, but None for anything that is not a valid number (webhook input)."""
    try:
        return normalise(raw, region)
    except InvalidPhone:
        return None


def mask(e164: str | None) -> str | None:
    """+14155550101 -> +1******0101: country code, stars, and the last shown_digits(n) of the
    n national digits: four, or fewer where four would be most or all of the number
    (+500 41234 Falklands -> +500***34, +683 4002 Niue -> +683**02). Anything without a "+"
    (a short code, "sip:alice") is shown by the same rule, as a national number.
    A hidden caller's marker ("Anonymous", "unknown") is shown as it is."""
    if not e164 or is_hidden_caller_id(e164):
        return e164
    country = _country_code(e164) if e164.startswith("+") else None
    rest = e164 if country is None else e164[1 + len(country):]
    hidden = len(rest) - shown_digits(len(rest))
    return ("" if country is None else "+" + country) + "*" * hidden + rest[hidden:]


def is_hidden_caller_id(caller_id: str) -> bool:
    """Whether the caller id is Twilio's marker for a hidden caller, a word or its keypad
    spelling, also with letters after the spelling as stored ("+8656696FHG": Twilio writes no
    one's phone number with letters): no one's number, shown as it is."""
    lowered = caller_id.lower()
    spelt = _SPELT_WITH_LETTERS.fullmatch(lowered)
    return lowered in _HIDDEN_CALLER_IDS or (spelt is not None
                                             and spelt[1] in _HIDDEN_CALLER_IDS)


_SPELT_WITH_LETTERS = re.compile(r"(\+[0-9]+)[a-z]+")


def shown_digits(national_length: int) -> int:
    """How many last digits of a national number of that length a masked number shows: four,
    and never more than half of it (min(4, n // 2)), so that a 5- to 7-digit number (Iceland,
    Falklands, St Helena) is not most of it shown."""
    return min(4, national_length // 2)


def _country_code(e164: str) -> str:
    """The calling code an E.164 string starts with (codes are prefix-free); else its 1st digit."""
    for length in (1, 2, 3):
        digits = e164[1:1 + length]
        if digits.isdigit() and int(digits) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits
    return e164[1:2]


@dataclass(frozen=True)
class Locality:
    """Where a number is: its country calling code and area code."""

    country_code: int
    area_code: str | None


# Allocation asks it for both participants of every new session; parsing was a tenth of a
# session creation's CPU.
@functools.lru_cache(maxsize=65536)
def locality(e164: str) -> Locality:
    """The country and area code of an E.164 number (NANP: the three-digit NPA)."""
    if _country_code(e164) == "1":  # +1 NPA NXX XXXX: no parsing needed
        return Locality(country_code=1, area_code=e164[2:5])
    parsed = phonenumbers.parse(e164)
    national = str(parsed.national_number)
    ndc_len = phonenumbers.length_of_national_destination_code(parsed)
    return Locality(country_code=parsed.country_code,
                    area_code=national[:ndc_len] if ndc_len > 0 else None)
