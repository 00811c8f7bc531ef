"""The only reader of os.environ: builds the service's settings, fails fast in production."""
from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"
DEV_SECRETS_FILE = INSTANCE_DIR / "dev-secrets.json"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the process must not start."""


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
        "This conversation has ended. Please use the app to contact your service professional."
    )
    voice_only_sms_reply: str = (
        "This conversation takes calls only. Please call this number instead."
    )
    no_session_voice_message: str = (
        "This conversation has ended. Please use the app to reach your service professional."
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
    retention: Retention = field(default_factory=Retention)
    log_json: bool = False
    testing: bool = False

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid)

    def with_overrides(self, **changes) -> Config:
        """A copy with some settings replaced (tests and tools)."""
        return replace(self, **changes)


def normalise_database_url(url: str) -> str:
    """Accept the plain postgres:// URLs hosting platforms hand out and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _dev_secrets() -> dict:
    """Load or create the development secrets under instance/ (never used in production)."""
    if DEV_SECRETS_FILE.exists():
        return json.loads(DEV_SECRETS_FILE.read_text())
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    data = {
        "encryption_key": Fernet.generate_key().decode(),
        "hmac_key": secrets.token_urlsafe(32),
        "twilio_auth_token": secrets.token_hex(16),
    }
    DEV_SECRETS_FILE.write_text(json.dumps(data, indent=2))
    DEV_SECRETS_FILE.chmod(0o600)
    print(
        f"commsvc: generated development secrets (encryption key, HMAC key, webhook auth token)"
        f" in {DEV_SECRETS_FILE}",
        file=sys.stderr,
    )
    return data


def _quiet_overrides(raw: str | None) -> dict[str, tuple[int, int]]:
    """Parse QUIET_HOURS_OVERRIDES like 'US-FL=8-20,US-TX=9-21'."""
    result = dict(STRICTER_MARKETING_HOURS)
    if not raw:
        return result
    for item in raw.split(","):
        try:
            area, hours = item.split("=")
            start, end = (int(h) for h in hours.split("-"))
        except ValueError as exc:
            raise ConfigError(f"QUIET_HOURS_OVERRIDES: cannot parse {item!r}") from exc
        result[area.strip().upper()] = (start, end)
    return result


def load_config(environ: dict[str, str] | None = None) -> Config:
    """Read the environment once; production refuses to start without its secrets."""
    env = dict(os.environ if environ is None else environ)
    database_url = normalise_database_url(env.get("DATABASE_URL") or Config.database_url)
    default_env = "production" if database_url.startswith("postgresql") else "development"
    app_env = env.get("COMMSVC_ENV", default_env)
    if app_env not in ("development", "production", "test"):
        raise ConfigError("COMMSVC_ENV must be development, production or test")

    keys = tuple(k.strip() for k in env.get("ENCRYPTION_KEYS", "").split(",") if k.strip())
    hmac_key = env.get("HMAC_KEY", "")
    auth_token = env.get("TWILIO_AUTH_TOKEN", "")
    base_url = env.get("PUBLIC_BASE_URL", "")
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
    elif not (keys and hmac_key and auth_token):
        dev = _dev_secrets()
        keys = keys or (dev["encryption_key"],)
        hmac_key = hmac_key or dev["hmac_key"]
        auth_token = auth_token or dev["twilio_auth_token"]
    for key in keys:
        try:
            Fernet(key)
        except ValueError as exc:
            raise ConfigError("ENCRYPTION_KEYS holds a key that is not a Fernet key") from exc

    retention = Retention(
        message_bodies=int(float(env.get("RETENTION_BODIES_DAYS", 90)) * 86400),
        metadata=int(float(env.get("RETENTION_METADATA_DAYS", 730)) * 86400),
        recordings=int(float(env.get("RETENTION_RECORDINGS_DAYS", 90)) * 86400),
        audit=int(float(env.get("RETENTION_AUDIT_DAYS", 7 * 365)) * 86400),
        closed_sessions=int(float(env.get("RETENTION_CLOSED_SESSIONS_DAYS", 730)) * 86400),
    )
    port = env.get("PORT", "5000")
    return Config(
        env=app_env,
        database_url=database_url,
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=auth_token,
        public_base_url=(base_url or f"http://localhost:{port}").rstrip("/"),
        default_region=env.get("DEFAULT_REGION", "US").upper(),
        encryption_keys=keys,
        hmac_key=hmac_key,
        session_ttl_seconds=int(env.get("SESSION_TTL_SECONDS", 7 * 86400)),
        max_session_ttl_seconds=int(env.get("MAX_SESSION_TTL_SECONDS", 366 * 86400)),
        cooloff_seconds=int(float(env.get("COOLOFF_DAYS", 30)) * 86400),
        call_time_limit_seconds=int(env.get("CALL_TIME_LIMIT_SECONDS", 4 * 3600)),
        brand_name=env.get("BRAND_NAME", Config.brand_name),
        support_contact=env.get("SUPPORT_CONTACT", Config.support_contact),
        help_sms_reply=env.get("HELP_SMS_REPLY", Config.help_sms_reply),
        no_session_sms_reply=env.get("NO_SESSION_SMS_REPLY", Config.no_session_sms_reply),
        voice_only_sms_reply=env.get("VOICE_ONLY_SMS_REPLY", Config.voice_only_sms_reply),
        no_session_voice_message=env.get(
            "NO_SESSION_VOICE_MESSAGE", Config.no_session_voice_message
        ),
        sms_only_voice_message=env.get("SMS_ONLY_VOICE_MESSAGE", Config.sms_only_voice_message),
        recording_notice=env.get("RECORDING_NOTICE", Config.recording_notice),
        marketing_requires_grant=env.get("MARKETING_REQUIRES_GRANT", "true").lower()
        not in ("0", "false", "no"),
        quiet_hours_overrides=_quiet_overrides(env.get("QUIET_HOURS_OVERRIDES")),
        sender_number=env.get("TWILIO_SENDER_NUMBER") or None,
        outbox_max_attempts=int(env.get("OUTBOX_MAX_ATTEMPTS", Config.outbox_max_attempts)),
        outbox_backoff_base_seconds=float(
            env.get("OUTBOX_BACKOFF_BASE_SECONDS", Config.outbox_backoff_base_seconds)),
        outbox_backoff_max_seconds=float(
            env.get("OUTBOX_BACKOFF_MAX_SECONDS", Config.outbox_backoff_max_seconds)),
        outbox_lease_seconds=int(env.get("OUTBOX_LEASE_SECONDS", Config.outbox_lease_seconds)),
        retention=retention,
        log_json=env.get("LOG_FORMAT", "json" if app_env == "production" else "text") == "json",
    )
