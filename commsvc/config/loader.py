"""The only reader of os.environ: builds the service's settings, fails fast in production."""
from __future__ import annotations

import math
import os

import phonenumbers
from cryptography.fernet import Fernet

from commsvc.config.database_url import check_database_url, database_url, in_memory
from commsvc.config.dev_secrets import dev_secrets
from commsvc.config.replies import help_sms_reply, reply, sms_reply, text
from commsvc.config.settings import Config, ConfigError, Retention
from commsvc.config.values import (
    DAY,
    account_sid,
    choice,
    days,
    encryption_keys,
    flag,
    number,
    public_base_url,
    quiet_overrides,
    seconds,
    secret,
    sender,
    twilio_auth_token,
)

TWILIO_HTTP_TIMEOUT = 10  # seconds; an outbox lease shorter than a few of these double-sends
MIN_OUTBOX_LEASE_SECONDS = 3 * TWILIO_HTTP_TIMEOUT
# The erasure ledger's number hashes are keyed with HMAC_KEY (README: at least 32 characters).
MIN_HMAC_KEY_LENGTH = 32
MAX_CALL_SECONDS = DAY  # Twilio ends every call after 24 hours


def _app_env(env: dict[str, str], database_url: str) -> str:
    default_env = "production" if database_url.startswith("postgresql") else "development"
    app_env = env.get("COMMSVC_ENV", "").strip() or default_env
    if app_env not in ("development", "production", "test"):
        raise ConfigError(f"COMMSVC_ENV must be development, production or test, not"
                          f" {app_env!r}")
    return app_env


def _log_json(env: dict[str, str], app_env: str) -> bool:
    return choice(env, "LOG_FORMAT", "json" if app_env == "production" else "text",
                  ("json", "text")) == "json"


def wants_json_logs(environ: dict[str, str] | None = None) -> bool:
    """LOG_FORMAT, else JSON lines in production: for the service's logs and gunicorn's alike
    (gunicorn's logger is set up before the app is loaded, so it asks here)."""
    env = dict(os.environ if environ is None else environ)
    return _log_json(env, _app_env(env, database_url(env)))


def masking_region(environ: dict[str, str] | None = None) -> str:
    """DEFAULT_REGION as the log masking reads national numbers by it (as the API does), or US
    where it is unset or no region: for the logs of gunicorn and of every process, which may
    run before or without the app's settings (load_config refuses a wrong one)."""
    env = os.environ if environ is None else environ
    region = env.get("DEFAULT_REGION", "").strip().upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else Config.default_region


def sudo_invoker_uid() -> int | None:
    """The user id of whoever ran this process through sudo (SUDO_UID), else None: for the
    audit's CLI actor. Only a root process asks: anyone may set the variable, but only root
    could act as root anyway."""
    uid = os.environ.get("SUDO_UID", "").strip()
    return int(uid) if uid.isascii() and uid.isdigit() else None  # not "²", which int refuses


def web_concurrency(env: dict[str, str]) -> int:
    """WEB_CONCURRENCY, read by gunicorn (the Procfile's --workers); checked here so that 0,
    which gunicorn takes and then starts no worker at all, stops the web process with one line
    instead (commsvc.web checks it before gunicorn reads it)."""
    return number(env, "WEB_CONCURRENCY", 2, "whole number of web workers", whole=True, low=1,
                  low_allowed=True, high=math.inf)


def web_port(env: dict[str, str]) -> int:
    """PORT, the web process's (the Procfile's --bind) and PUBLIC_BASE_URL's default."""
    return number(env, "PORT", 5000, "port number", whole=True, low=1, low_allowed=True,
                  high=65535)


def load_config(environ: dict[str, str] | None = None) -> Config:
    """Read the environment once; production refuses to start without its secrets."""
    env = dict(os.environ if environ is None else environ)
    url = database_url(env)
    check_database_url(url, env)
    app_env = _app_env(env, url)
    if app_env != "test" and in_memory(url):
        raise ConfigError("DATABASE_URL names an SQLite database in memory: every process (web"
                          " workers, worker, clock, each CLI command) would get its own, empty"
                          " one; name a file (sqlite:///instance/commsvc.db) or PostgreSQL"
                          " (only COMMSVC_ENV=test takes one in memory)")

    keys = encryption_keys(env)
    hmac_key = secret(env, "HMAC_KEY")
    auth_token = twilio_auth_token(env)
    base_url = secret(env, "PUBLIC_BASE_URL")
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
        if len(hmac_key) < MIN_HMAC_KEY_LENGTH:  # secret stripped it
            # Only its length is said: the value is a secret.
            raise ConfigError(f"HMAC_KEY must be a random string of at least "
                              f"{MIN_HMAC_KEY_LENGTH} characters, not {len(hmac_key)}")
    elif not (keys and hmac_key and auth_token):
        if not auth_token and account_sid(env):
            # A generated token is no account's: every send would fail at Twilio (20003) and
            # every webhook Twilio signs would get 403.
            raise ConfigError("TWILIO_ACCOUNT_SID is set without TWILIO_AUTH_TOKEN: set the"
                              " account's auth token too, or unset TWILIO_ACCOUNT_SID to"
                              " simulate sends")
        dev = dev_secrets([name for name, value in (
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
        message_bodies=days(env, "RETENTION_BODIES_DAYS", 90),
        metadata=days(env, "RETENTION_METADATA_DAYS", 730),
        recordings=days(env, "RETENTION_RECORDINGS_DAYS", 90),
        audit=days(env, "RETENTION_AUDIT_DAYS", 7 * 365),
        closed_sessions=days(env, "RETENTION_CLOSED_SESSIONS_DAYS", 730),
    )
    # Unset, SESSION_TTL_SECONDS is its default or the cap, whichever is shorter: a cap below the
    # default week (a booking app that always sends ttl_seconds) must not refuse the sessions
    # created without one for a field their client never sent.
    max_ttl = seconds(env, "MAX_SESSION_TTL_SECONDS", Config.max_session_ttl_seconds)
    session_ttl = seconds(env, "SESSION_TTL_SECONDS", min(Config.session_ttl_seconds, max_ttl),
                          high=max_ttl, why=" (not above MAX_SESSION_TTL_SECONDS)")
    backoff_base = number(env, "OUTBOX_BACKOFF_BASE_SECONDS", Config.outbox_backoff_base_seconds,
                          "number of seconds")
    backoff_max = number(env, "OUTBOX_BACKOFF_MAX_SECONDS", Config.outbox_backoff_max_seconds,
                         "number of seconds", low=backoff_base, low_allowed=True,
                         why=" (not below OUTBOX_BACKOFF_BASE_SECONDS)")
    region = env.get("DEFAULT_REGION", "").strip().upper() or Config.default_region
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"DEFAULT_REGION must be a two-letter region code such as US or GB,"
                          f" not {env['DEFAULT_REGION']!r}")
    web_concurrency(env)
    port = web_port(env)
    public_url = public_base_url(env, app_env, port)
    brand = text(env, "BRAND_NAME", Config.brand_name, placeholders=())
    support = text(env, "SUPPORT_CONTACT", Config.support_contact, placeholders=())
    return Config(
        env=app_env,
        database_url=url,
        twilio_account_sid=account_sid(env),
        twilio_auth_token=auth_token,
        public_base_url=public_url,
        default_region=region,
        encryption_keys=keys,
        hmac_key=hmac_key,
        session_ttl_seconds=session_ttl,
        max_session_ttl_seconds=max_ttl,
        cooloff_seconds=days(env, "COOLOFF_DAYS", 30, zero_allowed=True),
        call_time_limit_seconds=seconds(env, "CALL_TIME_LIMIT_SECONDS",
                                        Config.call_time_limit_seconds, high=MAX_CALL_SECONDS,
                                        why=" (Twilio ends every call after 24 hours)"),
        brand_name=brand,
        support_contact=support,
        help_sms_reply=help_sms_reply(env, brand, support),  # filled in by messages.render
        no_session_sms_reply=sms_reply(env, "NO_SESSION_SMS_REPLY",
                                       Config.no_session_sms_reply, brand, support),
        voice_only_sms_reply=sms_reply(env, "VOICE_ONLY_SMS_REPLY",
                                       Config.voice_only_sms_reply, brand, support),
        no_session_voice_message=reply(env, "NO_SESSION_VOICE_MESSAGE",
                                       Config.no_session_voice_message, brand, support),
        sms_only_voice_message=reply(env, "SMS_ONLY_VOICE_MESSAGE",
                                     Config.sms_only_voice_message, brand, support),
        recording_notice=reply(env, "RECORDING_NOTICE", Config.recording_notice, brand,
                               support),
        unavailable_voice_message=reply(env, "UNAVAILABLE_VOICE_MESSAGE",
                                        Config.unavailable_voice_message, brand, support),
        marketing_requires_grant=flag(env, "MARKETING_REQUIRES_GRANT",
                                      Config.marketing_requires_grant),
        quiet_hours_overrides=quiet_overrides(env.get("QUIET_HOURS_OVERRIDES")),
        sender_number=sender(env, "TWILIO_SENDER_NUMBER"),
        outbox_max_attempts=number(env, "OUTBOX_MAX_ATTEMPTS", Config.outbox_max_attempts,
                                   "whole number of attempts", whole=True, low=1,
                                   low_allowed=True, high=math.inf),
        outbox_backoff_base_seconds=backoff_base,
        outbox_backoff_max_seconds=backoff_max,
        outbox_lease_seconds=seconds(
            env, "OUTBOX_LEASE_SECONDS", Config.outbox_lease_seconds,
            low=MIN_OUTBOX_LEASE_SECONDS,
            why=f" (well above Twilio's {TWILIO_HTTP_TIMEOUT} s HTTP timeout)"),
        outbox_transactional_max_delay_seconds=seconds(
            env, "OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS",
            Config.outbox_transactional_max_delay_seconds),
        outbox_marketing_max_delay_seconds=seconds(
            env, "OUTBOX_MARKETING_MAX_DELAY_SECONDS", Config.outbox_marketing_max_delay_seconds),
        retention=retention,
        log_json=_log_json(env, app_env),
    )
