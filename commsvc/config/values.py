"""Readers of one setting each from the environment: numbers, periods, flags, secrets, the
sender, the public URL, the Twilio account and the keys; a ConfigError names what is wrong."""
from __future__ import annotations

import ipaddress
import math
import re
import string
from urllib.parse import urlsplit

from commsvc.config.settings import STRICTER_MARKETING_HOURS, Config, ConfigError
from commsvc.phones import SHORT_CODE, InvalidPhone, normalise
from commsvc.xml_chars import first_not_xml

DAY = 86400
# Longer than any period a setting may sensibly name, and short enough that now +/- it is a date.
MAX_DAYS = 36500
MAX_SECONDS = MAX_DAYS * DAY
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _plain(x: float) -> str:
    if x == MAX_SECONDS:
        return f"{MAX_SECONDS} (100 years)"
    return str(int(x)) if x == int(x) else str(x)


_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                           re.ASCII)


def number(env: dict[str, str], name: str, default: float, unit: str, *, whole: bool = False,
           low: float = 0, low_allowed: bool = False, high: float = MAX_SECONDS,
           why: str = "") -> float:
    """A numeric setting (unset or empty: the default), or a ConfigError naming it and the
    values it may take: `unit` (e.g. "number of days"), above `low` (or equal to it, when
    low_allowed) and at most `high`; `why` explains a bound."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        # Plain ASCII digits only: Python also reads "1_000" and other scripts' digits.
        if not _PLAIN_NUMBER.fullmatch(raw):
            raise ValueError(raw)
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = math.nan
    if math.isfinite(value) and (value > low or (low_allowed and value == low)) \
            and value <= high:
        return value
    if low == 0 and not low_allowed:
        must_be = f"a positive {unit}" + (f", at most {_plain(high)}" if high < math.inf else "")
    elif high < math.inf:
        must_be = f"a {unit} from {_plain(low)} to {_plain(high)}"
    else:
        must_be = f"a {unit}, {_plain(low)} or more"
    raise ConfigError(f"{name} must be {must_be}{why}, not {raw!r}")


def days(env: dict[str, str], name: str, default_days: float, *, zero_allowed: bool = False
         ) -> int:
    """A period set in (possibly fractional) days, returned in seconds."""
    days = number(env, name, default_days, "number of days", low_allowed=zero_allowed,
                  high=MAX_DAYS)
    # Rounded to the microsecond before the whole seconds are taken: 0.7 * DAY is
    # 60479.99999999999 in floating point, a second short of 0.7 days.
    seconds = int(round(days * DAY, 6))
    if days > 0 and seconds == 0:  # a typo such as 0.000001 would mean "keep nothing"
        raise ConfigError(f"{name} must be at least one second ({1 / DAY:.7f} days),"
                          f" not {env[name].strip()!r}")
    return seconds


def seconds(env: dict[str, str], name: str, default: int, *, low: int = 1,
            high: int = MAX_SECONDS, why: str = "") -> int:
    """A whole number of seconds from `low` to `high`."""
    return number(env, name, default, "whole number of seconds", whole=True, low=low,
                  low_allowed=True, high=high, why=why)


def flag(env: dict[str, str], name: str, default: bool) -> bool:
    """A yes/no setting (unset or blank: the default)."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in TRUE_WORDS + FALSE_WORDS:
        raise ConfigError(f"{name} must be true or false, not {env[name]!r}")
    return raw in TRUE_WORDS


def choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (unset or blank: the default), or a ConfigError naming them."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be {' or '.join(choices)}, not {raw!r}")
    return raw


def twiml_safe(env: dict[str, str], name: str) -> str:
    """A setting that ends up in the TwiML we answer with (a reply, a spoken message, the brand,
    PUBLIC_BASE_URL in its callback URLs), without the spaces around it, once it holds no
    character XML 1.0 cannot carry: the answer would not be XML, and Twilio would refuse every
    one holding it. Judged once stripped: Python strips a vertical tab, a form feed and
    \x1c-\x1f as spaces, so a value ending in one was taken without it. The character is named
    by its code point and its position in the value as set, not the value shown."""
    raw = env.get(name, "")
    value = raw.strip()
    at = first_not_xml(value)
    if at is not None:
        at += len(raw) - len(raw.lstrip())
        raise ConfigError(f"{name} holds U+{ord(raw[at]):04X} (character {at + 1}), which"
                          f" TwiML cannot carry (XML 1.0: no control character but tab and line"
                          f" breaks); Twilio would refuse every answer with it")
    return value


def secret(env: dict[str, str], name: str) -> str:
    """A secret without the whitespace around it (a newline or space pasted with it, which made
    every webhook signature fail in silence); unset, empty or only whitespace is missing ("")."""
    return env.get(name, "").strip()


# Senders Twilio accepts besides a phone number: a short code (5-6 digits) or an alphanumeric
# sender id (1-11 letters, digits and spaces, at least one letter).
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")


def sender(env: dict[str, str], name: str) -> str | None:
    """A Twilio sender: a phone number in E.164 (+ and the country code, normalised), a short
    code or an alphanumeric sender id; unset: None."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if SHORT_CODE.fullmatch(raw) or _SENDER_ID.fullmatch(raw):
        return raw
    try:
        number = normalise(raw) if raw.startswith("+") else None
    except InvalidPhone:
        number = None
    if number is None:
        raise ConfigError(f"{name} must be a phone number in E.164 form (+14155550100), a short"
                          f" code (5 or 6 digits) or an alphanumeric sender id (up to 11 letters,"
                          f" digits and spaces), not {raw!r}")
    return number


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_base_url(env: dict[str, str], app_env: str, port: int) -> str:
    """The origin Twilio calls (maybe with the path prefix a proxy strips), no trailing slash;
    https in production but on a loopback host."""
    raw = twiml_safe(env, "PUBLIC_BASE_URL")
    if not raw:
        return f"http://localhost:{port}"
    if "@" in raw.partition("://")[2].partition("/")[0]:
        # Not echoed: it would put a password in the logs.
        raise ConfigError("PUBLIC_BASE_URL must not carry a user name or password")
    try:
        parts = urlsplit(raw)
        # .port raises ValueError unless the port is a number from 0 to 65535.
        origin = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        origin = False
    if not origin or any(c in raw for c in "?#" + string.whitespace):
        raise ConfigError(f"PUBLIC_BASE_URL must be the http(s) origin Twilio calls, such as"
                          f" https://commsvc.example.com (a path prefix allowed; no query or"
                          f" fragment), not {raw!r}")
    if app_env == "production" and parts.scheme != "https" and not _is_loopback(parts.hostname):
        raise ConfigError(f"PUBLIC_BASE_URL must be https in production (http only on a loopback"
                          f" host: localhost, 127.0.0.1, ::1), not {raw!r}")
    return raw.rstrip("/")


def quiet_overrides(raw: str | None) -> dict[str, tuple[int, int]]:
    """Parse QUIET_HOURS_OVERRIDES like 'US-FL=8-20,US-TX=9-21'."""
    result = dict(STRICTER_MARKETING_HOURS)
    if not raw:
        return result
    default_start, default_end = Config.quiet_hours_start, Config.quiet_hours_end
    for item in raw.split(","):
        try:
            area, hours = item.split("=")
            start, end = (int(h) for h in hours.split("-"))
        except ValueError:
            start = end = None
        # An override only narrows the default window, so it must leave some of it open.
        if not (start is not None and area.strip() and 0 <= start < end <= 24
                and max(start, default_start) < min(end, default_end)):
            raise ConfigError(
                f"QUIET_HOURS_OVERRIDES must be AREA=START-END items, comma-separated, hours"
                f" 0-24 that overlap {default_start}-{default_end} (e.g. US-FL=8-20),"
                f" not {item!r}")
        # Narrowing what is there too: US-FL=9-21 must not widen Florida's built-in 8-20.
        key = area.strip().upper()
        known_start, known_end = result.get(key, (start, end))
        result[key] = (max(start, known_start), min(end, known_end))
    from commsvc.sending.quiet_hours import override_problem  # it imports commsvc.config

    problem = override_problem(result, default_start, default_end)
    if problem is not None:
        raise ConfigError(f"QUIET_HOURS_OVERRIDES: {problem}; not {raw!r}")
    return result


def account_sid(env: dict[str, str]) -> str | None:
    """TWILIO_ACCOUNT_SID, AC and 32 hexadecimal digits (unset: nothing goes out to Twilio)."""
    sid = env.get("TWILIO_ACCOUNT_SID", "").strip() or None
    if sid is not None and not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        # Not shown: a token pasted into the wrong variable would land in the log.
        raise ConfigError("TWILIO_ACCOUNT_SID must be AC and 32 hexadecimal digits, as the"
                          " Twilio console shows it")
    return sid


_AUTH_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
# What is pasted in its place from the same console page: (the shape, what it is)
_NOT_AN_AUTH_TOKEN = ((re.compile(r"AC[0-9a-fA-F]{32}"), "the Account SID"),
                      (re.compile(r"SK[0-9a-fA-F]{32}"), "an API key's SID"))


def twilio_auth_token(env: dict[str, str]) -> str:
    """TWILIO_AUTH_TOKEN as secret reads it; with TWILIO_ACCOUNT_SID set, the account's auth
    token, 32 hexadecimal digits: the REST API takes the Account SID with that token only (an
    API key's secret goes with the key's SID), and Twilio signs every webhook with it. Another
    value failed every send (20003) and every webhook (403) with nothing said at start. Without
    the SID nothing reaches Twilio, and any token signs the webhooks made by hand."""
    token = secret(env, "TWILIO_AUTH_TOKEN")
    if not token or account_sid(env) is None or _AUTH_TOKEN.fullmatch(token):
        return token
    # Not shown: it is a secret (or another one pasted by mistake).
    given = next((f"it holds {what}" for shape, what in _NOT_AN_AUTH_TOKEN
                  if shape.fullmatch(token)),
                 f"it has {len(token)} characters" if len(token) != 32
                 else "it has characters that are not hexadecimal digits (an API key's secret?)")
    raise ConfigError(f"TWILIO_AUTH_TOKEN must be the auth token of the account"
                      f" TWILIO_ACCOUNT_SID names, 32 hexadecimal digits as the Twilio console"
                      f" shows it; {given}")


def encryption_keys(env: dict[str, str]) -> tuple[str, ...]:
    """ENCRYPTION_KEYS, newest first. An empty entry in a list that is set is refused: it is
    a key lost on the way (ENCRYPTION_KEYS="$NEW,$OLD" with OLD unset, mid-rotation), and every
    body under that key would read as unavailable, with nothing said at start."""
    written = env.get("ENCRYPTION_KEYS", "")
    if not written.strip():
        return ()
    keys = tuple(k.strip() for k in written.split(","))
    if "" in keys:
        raise ConfigError(f"ENCRYPTION_KEYS has an empty entry (entry {keys.index('') + 1} of"
                          f" {len(keys)}, newest first): a key variable not set? Give every"
                          f" key, comma-separated")
    return keys
