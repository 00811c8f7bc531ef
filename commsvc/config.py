"""The only reader of os.environ: builds the service's settings, fails fast in production."""
from __future__ import annotations

import errno
import functools
import ipaddress
import json
import math
import os
import re
import secrets
import string
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from commsvc.phones import SHORT_CODE, InvalidPhone, normalise

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"
DEV_SECRETS_FILE = INSTANCE_DIR / "dev-secrets.json"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the process must not start."""


DAY = 86400
# Longer than any period a setting may sensibly name, and short enough that now +/- it is a date.
MAX_DAYS = 36500
MAX_SECONDS = MAX_DAYS * DAY
TWILIO_HTTP_TIMEOUT = 10  # seconds; an outbox lease shorter than a few of these double-sends
MIN_OUTBOX_LEASE_SECONDS = 3 * TWILIO_HTTP_TIMEOUT
# The erasure ledger's number hashes are keyed with HMAC_KEY (README: at least 32 characters).
MIN_HMAC_KEY_LENGTH = 32
MAX_CALL_SECONDS = DAY  # Twilio ends every call after 24 hours
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# What DATABASE_URL may name once normalised (postgres:// and postgresql:// become psycopg 3's):
# the drivers installed, and the databases db.py and the migrations know.
DATABASE_DRIVERS = ("postgresql+psycopg", "sqlite", "sqlite+pysqlite")


# State laws stricter than the federal 8:00-21:00: Florida's, Oklahoma's and Maryland's
# mini-TCPAs allow marketing texts only 8:00-20:00 local time.
STRICTER_MARKETING_HOURS: dict[str, tuple[int, int]] = {
    "US-FL": (8, 20),
    "US-OK": (8, 20),
    "US-MD": (8, 20),
}


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept, in seconds."""

    message_bodies: int = 90 * 86400
    metadata: int = 2 * 365 * 86400
    recordings: int = 90 * 86400
    audit: int = 7 * 365 * 86400
    closed_sessions: int = 2 * 365 * 86400


@dataclass(frozen=True)
class Config:
    env: str = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'commsvc.db'}"
    twilio_account_sid: str | None = None
    twilio_auth_token: str = ""
    public_base_url: str = "http://localhost:5000"
    default_region: str = "US"
    encryption_keys: tuple[str, ...] = ()
    hmac_key: str = ""
    session_ttl_seconds: int = 7 * 86400
    max_session_ttl_seconds: int = 366 * 86400
    cooloff_seconds: int = 30 * 86400
    call_time_limit_seconds: int = 4 * 3600
    max_body_bytes: int = 64 * 1024
    brand_name: str = "HomePros"
    support_contact: str = "support@example.com"
    help_sms_reply: str = ""  # empty: the default help text ({brand}, {support} filled in)
    no_session_sms_reply: str = (
        "This conversation has ended. Please use the app to get back in touch."
    )
    voice_only_sms_reply: str = (
        "This conversation takes calls only. Please call this number instead."
    )
    no_session_voice_message: str = (
        "This conversation has ended. Please use the app to get back in touch."
        " Goodbye."
    )
    sms_only_voice_message: str = (
        "This conversation takes text messages only. Please send a text to this number"
        " instead. Goodbye."
    )
    recording_notice: str = "This call may be recorded for quality and safety."
    marketing_requires_grant: bool = True
    quiet_hours_start: int = 8
    quiet_hours_end: int = 21
    quiet_hours_overrides: dict[str, tuple[int, int]] = field(
        default_factory=lambda: dict(STRICTER_MARKETING_HOURS))
    sender_number: str | None = None  # outbound platform texts; else a pool number per country
    outbox_max_attempts: int = 8
    outbox_backoff_base_seconds: float = 5.0
    outbox_backoff_max_seconds: float = 3600.0
    outbox_lease_seconds: int = 120
    # The most a text may go late, by purpose (docs/sending.md): "your pro is on the way" an
    # hour late misleads; a marketing text may wait out a sender queue Twilio fills for 10 h.
    outbox_transactional_max_delay_seconds: int = 3600
    outbox_marketing_max_delay_seconds: int = 86400
    retention: Retention = field(default_factory=Retention)
    log_json: bool = False
    testing: bool = False

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid)

    @property
    def startup_warnings(self) -> tuple[str, ...]:
        """Settings allowed but worth a WARNING when a process starts (once logging is set up):
        production without a Twilio account sends nothing and deletes nothing at Twilio;
        without a brand and support contact, customers read the placeholders."""
        if not self.is_production:
            return ()
        warnings = []
        if not self.twilio_enabled:
            warnings.append(
                "TWILIO_ACCOUNT_SID not set in production: every outbound text is only"
                " recorded as simulated (nothing reaches a phone), and retention and erasure"
                " mark Twilio's copies deleted ('simulated') without deleting anything there")
        placeholders = [(name, default) for name, value, default in (
            ("BRAND_NAME", self.brand_name, Config.brand_name),
            ("SUPPORT_CONTACT", self.support_contact, Config.support_contact)) if value == default]
        if placeholders:
            warnings.append(
                f"{' and '.join(name for name, _ in placeholders)} not set in production: STOP,"
                " START and HELP replies reach customers with the placeholder"
                f" ({', '.join(repr(default) for _, default in placeholders)})")
        return tuple(warnings)

    def with_overrides(self, **changes) -> Config:
        """A copy with some settings replaced (tests and tools)."""
        return replace(self, **changes)


def normalise_database_url(url: str) -> str:
    """Accept the plain postgres:// URLs hosting platforms hand out and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _plain(x: float) -> str:
    if x == MAX_SECONDS:
        return f"{MAX_SECONDS} (100 years)"
    return str(int(x)) if x == int(x) else str(x)


_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                           re.ASCII)


def _number(env: dict[str, str], name: str, default: float, unit: str, *, whole: bool = False,
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


def _days(env: dict[str, str], name: str, default_days: float, *, zero_allowed: bool = False
          ) -> int:
    """A period set in (possibly fractional) days, returned in seconds."""
    days = _number(env, name, default_days, "number of days", low_allowed=zero_allowed,
                   high=MAX_DAYS)
    # Rounded to the microsecond before the whole seconds are taken: 0.7 * DAY is
    # 60479.99999999999 in floating point, a second short of 0.7 days.
    seconds = int(round(days * DAY, 6))
    if days > 0 and seconds == 0:  # a typo such as 0.000001 would mean "keep nothing"
        raise ConfigError(f"{name} must be at least one second ({1 / DAY:.7f} days),"
                          f" not {env[name].strip()!r}")
    return seconds


def _seconds(env: dict[str, str], name: str, default: int, *, low: int = 1,
             high: int = MAX_SECONDS, why: str = "") -> int:
    """A whole number of seconds from `low` to `high`."""
    return _number(env, name, default, "whole number of seconds", whole=True, low=low,
                   low_allowed=True, high=high, why=why)


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in TRUE_WORDS + FALSE_WORDS:
        raise ConfigError(f"{name} must be true or false, not {env[name]!r}")
    return raw in TRUE_WORDS


def _choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be {' or '.join(choices)}, not {raw!r}")
    return raw


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("{brand}", "{support}")  # what consent.messages.render fills in


def _text(env: dict[str, str], name: str, default: str,
          placeholders: tuple[str, ...] = PLACEHOLDERS) -> str:
    """A text customers read (a brand, a reply): only spaces counts as unset (the default), and
    a placeholder other than these is refused, not sent as "{oops}"."""
    value = env.get(name, "").strip()
    unknown = [f"{{{word}}}" for word in _PLACEHOLDER.findall(value)
               if f"{{{word}}}" not in placeholders]
    if unknown:
        allowed = (f"may name {' and '.join(placeholders)} only" if placeholders
                   else "is the text itself, with no placeholder")
        raise ConfigError(f"{name} {allowed}, not {', '.join(unknown)}")
    return value or default


def _reply(env: dict[str, str], name: str, default: str, brand: str, support: str) -> str:
    """A reply or spoken message, its {brand} and {support} filled in once, here."""
    return _text(env, name, default).replace("{brand}", brand).replace("{support}", support)


def _help_sms_reply(env: dict[str, str], brand: str, support: str) -> str:
    """HELP_SMS_REPLY as set (messages.render fills it in), once it is known to fit a text."""
    _sms_reply(env, "HELP_SMS_REPLY", Config.help_sms_reply, brand, support)
    return _text(env, "HELP_SMS_REPLY", Config.help_sms_reply)


# Twilio sends a text of at most 1,600 characters, counted in UTF-16 units as GSM and UCS-2
# encode them (an emoji counts twice); a longer <Message> is refused and the text lost.
MAX_SMS_CHARS = 1600


def sms_length(text: str) -> int:
    """Length as Twilio counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _sms_reply(env: dict[str, str], name: str, default: str, brand: str, support: str) -> str:
    """A text reply (_reply) that Twilio can send: a longer one would be lost every time."""
    reply = _reply(env, name, default, brand, support)
    if sms_length(reply) > MAX_SMS_CHARS:
        raise ConfigError(f"{name} is {sms_length(reply)} characters as Twilio counts them (an"
                          f" emoji counts twice); a text is at most {MAX_SMS_CHARS}")
    return reply


def _secret(env: dict[str, str], name: str) -> str:
    """A secret without the whitespace around it (a newline or space pasted with it, which made
    every webhook signature fail in silence); unset, empty or only whitespace is missing ("")."""
    return env.get(name, "").strip()


# Senders Twilio accepts besides a phone number: a short code (5-6 digits) or an alphanumeric
# sender id (1-11 letters, digits and spaces, at least one letter).
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")


def _sender(env: dict[str, str], name: str) -> str | None:
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


def _public_base_url(env: dict[str, str], app_env: str, port: int) -> str:
    """The origin Twilio calls (maybe with the path prefix a proxy strips), no trailing slash;
    https in production but on a loopback host."""
    raw = env.get("PUBLIC_BASE_URL", "").strip()
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


# What link() answers on a filesystem without hard links (FAT and exFAT, some network and FUSE
# mounts); a FileExistsError is a file another process made.
_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS)


def _create_once(path: Path, content: str) -> bool:
    """Create the file, readable by its owner only, with its whole content at once: False,
    and nothing changed, when it exists already (another process got there first)."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(content)
        os.link(draft, path)  # unlike a rename, never replaces a file another process made
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # Still only if absent, in one write; a process starting in the same instant could
        # read it before that write ends, a moment hard links leave out.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as file:
            file.write(content)
        return True
    finally:
        os.unlink(draft)


DEV_SECRETS = ("encryption_key", "hmac_key", "twilio_auth_token")


def _read_secrets() -> dict:
    """The development secrets file's content: a ConfigError that names it when it is not what
    _dev_secrets writes (empty or cut short by a process stopped while writing it, as the
    earlier write_text could leave it, or edited), where json's or a KeyError's traceback
    stopped every process."""
    try:
        text = DEV_SECRETS_FILE.read_text()
    except OSError as exc:
        # Another user's file (mode 0600): _dev_secrets' "make instance/ writable" did not help.
        raise ConfigError(
            f"the development secrets file {DEV_SECRETS_FILE} cannot be read ({exc.strerror}):"
            f" make it readable by this user (it is the user's who first ran commsvc here), or"
            f" set ENCRYPTION_KEYS, HMAC_KEY and TWILIO_AUTH_TOKEN") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not (isinstance(data, dict)
            and all(isinstance(data.get(name), str) and data[name] for name in DEV_SECRETS)):
        raise ConfigError(
            f"the development secrets file {DEV_SECRETS_FILE} is not the one commsvc writes"
            f" ({'empty' if not text.strip() else 'not JSON with ' + ', '.join(DEV_SECRETS)}):"
            f" delete it to have new secrets generated (what its encryption key encrypted"
            f" becomes unreadable), or set ENCRYPTION_KEYS, HMAC_KEY and TWILIO_AUTH_TOKEN")
    return data


def _dev_secrets(from_env: list[str]) -> dict:
    """Load or create the development secrets under instance/ (never used in production);
    `from_env`: the settings the environment gives, which win over the file's."""
    try:
        if DEV_SECRETS_FILE.exists():
            return _read_secrets()
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        data = {
            "encryption_key": Fernet.generate_key().decode(),
            "hmac_key": secrets.token_urlsafe(32),
            "twilio_auth_token": secrets.token_hex(16),
        }
        if not _create_once(DEV_SECRETS_FILE, json.dumps(data, indent=2)):
            # Another process starting beside this one (a Procfile runner starts web, worker
            # and clock together) wrote them first: all must encrypt, hash and check webhook
            # signatures with the same secrets.
            return _read_secrets()
    except OSError as exc:
        # A clone whose instance/ is read-only (or owned by another user) stopped every
        # process with a traceback: the operator's to fix, so one line that says how.
        raise ConfigError(
            f"the development secrets file {DEV_SECRETS_FILE} cannot be read or written"
            f" ({exc.strerror}): make {INSTANCE_DIR} writable, or set ENCRYPTION_KEYS,"
            f" HMAC_KEY and TWILIO_AUTH_TOKEN") from None
    # Which of the file's secrets are in use: an operator signs hand-made webhooks with the
    # token this names, and the file's token gets 403 when TWILIO_AUTH_TOKEN is set.
    used = [label for label, setting in (("encryption key", "ENCRYPTION_KEYS"),
                                         ("HMAC key", "HMAC_KEY"),
                                         ("webhook auth token", "TWILIO_AUTH_TOKEN"))
            if setting not in from_env]
    print(f"commsvc: generated development secrets ({', '.join(used)}) in {DEV_SECRETS_FILE}"
          + (f"; {', '.join(from_env)} from the environment" if from_env else ""),
          file=sys.stderr)
    return data


def _quiet_overrides(raw: str | None) -> dict[str, tuple[int, int]]:
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
    from commsvc.sending.quiet_hours import override_problem  # it imports this module

    problem = override_problem(result, default_start, default_end)
    if problem is not None:
        raise ConfigError(f"QUIET_HOURS_OVERRIDES: {problem}; not {raw!r}")
    return result


def _app_env(env: dict[str, str], database_url: str) -> str:
    default_env = "production" if database_url.startswith("postgresql") else "development"
    app_env = env.get("COMMSVC_ENV", "").strip() or default_env
    if app_env not in ("development", "production", "test"):
        raise ConfigError(f"COMMSVC_ENV must be development, production or test, not"
                          f" {app_env!r}")
    return app_env


def _account_sid(env: dict[str, str]) -> str | None:
    """TWILIO_ACCOUNT_SID, AC and 32 hexadecimal digits (unset: nothing goes out to Twilio)."""
    sid = env.get("TWILIO_ACCOUNT_SID", "").strip() or None
    if sid is not None and not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        # Not shown: a token pasted into the wrong variable would land in the log.
        raise ConfigError("TWILIO_ACCOUNT_SID must be AC and 32 hexadecimal digits, as the"
                          " Twilio console shows it")
    return sid


def _database_url(env: dict[str, str]) -> str:
    return normalise_database_url(env.get("DATABASE_URL", "").strip() or Config.database_url)


def _check_database_url(url: str) -> None:
    """Only the databases the service runs on, with the driver installed: a `mysql://` or
    `postgresql+psycopg2://` URL is one line naming the setting, not an import traceback; so
    is a URL SQLAlchemy cannot read (a port that is not a number, an unclosed bracket)."""
    scheme, sep, _ = url.partition("://")
    if not (sep and scheme in DATABASE_DRIVERS):
        # Only the scheme is shown: the rest may hold a password.
        given = f"{scheme}://..." if sep else "a value that is not a URL"
        raise ConfigError(f"DATABASE_URL must be a postgres://, postgresql:// or sqlite:/// URL,"
                          f" not {given}")
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - reading the port is the check
    except (ValueError, ArgumentError):
        raise ConfigError("DATABASE_URL cannot be read as a URL: it needs a host name and, if"
                          " it gives a port, a number") from None
    if parsed.get_backend_name() == "postgresql":
        _check_libpq_options(parsed)


_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _check_libpq_options(parsed) -> None:
    """Options and values libpq refuses only when it connects: a traceback, then 500s, or
    every process starting and then calling the database down ('/readyz' 503) when it is the
    URL that is wrong."""
    unknown = sorted(set(parsed.query) - _libpq_options())
    if unknown:
        raise ConfigError(f"DATABASE_URL has connection options PostgreSQL does not know:"
                          f" {', '.join(unknown)} (a pooler's own flag, such as pgbouncer=true,"
                          f" is not one: leave it out)")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ConfigError(f"DATABASE_URL's port must be from 1 to 65535, not {parsed.port}")
    sslmode = parsed.query.get("sslmode")
    if sslmode is not None and sslmode not in _SSLMODES:
        raise ConfigError(f"DATABASE_URL's sslmode must be one of {', '.join(_SSLMODES)},"
                          f" not {sslmode!r}")
    timeout = parsed.query.get("connect_timeout")
    if timeout is not None and not (isinstance(timeout, str)
                                    and re.fullmatch(r"[+-]?[0-9]+", timeout.strip())):
        raise ConfigError(f"DATABASE_URL's connect_timeout must be a whole number of seconds,"
                          f" not {timeout!r}")


@functools.cache
def _libpq_options() -> frozenset[str]:
    """The connection options libpq takes (sslmode, connect_timeout, options, ...)."""
    from psycopg import pq
    return frozenset(option.keyword.decode() for option in pq.Conninfo.get_defaults())


def _log_json(env: dict[str, str], app_env: str) -> bool:
    return _choice(env, "LOG_FORMAT", "json" if app_env == "production" else "text",
                   ("json", "text")) == "json"


def wants_json_logs(environ: dict[str, str] | None = None) -> bool:
    """LOG_FORMAT, else JSON lines in production: for the service's logs and gunicorn's alike
    (gunicorn's logger is set up before the app is loaded, so it asks here)."""
    env = dict(os.environ if environ is None else environ)
    return _log_json(env, _app_env(env, _database_url(env)))


def _encryption_keys(env: dict[str, str]) -> tuple[str, ...]:
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


def load_config(environ: dict[str, str] | None = None) -> Config:
    """Read the environment once; production refuses to start without its secrets."""
    env = dict(os.environ if environ is None else environ)
    database_url = _database_url(env)
    _check_database_url(database_url)
    app_env = _app_env(env, database_url)

    keys = _encryption_keys(env)
    hmac_key = _secret(env, "HMAC_KEY")
    auth_token = _secret(env, "TWILIO_AUTH_TOKEN")
    base_url = _secret(env, "PUBLIC_BASE_URL")
    if app_env == "production":
        missing = [
            name
            for name, value in (
                ("ENCRYPTION_KEYS", keys),
                ("HMAC_KEY", hmac_key),
                ("TWILIO_AUTH_TOKEN", auth_token),
                ("PUBLIC_BASE_URL", base_url),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"production needs these settings: {', '.join(missing)}")
        if len(hmac_key) < MIN_HMAC_KEY_LENGTH:  # _secret stripped it
            # Only its length is said: the value is a secret.
            raise ConfigError(f"HMAC_KEY must be a random string of at least "
                              f"{MIN_HMAC_KEY_LENGTH} characters, not {len(hmac_key)}")
    elif not (keys and hmac_key and auth_token):
        if not auth_token and _account_sid(env):
            # A generated token is no account's: every send would fail at Twilio (20003) and
            # every webhook Twilio signs would get 403.
            raise ConfigError("TWILIO_ACCOUNT_SID is set without TWILIO_AUTH_TOKEN: set the"
                              " account's auth token too, or unset TWILIO_ACCOUNT_SID to"
                              " simulate sends")
        dev = _dev_secrets([name for name, value in (
            ("ENCRYPTION_KEYS", keys), ("HMAC_KEY", hmac_key), ("TWILIO_AUTH_TOKEN", auth_token))
            if value])
        keys = keys or (dev["encryption_key"],)
        hmac_key = hmac_key or dev["hmac_key"]
        auth_token = auth_token or dev["twilio_auth_token"]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as exc:
            # Which one (mid-rotation there are two), never the key itself.
            raise ConfigError(f"ENCRYPTION_KEYS holds a key that is not a Fernet key (key"
                              f" {position} of {len(keys)}, newest first; a Fernet key is 44"
                              f" characters of URL-safe base64 ending in '=')") from exc

    retention = Retention(
        message_bodies=_days(env, "RETENTION_BODIES_DAYS", 90),
        metadata=_days(env, "RETENTION_METADATA_DAYS", 730),
        recordings=_days(env, "RETENTION_RECORDINGS_DAYS", 90),
        audit=_days(env, "RETENTION_AUDIT_DAYS", 7 * 365),
        closed_sessions=_days(env, "RETENTION_CLOSED_SESSIONS_DAYS", 730),
    )
    # Unset, SESSION_TTL_SECONDS is its default or the cap, whichever is shorter: a cap below the
    # default week (a booking app that always sends ttl_seconds) must not refuse the sessions
    # created without one for a field their client never sent.
    max_ttl = _seconds(env, "MAX_SESSION_TTL_SECONDS", Config.max_session_ttl_seconds)
    session_ttl = _seconds(env, "SESSION_TTL_SECONDS", min(Config.session_ttl_seconds, max_ttl),
                           high=max_ttl, why=" (not above MAX_SESSION_TTL_SECONDS)")
    backoff_base = _number(env, "OUTBOX_BACKOFF_BASE_SECONDS", Config.outbox_backoff_base_seconds,
                           "number of seconds")
    backoff_max = _number(env, "OUTBOX_BACKOFF_MAX_SECONDS", Config.outbox_backoff_max_seconds,
                          "number of seconds", low=backoff_base, low_allowed=True,
                          why=" (not below OUTBOX_BACKOFF_BASE_SECONDS)")
    region = env.get("DEFAULT_REGION", "").strip().upper() or Config.default_region
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"DEFAULT_REGION must be a two-letter region code such as US or GB,"
                          f" not {env['DEFAULT_REGION']!r}")
    # Read by gunicorn (the Procfile's --workers); checked here so that 0, which gunicorn takes
    # and then starts no worker at all, stops the web process with one line instead.
    _number(env, "WEB_CONCURRENCY", 2, "whole number of web workers", whole=True, low=1,
            low_allowed=True, high=math.inf)
    port = _number(env, "PORT", 5000, "port number", whole=True, low=1, low_allowed=True,
                   high=65535)
    public_base_url = _public_base_url(env, app_env, port)
    brand = _text(env, "BRAND_NAME", Config.brand_name, placeholders=())
    support = _text(env, "SUPPORT_CONTACT", Config.support_contact, placeholders=())
    return Config(
        env=app_env,
        database_url=database_url,
        twilio_account_sid=_account_sid(env),
        twilio_auth_token=auth_token,
        public_base_url=public_base_url,
        default_region=region,
        encryption_keys=keys,
        hmac_key=hmac_key,
        session_ttl_seconds=session_ttl,
        max_session_ttl_seconds=max_ttl,
        cooloff_seconds=_days(env, "COOLOFF_DAYS", 30, zero_allowed=True),
        call_time_limit_seconds=_seconds(env, "CALL_TIME_LIMIT_SECONDS",
                                         Config.call_time_limit_seconds, high=MAX_CALL_SECONDS,
                                         why=" (Twilio ends every call after 24 hours)"),
        brand_name=brand,
        support_contact=support,
        help_sms_reply=_help_sms_reply(env, brand, support),  # filled in by messages.render
        no_session_sms_reply=_sms_reply(env, "NO_SESSION_SMS_REPLY",
                                        Config.no_session_sms_reply, brand, support),
        voice_only_sms_reply=_sms_reply(env, "VOICE_ONLY_SMS_REPLY",
                                        Config.voice_only_sms_reply, brand, support),
        no_session_voice_message=_reply(env, "NO_SESSION_VOICE_MESSAGE",
                                        Config.no_session_voice_message, brand, support),
        sms_only_voice_message=_reply(env, "SMS_ONLY_VOICE_MESSAGE",
                                      Config.sms_only_voice_message, brand, support),
        recording_notice=_reply(env, "RECORDING_NOTICE", Config.recording_notice, brand,
                                support),
        marketing_requires_grant=_flag(env, "MARKETING_REQUIRES_GRANT",
                                       Config.marketing_requires_grant),
        quiet_hours_overrides=_quiet_overrides(env.get("QUIET_HOURS_OVERRIDES")),
        sender_number=_sender(env, "TWILIO_SENDER_NUMBER"),
        outbox_max_attempts=_number(env, "OUTBOX_MAX_ATTEMPTS", Config.outbox_max_attempts,
                                    "whole number of attempts", whole=True, low=1,
                                    low_allowed=True, high=math.inf),
        outbox_backoff_base_seconds=backoff_base,
        outbox_backoff_max_seconds=backoff_max,
        outbox_lease_seconds=_seconds(
            env, "OUTBOX_LEASE_SECONDS", Config.outbox_lease_seconds,
            low=MIN_OUTBOX_LEASE_SECONDS,
            why=f" (well above Twilio's {TWILIO_HTTP_TIMEOUT} s HTTP timeout)"),
        outbox_transactional_max_delay_seconds=_seconds(
            env, "OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS",
            Config.outbox_transactional_max_delay_seconds),
        outbox_marketing_max_delay_seconds=_seconds(
            env, "OUTBOX_MARKETING_MAX_DELAY_SECONDS", Config.outbox_marketing_max_delay_seconds),
        retention=retention,
        log_json=_log_json(env, app_env),
    )
