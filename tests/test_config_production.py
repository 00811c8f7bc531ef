"""Production settings: secrets that are blank count as missing, Twilio calls an https origin,
and running without a Twilio account is allowed (API.md) but said out loud."""
from __future__ import annotations

import logging
import secrets

import pytest
from cryptography.fernet import Fernet

from bench.environment import BENCH_DATABASE_URL, app_environment, new_secrets
from commsvc.app import create_app
from commsvc.config.loader import load_config
from commsvc.config.settings import ConfigError

PRODUCTION = {"COMMSVC_ENV": "production", "DATABASE_URL": "postgres://app@db:5432/commsvc",
              "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
              "HMAC_KEY": secrets.token_urlsafe(32), "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
              "PUBLIC_BASE_URL": "https://commsvc.example.com",
              "BRAND_NAME": "Fixit", "SUPPORT_CONTACT": "help@fixit.example"}


def _load(**settings: str):
    return load_config({**PRODUCTION, **settings})


@pytest.mark.parametrize("name", ["ENCRYPTION_KEYS", "HMAC_KEY", "TWILIO_AUTH_TOKEN",
                                  "PUBLIC_BASE_URL"])
@pytest.mark.parametrize("blank", ["", " ", "\t\n"])
def test_a_blank_secret_is_a_missing_one(name, blank):
    with pytest.raises(ConfigError) as raised:
        _load(**{name: blank})
    assert str(raised.value) == f"production needs these settings: {name}"


@pytest.mark.parametrize("name", ["TWILIO_AUTH_TOKEN", "HMAC_KEY"])
def test_a_secret_is_read_without_the_whitespace_pasted_around_it(name):
    """Found by an operator's audit: a token pasted with a trailing space or newline made every
    webhook's signature fail, with no word at start-up."""
    value = PRODUCTION[name]
    config = _load(**{name: f" {value}\n"})
    assert getattr(config, name.lower()) == value


def test_blank_secrets_are_all_named_at_once():
    with pytest.raises(ConfigError) as raised:
        _load(HMAC_KEY=" ", TWILIO_AUTH_TOKEN=" ")
    assert str(raised.value) == "production needs these settings: HMAC_KEY, TWILIO_AUTH_TOKEN"


@pytest.mark.parametrize("value", ["http://commsvc.example.com", "http://10.0.0.5:8080",
                                   "http://0.0.0.0:5000"])
def test_production_needs_an_https_public_base_url(value):
    with pytest.raises(ConfigError) as raised:
        _load(PUBLIC_BASE_URL=value)
    assert str(raised.value) == ("PUBLIC_BASE_URL must be https in production (http only on a"
                                 f" loopback host: localhost, 127.0.0.1, ::1), not {value!r}")


@pytest.mark.parametrize("value", ["http://127.0.0.1:18080", "http://localhost:5000",
                                   "http://[::1]:5000/", "https://example.com/commsvc"])
def test_production_takes_http_on_a_loopback_host_and_a_path_prefix(value):
    assert _load(PUBLIC_BASE_URL=value).public_base_url == value.rstrip("/")


def test_the_benchmarks_production_settings_still_start():
    config = load_config(app_environment(BENCH_DATABASE_URL, new_secrets(), port=18080))
    assert config.is_production and not config.twilio_enabled
    assert config.public_base_url == "http://127.0.0.1:18080"


def test_production_without_a_twilio_account_warns_what_that_means():
    [warning] = _load().startup_warnings
    assert warning.startswith("TWILIO_ACCOUNT_SID not set in production: ")
    assert "simulated" in warning and "without deleting anything there" in warning
    assert _load(TWILIO_ACCOUNT_SID=" ").startup_warnings == (warning,)


def test_with_a_twilio_account_or_outside_production_nothing_is_warned():
    assert _load(TWILIO_ACCOUNT_SID="AC" + "0" * 32).startup_warnings == ()
    assert _load(COMMSVC_ENV="development").startup_warnings == ()


def test_a_production_process_without_a_twilio_account_warns_when_it_starts(caplog, tmp_path):
    """create_app logs it once logging is set up (JSON and masked like every line)."""
    commsvc_log = logging.getLogger("commsvc")
    commsvc_log.addHandler(caplog.handler)  # the service's logger does not propagate
    database = f"sqlite:///{tmp_path / 'commsvc.db'}"  # one in memory is refused outside tests
    try:
        create_app(_load(DATABASE_URL=database))
        create_app(_load(DATABASE_URL=database, TWILIO_ACCOUNT_SID="AC" + "0" * 32))
    finally:
        commsvc_log.removeHandler(caplog.handler)

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith("TWILIO_ACCOUNT_SID not set in production: ")


def test_production_with_the_placeholder_brand_or_support_contact_warns():
    [warning] = _load(TWILIO_ACCOUNT_SID="AC" + "0" * 32, BRAND_NAME="HomePros",
                      SUPPORT_CONTACT="support@example.com").startup_warnings
    assert warning.startswith("BRAND_NAME and SUPPORT_CONTACT not set in production: ")
    assert "'HomePros'" in warning and "'support@example.com'" in warning
    [only_contact] = _load(TWILIO_ACCOUNT_SID="AC" + "0" * 32,
                           SUPPORT_CONTACT="support@example.com").startup_warnings
    assert only_contact.startswith("SUPPORT_CONTACT not set in production: ")


def test_a_short_hmac_key_is_refused_naming_only_its_length():
    with pytest.raises(ConfigError) as raised:
        _load(HMAC_KEY="a-short-key")
    assert str(raised.value) == ("HMAC_KEY must be a random string of at least 32 characters,"
                                 " not 11")
