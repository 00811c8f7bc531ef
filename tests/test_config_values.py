"""Settings that are not what they must be: a ConfigError naming the variable, never a traceback
or a value that makes no sense (a negative retention would blank today's messages)."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from commsvc.cli import main
from commsvc.config import database_url, dev_secrets
from commsvc.config.loader import load_config
from commsvc.config.settings import Config, ConfigError

SECRETS = {"COMMSVC_ENV": "test", "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "HMAC_KEY": "h", "TWILIO_AUTH_TOKEN": "t"}


def _load(**settings: str):
    return load_config({**SECRETS, **settings})


NO_DATABASE = ("DATABASE_URL names no database: give its name after the host"
               " (postgresql://USER@HOST/DATABASE); libpq would take its default, the database"
               " named after the user")
SENDER = ("TWILIO_SENDER_NUMBER must be a phone number in E.164 form (+14155550100), a short"
          " code (5 or 6 digits) or an alphanumeric sender id (up to 11 letters, digits and"
          " spaces), not ")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("RETENTION_BODIES_DAYS", "abc", "RETENTION_BODIES_DAYS must be a positive number of days, "
                                     "at most 36500, not 'abc'"),
    ("RETENTION_BODIES_DAYS", "-1", "RETENTION_BODIES_DAYS must be a positive number of days, "
                                    "at most 36500, not '-1'"),
    ("RETENTION_BODIES_DAYS", "0", "RETENTION_BODIES_DAYS must be a positive number of days, "
                                   "at most 36500, not '0'"),
    ("RETENTION_METADATA_DAYS", "nan", "RETENTION_METADATA_DAYS must be a positive number of "
                                       "days, at most 36500, not 'nan'"),
    ("RETENTION_RECORDINGS_DAYS", "-0.5", "RETENTION_RECORDINGS_DAYS must be a positive number "
                                          "of days, at most 36500, not '-0.5'"),
    ("RETENTION_AUDIT_DAYS", "inf", "RETENTION_AUDIT_DAYS must be a positive number of days, "
                                    "at most 36500, not 'inf'"),
    ("RETENTION_CLOSED_SESSIONS_DAYS", "1e9", "RETENTION_CLOSED_SESSIONS_DAYS must be a positive "
                                              "number of days, at most 36500, not '1e9'"),
    ("COOLOFF_DAYS", "-1", "COOLOFF_DAYS must be a number of days from 0 to 36500, not '-1'"),
    # Found by an audit: it is positive, but rounded down to seconds it was 0, keep nothing.
    ("RETENTION_AUDIT_DAYS", "0.000001", "RETENTION_AUDIT_DAYS must be at least one second "
                                         "(0.0000116 days), not '0.000001'"),
    ("COOLOFF_DAYS", "0.000001", "COOLOFF_DAYS must be at least one second (0.0000116 days), "
                                 "not '0.000001'"),
    ("SESSION_TTL_SECONDS", "abc", "SESSION_TTL_SECONDS must be a whole number of seconds from 1 "
                                   "to 31622400 (not above MAX_SESSION_TTL_SECONDS), not 'abc'"),
    ("SESSION_TTL_SECONDS", "0", "SESSION_TTL_SECONDS must be a whole number of seconds from 1 "
                                 "to 31622400 (not above MAX_SESSION_TTL_SECONDS), not '0'"),
    ("SESSION_TTL_SECONDS", "31622401", "SESSION_TTL_SECONDS must be a whole number of seconds "
                                        "from 1 to 31622400 (not above MAX_SESSION_TTL_SECONDS),"
                                        " not '31622401'"),
    ("MAX_SESSION_TTL_SECONDS", "-3", "MAX_SESSION_TTL_SECONDS must be a whole number of seconds "
                                      "from 1 to 3153600000 (100 years), not '-3'"),
    ("CALL_TIME_LIMIT_SECONDS", "4h", "CALL_TIME_LIMIT_SECONDS must be a whole number of seconds "
                                      "from 1 to 86400 (Twilio ends every call after 24 hours),"
                                      " not '4h'"),
    ("CALL_TIME_LIMIT_SECONDS", "0", "CALL_TIME_LIMIT_SECONDS must be a whole number of seconds "
                                     "from 1 to 86400 (Twilio ends every call after 24 hours),"
                                     " not '0'"),
    ("OUTBOX_MAX_ATTEMPTS", "0", "OUTBOX_MAX_ATTEMPTS must be a whole number of attempts, 1 or "
                                 "more, not '0'"),
    ("OUTBOX_BACKOFF_BASE_SECONDS", "-5", "OUTBOX_BACKOFF_BASE_SECONDS must be a positive number "
                                          "of seconds, at most 3153600000 (100 years), not '-5'"),
    ("OUTBOX_BACKOFF_MAX_SECONDS", "1", "OUTBOX_BACKOFF_MAX_SECONDS must be a number of seconds "
                                        "from 5 to 3153600000 (100 years) (not below "
                                        "OUTBOX_BACKOFF_BASE_SECONDS), not '1'"),
    ("OUTBOX_LEASE_SECONDS", "5", "OUTBOX_LEASE_SECONDS must be a whole number of seconds from 30"
                                  " to 3153600000 (100 years) (well above Twilio's 10 s HTTP "
                                  "timeout), not '5'"),
    ("OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS", "1h", "OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS must"
                                                     " be a whole number of seconds from 1 to "
                                                     "3153600000 (100 years), not '1h'"),
    ("PORT", "http", "PORT must be a port number from 1 to 65535, not 'http'"),
    ("MARKETING_REQUIRES_GRANT", "maybe", "MARKETING_REQUIRES_GRANT must be true or false, "
                                          "not 'maybe'"),
    ("LOG_FORMAT", "jsn", "LOG_FORMAT must be json or text, not 'jsn'"),
    ("DEFAULT_REGION", "USA", "DEFAULT_REGION must be a two-letter region code such as US or GB,"
                              " not 'USA'"),
    ("QUIET_HOURS_OVERRIDES", "US-FL=8", "QUIET_HOURS_OVERRIDES must be AREA=START-END items, "
                                         "comma-separated, hours 0-24 that overlap 8-21 (e.g. "
                                         "US-FL=8-20), not 'US-FL=8'"),
    ("TWILIO_SENDER_NUMBER", "4155550100", SENDER + "'4155550100'"),
    ("TWILIO_SENDER_NUMBER", "+1415555010", SENDER + "'+1415555010'"),
    ("TWILIO_SENDER_NUMBER", "1234", SENDER + "'1234'"),
    ("TWILIO_SENDER_NUMBER", "FixitPros-Alerts", SENDER + "'FixitPros-Alerts'"),
    ("DATABASE_URL", "mysql://app:pw@db/commsvc", "DATABASE_URL must be a postgres://, "
                                                  "postgresql:// or sqlite:/// URL, not "
                                                  "mysql://..."),
    ("DATABASE_URL", "postgresql+psycopg2://app:pw@db/commsvc", "DATABASE_URL must be a "
                                                                "postgres://, postgresql:// or "
                                                                "sqlite:/// URL, not "
                                                                "postgresql+psycopg2://..."),
    ("DATABASE_URL", "commsvc.db", "DATABASE_URL must be a postgres://, postgresql:// or "
                                   "sqlite:/// URL, not a value that is not a URL"),
    ("DATABASE_URL", "postgres://app@db:notaport/commsvc", "DATABASE_URL cannot be read as a "
                                                           "URL: it needs a host name and, if "
                                                           "it gives a port, a number"),
    ("DATABASE_URL", "postgres://app@[::1/commsvc", "DATABASE_URL cannot be read as a URL: it "
                                                    "needs a host name and, if it gives a port,"
                                                    " a number"),
    ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY must be a whole number of web workers, 1 or more,"
                             " not '0'"),
    ("WEB_CONCURRENCY", "abc", "WEB_CONCURRENCY must be a whole number of web workers, 1 or "
                               "more, not 'abc'"),
    ("PUBLIC_BASE_URL", "https://app:pw@commsvc.example.com", "PUBLIC_BASE_URL must not carry a "
                                                              "user name or password"),
    ("QUIET_HOURS_OVERRIDES", "US-FL=22-23", "QUIET_HOURS_OVERRIDES must be AREA=START-END items,"
                                             " comma-separated, hours 0-24 that overlap 8-21 "
                                             "(e.g. US-FL=8-20), not 'US-FL=22-23'"),
    ("COMMSVC_ENV", "prod", "COMMSVC_ENV must be development, production or test, not 'prod'"),
    # found by an audit: each overlapped 8-21 on its own, so every process started, and every
    # marketing text to Florida was then a 500 (and a worker error on every pass); a typo for
    # an area changed nothing
    ("QUIET_HOURS_OVERRIDES", "US=8-10,US-FL=12-20",
     "QUIET_HOURS_OVERRIDES: together they leave no allowed hour for US-FL (overrides narrow"
     " the 8-21 window, and each other); not 'US=8-10,US-FL=12-20'"),
    ("QUIET_HOURS_OVERRIDES", "US=20-21",
     "QUIET_HOURS_OVERRIDES: together they leave no allowed hour for US-FL (overrides narrow"
     " the 8-21 window, and each other); not 'US=20-21'"),
    ("QUIET_HOURS_OVERRIDES", "CA-NS=8-12,CA-PE=13-20",
     "QUIET_HOURS_OVERRIDES: together they leave no allowed hour for CA-NS/CA-PE (overrides"
     " narrow the 8-21 window, and each other); not 'CA-NS=8-12,CA-PE=13-20'"),
    ("QUIET_HOURS_OVERRIDES", "CA-QB=9-20",
     "QUIET_HOURS_OVERRIDES: CA-QB is neither a country (ISO 3166-1: GB) nor a US state or"
     " Canadian province (ISO 3166-2: US-FL, CA-QC); not 'CA-QB=9-20'"),
    # found by an operator's audit: a traceback from the CLI, 500s from the web
    # found by a review: libpq's default database (the user's name) was taken silently, and
    # `db upgrade` built the schema in it
    ("DATABASE_URL", "postgres://", NO_DATABASE),
    ("DATABASE_URL", "postgresql://app:pw@db:5432/", NO_DATABASE),
    ("DATABASE_URL", "postgresql://:@/", NO_DATABASE),
    ("DATABASE_URL", "postgres://app@db:5432/commsvc?pgbouncer=true",
     "DATABASE_URL has connection options PostgreSQL does not know: pgbouncer (a pooler's own"
     " flag, such as pgbouncer=true, is not one: leave it out)"),
    # found by an audit: libpq refused these only when connecting, so every process started
    # and then reported the database down
    ("DATABASE_URL", "postgres://app@db:99999/commsvc",
     "DATABASE_URL's port must be from 1 to 65535, not 99999"),
    ("DATABASE_URL", "postgres://app@db/commsvc?sslmode=bogus",
     "DATABASE_URL's sslmode must be one of disable, allow, prefer, require, verify-ca,"
     " verify-full, not 'bogus'"),
    ("DATABASE_URL", "postgres://app@db/commsvc?connect_timeout=abc",
     "DATABASE_URL's connect_timeout must be a whole number of seconds from 1 to 30 (0 or"
     " less would wait with no limit, more past gunicorn's request timeout), not 'abc'"),
    # found by a review: once the URL's own connect_timeout was used (no longer replaced by
    # the engine's 2 s), 0 made /readyz on a database that does not answer hang past 20 s
    # (psycopg then waits 130 s) instead of a 503 after 2 s
    ("DATABASE_URL", "postgres://app@db/commsvc?connect_timeout=0",
     "DATABASE_URL's connect_timeout must be a whole number of seconds from 1 to 30 (0 or"
     " less would wait with no limit, more past gunicorn's request timeout), not '0'"),
    # found by a review: an hour (or 99999999999) waited as long as no limit does
    # and by another: psycopg waits the whole timeout for each address of the host (IPv4 and
    # IPv6), so 60 twice reached gunicorn's 120 s
    ("DATABASE_URL", "postgres://app@db/commsvc?connect_timeout=31",
     "DATABASE_URL's connect_timeout must be a whole number of seconds from 1 to 30 (0 or"
     " less would wait with no limit, more past gunicorn's request timeout), not '31'"),
    ("DATABASE_URL", "postgres://app@db/commsvc?connect_timeout=3600",
     "DATABASE_URL's connect_timeout must be a whole number of seconds from 1 to 30 (0 or"
     " less would wait with no limit, more past gunicorn's request timeout), not '3600'"),
    ("DATABASE_URL", "postgres://app@db/commsvc?connect_timeout=-5",
     "DATABASE_URL's connect_timeout must be a whole number of seconds from 1 to 30 (0 or"
     " less would wait with no limit, more past gunicorn's request timeout), not '-5'"),
    # found by an audit: Python reads "1_000" and other scripts' digits as numbers; the
    # account SID was taken as given, and every send then failed at Twilio
    ("RETENTION_BODIES_DAYS", "1_000", "RETENTION_BODIES_DAYS must be a positive number of"
                                       " days, at most 36500, not '1_000'"),
    ("RETENTION_BODIES_DAYS", "\u0669\u0660", "RETENTION_BODIES_DAYS must be a positive number"
                                             " of days, at most 36500, not '\u0669\u0660'"),
    ("TWILIO_ACCOUNT_SID", "garbage", "TWILIO_ACCOUNT_SID must be AC and 32 hexadecimal digits,"
                                      " as the Twilio console shows it"),
    # found by an operator's audit: the HELP reply went out as "    help {oops}"
    ("HELP_SMS_REPLY", "{brand} help {oops}", "HELP_SMS_REPLY may name {brand} and {support}"
                                              " only, not {oops}"),
    ("NO_SESSION_SMS_REPLY", "Ended. {Brand}", "NO_SESSION_SMS_REPLY may name {brand} and"
                                               " {support} only, not {Brand}"),
    ("BRAND_NAME", "{support}", "BRAND_NAME is the text itself, with no placeholder, not"
                                " {support}"),
])
def test_a_setting_that_makes_no_sense_is_a_config_error_naming_it(name, value, message):
    with pytest.raises(ConfigError) as raised:
        _load(**{name: value})
    assert str(raised.value) == message


@pytest.mark.parametrize("value", [
    "commsvc.example.com",  # no scheme: every signed webhook would be a 403
    "commsvc.example.com:443",
    "ftp://commsvc.example.com",
    "https://",
    "https:///commsvc",
    "https://commsvc.example.com/?x=1",
    "https://commsvc.example.com/webhooks?",
    "https://commsvc.example.com/#top",
    "https://commsvc.example.com:https",
    "https://commsvc.example.com:99999",
    "https://commsvc example.com",
])
def test_a_public_base_url_that_is_not_an_http_origin_is_refused(value):
    with pytest.raises(ConfigError) as raised:
        _load(PUBLIC_BASE_URL=value)
    assert str(raised.value) == (
        "PUBLIC_BASE_URL must be the http(s) origin Twilio calls, such as "
        "https://commsvc.example.com (a path prefix allowed; no query or fragment), "
        f"not {value!r}")


@pytest.mark.parametrize(("value", "read"), [
    ("https://commsvc.example.com", "https://commsvc.example.com"),
    (" https://commsvc.example.com/ ", "https://commsvc.example.com"),
    ("https://commsvc.example.com:8443", "https://commsvc.example.com:8443"),
    # A proxy mounting the service under a path (docs/twilio.md): the prefix is kept.
    ("https://example.com/commsvc/", "https://example.com/commsvc"),
    ("http://commsvc.internal:8080", "http://commsvc.internal:8080"),  # http outside production
    ("http://[::1]:5000", "http://[::1]:5000"),
])
def test_a_public_base_url_is_an_origin_maybe_with_a_path_prefix(value, read):
    assert _load(PUBLIC_BASE_URL=value).public_base_url == read


@pytest.mark.parametrize(("value", "read"), [
    ("postgres://app@db:5432/commsvc", "postgresql+psycopg://app@db:5432/commsvc"),
    ("postgresql://app@db/commsvc", "postgresql+psycopg://app@db/commsvc"),
    ("postgresql+psycopg://app@db/commsvc?sslmode=require",
     "postgresql+psycopg://app@db/commsvc?sslmode=require"),
    ("sqlite:///instance/x.db", "sqlite:///instance/x.db"),
    ("sqlite+pysqlite:////tmp/x.db", "sqlite+pysqlite:////tmp/x.db"),
    (" ", Config.database_url),
    # no host: libpq's local socket, a database named all the same
    ("postgresql:///commsvc", "postgresql+psycopg:///commsvc"),
    ("postgresql://app@db/?dbname=commsvc", "postgresql+psycopg://app@db/?dbname=commsvc"),
])
def test_database_urls_the_service_runs_on_are_taken(value, read):
    assert _load(DATABASE_URL=value).database_url == read


def test_a_postgresql_url_naming_no_database_is_taken_when_pgdatabase_names_it():
    """libpq reads PGDATABASE (and PGHOST, PGUSER) where the URL says nothing."""
    assert _load(DATABASE_URL="postgres://", PGDATABASE="commsvc").database_url \
        == "postgresql+psycopg://"


def _service_file(tmp_path) -> str:
    path = tmp_path / "pg_service.conf"
    path.write_text("[commsvc]\nhost=db.internal\ndbname=commsvc\n\n"
                    "# a comment\n[nodb]\nhost=db.internal\nuser=app\n")
    return str(path)


def test_a_postgresql_url_naming_a_connection_service_is_taken_the_service_names_the_database(
        tmp_path):
    """Found by a review: libpq reads the database (dbname), host and user of a connection
    service from pg_service.conf (service=NAME in the URL, or PGSERVICE), where the URL says
    nothing; cc4cc99 refused such a URL, which had connected to the database the file names."""
    services = _service_file(tmp_path)
    assert _load(DATABASE_URL="postgresql:///?service=commsvc",
                 PGSERVICEFILE=services).database_url == "postgresql+psycopg:///?service=commsvc"
    assert _load(DATABASE_URL="postgres://", PGSERVICE="commsvc",
                 PGSERVICEFILE=services).database_url == "postgresql+psycopg://"


@pytest.mark.parametrize("service", ["nodb", "undefined"])
@pytest.mark.parametrize("how", ["url", "PGSERVICE"])
def test_a_connection_service_naming_no_database_is_refused_in_one_line(tmp_path, service, how):
    """Found by the operator docs' walk: a service whose entry names no database (or that no
    pg_service.conf defines) was taken, and libpq connected to the database named after the
    user (`postgres`, often): every command said to run `commsvc db upgrade`, which would
    have built the schema there; an undefined one was a 'database is not answering' at the
    first connection. Both are refused at start, naming the service."""
    settings = ({"DATABASE_URL": f"postgresql://db.internal/?service={service}"} if how == "url"
                else {"DATABASE_URL": "postgres://", "PGSERVICE": service})
    with pytest.raises(ConfigError) as refused:
        _load(PGSERVICEFILE=_service_file(tmp_path), **settings)
    assert str(refused.value).startswith(
        f"DATABASE_URL's connection service '{service}' names no database: no pg_service.conf")
    assert "PGSERVICE" not in os.environ or os.environ["PGSERVICE"] != service


def test_a_connection_service_with_a_nul_in_its_name_is_refused_in_one_line(tmp_path):
    """Found by review23: a URL's service name is decoded (%00 is a NUL), and reading what it
    names set it in the environment, which holds no NUL: the process stopped with a
    traceback ending in 'ValueError: embedded null byte', not the one line naming the
    setting. No pg_service.conf defines such a service: refused as one naming no database,
    the environment as it was."""
    before = dict(os.environ)
    with pytest.raises(ConfigError) as refused:
        _load(DATABASE_URL="postgresql://db.internal/?service=commsvc%00x",
              PGSERVICEFILE=_service_file(tmp_path))
    assert str(refused.value).startswith(
        "DATABASE_URL's connection service 'commsvc\\x00x' names no database: no pg_service.conf")
    assert dict(os.environ) == before


@pytest.mark.parametrize("name", ["commsvc%00x", "commsvc%0Ax%1B[31m"], ids=["NUL", "controls"])
def test_a_connection_service_name_with_control_characters_is_shown_escaped(tmp_path, name):
    """Found by ops3's walk: the refusal named the service twice, once escaped and once as
    given ('a [commsvc\\x00x] entry'), so a NUL, a line break or an escape sequence from the
    URL went raw into the line and the log. Each is shown escaped, once."""
    with pytest.raises(ConfigError) as refused:
        _load(DATABASE_URL=f"postgresql://db.internal/?service={name}",
              PGSERVICEFILE=_service_file(tmp_path))
    assert str(refused.value).isprintable()


class _EnvironmentNotWritten(dict):
    """os.environ that fails the test when written: another thread may be reading it."""

    def _written(self, *_args, **_kwargs):
        raise AssertionError("the process environment was written")

    __setitem__ = __delitem__ = pop = update = setdefault = clear = _written


@pytest.mark.parametrize("service", ["commsvc", "nodb"])
def test_reading_a_connection_service_leaves_the_process_environment_alone(
        tmp_path, monkeypatch, service):
    """Found by ops3: to ask libpq what a service names, PGSERVICE, PGSERVICEFILE and
    PGSYSCONFDIR were set in the process's environment and then put back, which raced any
    other thread reading the environment (setenv is not thread-safe, and libpq reads it at
    every connection). libpq is asked in a process of its own; the answers are the same."""
    settings = {"DATABASE_URL": "postgres://", "PGSERVICE": service,
                "PGSERVICEFILE": _service_file(tmp_path)}
    with monkeypatch.context() as patched:  # only while the settings are read
        patched.setattr(os, "environ", _EnvironmentNotWritten(os.environ))
        if service == "commsvc":
            assert _load(**settings).database_url == "postgresql+psycopg://"
        else:
            with pytest.raises(ConfigError,
                               match="^DATABASE_URL's connection service 'nodb' names"):
                _load(**settings)


def test_the_sender_is_a_number_in_e164_a_short_code_or_a_sender_id_as_twilio_takes_them():
    assert _load(TWILIO_SENDER_NUMBER=" +1 (415) 555-0100 ").sender_number == "+14155550100"
    assert _load(TWILIO_SENDER_NUMBER="22395").sender_number == "22395"
    assert _load(TWILIO_SENDER_NUMBER="FixitPros").sender_number == "FixitPros"
    assert _load(TWILIO_SENDER_NUMBER=" ").sender_number is None


def test_a_cap_below_the_default_ttl_makes_it_the_default_ttl():
    """A booking app that always sends ttl_seconds may cap sessions at a day."""
    config = _load(MAX_SESSION_TTL_SECONDS="86400")
    assert (config.max_session_ttl_seconds, config.session_ttl_seconds) == (86400, 86400)


@pytest.mark.parametrize("env", [
    {"RETENTION_BODIES_DAYS": "abc"},
    {"SESSION_TTL_SECONDS": "abc"},
    {"RETENTION_BODIES_DAYS": "-1"},
    {"MAX_SESSION_TTL_SECONDS": "0"},
    {"TWILIO_SENDER_NUMBER": "1234"},
    {"PUBLIC_BASE_URL": "commsvc.example.com"},
    {"DATABASE_URL": "mysql://app:pw@db/commsvc"},
])
def test_retention_run_with_a_bad_setting_says_so_in_one_line_with_status_2(env):
    result = CliRunner().invoke(main, ["retention", "run", "--dry-run"],
                                env={**SECRETS, **env}, prog_name="commsvc")
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {next(iter(env))} must be ")
    assert "Traceback" not in result.output and result.stdout == ""


def test_an_override_of_a_built_in_area_narrows_it_never_widens_it():
    """Found by a review: US-FL=9-21 replaced Florida's built-in 8-20, so marketing went out
    at 20:30 there."""
    assert _load(QUIET_HOURS_OVERRIDES="US-FL=9-21").quiet_hours_overrides["US-FL"] == (9, 20)


def test_sensible_values_are_read_in_their_units():
    config = _load(RETENTION_BODIES_DAYS="0.5", RETENTION_AUDIT_DAYS="3650", COOLOFF_DAYS="0",
                   SESSION_TTL_SECONDS=" 3600 ", MAX_SESSION_TTL_SECONDS="7200",
                   CALL_TIME_LIMIT_SECONDS="86400", OUTBOX_MAX_ATTEMPTS="3",
                   OUTBOX_BACKOFF_BASE_SECONDS="2.5", OUTBOX_BACKOFF_MAX_SECONDS="2.5",
                   OUTBOX_LEASE_SECONDS="30", OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS="900",
                   OUTBOX_MARKETING_MAX_DELAY_SECONDS="36000", PORT="8080",
                   MARKETING_REQUIRES_GRANT="Off",
                   LOG_FORMAT="json", DEFAULT_REGION="gb",
                   QUIET_HOURS_OVERRIDES="US-TX=9-20,gb=0-24")
    assert (config.retention.message_bodies, config.retention.audit) == (43200, 3650 * 86400)
    assert (config.cooloff_seconds, config.session_ttl_seconds) == (0, 3600)
    assert (config.max_session_ttl_seconds, config.call_time_limit_seconds) == (7200, 86400)
    assert (config.outbox_max_attempts, config.outbox_backoff_base_seconds,
            config.outbox_backoff_max_seconds, config.outbox_lease_seconds) == (3, 2.5, 2.5, 30)
    assert (config.outbox_transactional_max_delay_seconds,
            config.outbox_marketing_max_delay_seconds) == (900, 36000)
    assert config.public_base_url == "http://localhost:8080"
    assert config.marketing_requires_grant is False and config.log_json is True
    assert config.default_region == "GB"
    assert config.quiet_hours_overrides["US-TX"] == (9, 20)
    assert config.quiet_hours_overrides["GB"] == (0, 24)


@pytest.mark.parametrize("days, seconds", [("0.7", 60480), ("2.3", 198720), ("0.35", 30240),
                                             ("0.0000116", 1)])
def test_a_period_in_days_is_not_cut_a_second_short(days, seconds):
    """Found by a time audit: RETENTION_BODIES_DAYS=0.7 read as 60479 s (0.7 * 86400 is
    60479.99999999999 in floating point), so a body read null, and retention removed it, a
    second before its 0.7 days; COOLOFF_DAYS the same."""
    config = _load(RETENTION_BODIES_DAYS=days, COOLOFF_DAYS=days)
    assert (config.retention.message_bodies, config.cooloff_seconds) == (seconds, seconds)


def test_unset_or_empty_settings_take_their_defaults():
    empty = _load(RETENTION_BODIES_DAYS="", SESSION_TTL_SECONDS=" ", PORT="",
                  MARKETING_REQUIRES_GRANT="", LOG_FORMAT="", DEFAULT_REGION="",
                  BRAND_NAME="   ", HELP_SMS_REPLY=" ")  # the STOP reply began "   : You are"
    assert empty == _load()
    assert empty.retention.message_bodies == 90 * 86400
    assert empty.session_ttl_seconds == 7 * 86400 and empty.marketing_requires_grant is True
    assert empty.default_region == "US" and empty.log_json is False


def test_every_reply_has_its_brand_and_support_filled_in():
    """Found by a code review: {brand} was accepted in NO_SESSION_SMS_REPLY and the other
    replies, and sent to customers as "{brand}" (only the HELP reply was filled in)."""
    config = _load(BRAND_NAME="Fixit", SUPPORT_CONTACT="help@fixit.example",
                   NO_SESSION_SMS_REPLY="{brand}: this number is not in use ({support})",
                   RECORDING_NOTICE="{brand} records this call.",
                   UNAVAILABLE_VOICE_MESSAGE="Your {brand} pro is busy. Call back later.")
    assert config.no_session_sms_reply == "Fixit: this number is not in use (help@fixit.example)"
    assert config.recording_notice == "Fixit records this call."
    assert config.unavailable_voice_message == "Your Fixit pro is busy. Call back later."


@pytest.mark.parametrize("name", ["NO_SESSION_SMS_REPLY", "VOICE_ONLY_SMS_REPLY",
                                  "HELP_SMS_REPLY"])
def test_a_text_reply_longer_than_twilio_sends_is_a_config_error(name):
    """Found by an audit: a 1,700-character NO_SESSION_SMS_REPLY (or one of 900 emoji, which
    Twilio counts twice) was taken, and every such reply was then refused by Twilio (a
    <Message> body is at most 1,600 characters) and lost, with nothing said."""
    assert getattr(_load(**{name: "x" * 1600}), name.lower()) == "x" * 1600
    with pytest.raises(ConfigError) as raised:
        _load(**{name: "\U0001f527" * 800 + "."})
    assert str(raised.value) == (f"{name} is 1601 characters as Twilio counts them (an emoji"
                                 " counts twice); a text is at most 1600")
    with pytest.raises(ConfigError):  # as sent: with the brand filled in
        _load(**{name: "x" * 1590 + "{brand}", "BRAND_NAME": "HomePros Inc."})


def test_an_account_sid_without_its_auth_token_is_refused_in_development(tmp_path, monkeypatch):
    """Found by an operator's audit: with TWILIO_ACCOUNT_SID set and TWILIO_AUTH_TOKEN not,
    development generated a token no Twilio account has, so every send failed at Twilio and
    every webhook Twilio signed got 403, with nothing said at start."""
    monkeypatch.setattr("commsvc.config.dev_secrets.DEV_SECRETS_FILE",
                        tmp_path / "dev-secrets.json")
    monkeypatch.setattr("commsvc.config.dev_secrets.INSTANCE_DIR", tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_config({"COMMSVC_ENV": "development", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32})
    assert str(raised.value) == (
        "TWILIO_ACCOUNT_SID is set without TWILIO_AUTH_TOKEN: set the account's auth token too,"
        " or unset TWILIO_ACCOUNT_SID to simulate sends")
    assert not (tmp_path / "dev-secrets.json").exists()
    # Without the SID the token is generated, as before (sends are simulated).
    assert load_config({"COMMSVC_ENV": "development"}).twilio_account_sid is None


ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN_IS = ("TWILIO_AUTH_TOKEN must be the auth token of the account TWILIO_ACCOUNT_SID"
                 " names, 32 hexadecimal digits as the Twilio console shows it; ")


@pytest.mark.parametrize(("token", "given"), [
    (ACCOUNT_SID, "it holds the Account SID"),
    ("SK" + "0" * 32, "it holds an API key's SID"),
    ("Ab3dE6gH1jK4mN7pQ0rS3tU6vW9xY2z5", "it has characters that are not hexadecimal digits"
                                         " (an API key's secret?)"),
    ("0123456789abcdef", "it has 16 characters"),
])
def test_an_auth_token_that_is_not_one_is_refused_when_the_account_is_set(token, given):
    """Found by a review: with TWILIO_ACCOUNT_SID set, another value pasted from the console
    (the SID itself, an API key's SID or secret) was taken, and every send failed at Twilio
    (20003) and every webhook got 403, with nothing said at start. The value is not shown."""
    with pytest.raises(ConfigError) as raised:
        _load(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=token)
    assert str(raised.value) == AUTH_TOKEN_IS + given


def test_an_auth_token_is_any_secret_without_the_account_and_32_hex_digits_with_it():
    """Without TWILIO_ACCOUNT_SID nothing reaches Twilio, and any token signs webhooks made by
    hand (tests, development); the account's own token is taken, in either case, spaces
    around it dropped."""
    assert _load(TWILIO_AUTH_TOKEN="t").twilio_auth_token == "t"
    token = "0123456789abcdef0123456789ABCDEF"
    assert _load(TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                 TWILIO_AUTH_TOKEN=f" {token}\n").twilio_auth_token == token


def test_the_readme_gives_the_one_second_floor_of_periods_set_in_days():
    """Found by a README walk: RETENTION_BODIES_DAYS=0.00001 ("above 0", said the README) was
    refused as shorter than one second; the rows now say the floor the error gives."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = [line for line in readme.splitlines()
            if line.startswith(("| `RETENTION_BODIES_DAYS`", "| `COOLOFF_DAYS`"))]
    assert len(rows) == 2
    assert all("at least one second (0.0000116) and at most 36500" in row for row in rows)


def test_processes_started_together_on_a_fresh_clone_share_one_set_of_secrets(
        tmp_path, monkeypatch):
    """Found by starting four `commsvc db upgrade` at once on a fresh clone (as a Procfile
    runner starts web, worker and clock): two or three of them each generated secrets and
    wrote them over the others', so the processes ran on different encryption keys, HMAC keys
    and webhook tokens. Here another process writes the file between this one's look for it
    and its own write."""
    secrets_file = tmp_path / "dev-secrets.json"
    monkeypatch.setattr(dev_secrets, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(dev_secrets, "DEV_SECRETS_FILE", secrets_file)
    theirs = {"encryption_key": Fernet.generate_key().decode(), "hmac_key": "theirs" * 8,
              "twilio_auth_token": "their-token"}
    generate = Fernet.generate_key

    def the_other_process_writes_first():
        if not secrets_file.exists():
            secrets_file.write_text(json.dumps(theirs))
        return generate()

    monkeypatch.setattr(dev_secrets.Fernet, "generate_key", the_other_process_writes_first)

    config = load_config({"COMMSVC_ENV": "development"})

    assert json.loads(secrets_file.read_text()) == theirs
    assert (config.encryption_keys, config.hmac_key, config.twilio_auth_token) == (
        (theirs["encryption_key"],), theirs["hmac_key"], theirs["twilio_auth_token"])


@pytest.mark.parametrize("errno_name", ["EPERM", "EOPNOTSUPP"])
def test_development_secrets_are_created_on_a_filesystem_without_hard_links(
        tmp_path, monkeypatch, errno_name):
    """Found by trying a clone on a filesystem whose link() fails (FAT/exFAT, some network and
    FUSE mounts: strace's fault injection of EPERM): 'make run' stopped with "cannot be read or
    written (Operation not permitted): make instance/ writable", though it was writable and
    the file had been written there before the secrets were hard-linked into place."""
    secrets_file = tmp_path / "dev-secrets.json"
    monkeypatch.setattr(dev_secrets, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(dev_secrets, "DEV_SECRETS_FILE", secrets_file)

    def link(_source, _target):
        raise OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name)))

    monkeypatch.setattr(dev_secrets.os, "link", link)

    config = load_config({"COMMSVC_ENV": "development"})

    written = json.loads(secrets_file.read_text())
    assert config.hmac_key == written["hmac_key"]
    assert oct(secrets_file.stat().st_mode & 0o777) == oct(0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["dev-secrets.json"]  # no draft left
    # The next process reads them: one set of secrets.
    assert load_config({"COMMSVC_ENV": "development"}).hmac_key == config.hmac_key


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", " sqlite:// ",
                                 "sqlite:///file::memory:?cache=shared&uri=true",
                                 "sqlite:///file:app.db?mode=memory&uri=true",
                                 # SQLite's memdb VFS: a database in memory under a file's name
                                 # (review4: `db upgrade` migrated it, the next command found
                                 # no schema)
                                 "sqlite:///file:/app.db?vfs=memdb&uri=true"])
@pytest.mark.parametrize("env", ["development", "production"])
def test_an_sqlite_database_in_memory_is_refused_at_start_outside_tests(url, env):
    """Found by a review: DATABASE_URL=sqlite:// was taken, and every process (each web
    worker, the worker, the clock, each CLI command) then had its own empty database."""
    with pytest.raises(ConfigError) as raised:
        _load(DATABASE_URL=url, COMMSVC_ENV=env)
    assert str(raised.value).startswith("DATABASE_URL names an SQLite database in memory:")
    assert "\n" not in str(raised.value)
    assert _load(DATABASE_URL=url, COMMSVC_ENV="test").database_url == url.strip()


@pytest.mark.parametrize("url", ["sqlite:///instance/commsvc.db", "sqlite:///memory.db",
                                 "sqlite:///file:app.db?mode=rwc&uri=true"])
def test_an_sqlite_file_is_taken(url):
    assert _load(DATABASE_URL=url).database_url == url


def test_the_cli_says_an_in_memory_database_is_refused_in_one_line():
    result = CliRunner().invoke(main, ["keys", "list"], env={"DATABASE_URL": "sqlite://",
                                                             "COMMSVC_ENV": "development"})
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "SQLite database in memory" in result.output


# Every setting that ends up in the TwiML we answer with, and where: the reply or spoken message
# it is, the HELP reply (the brand and support contact are in every reply), or callback URLs.
TWIML_SETTINGS = ("BRAND_NAME", "SUPPORT_CONTACT", "HELP_SMS_REPLY", "NO_SESSION_SMS_REPLY",
                  "VOICE_ONLY_SMS_REPLY", "NO_SESSION_VOICE_MESSAGE", "SMS_ONLY_VOICE_MESSAGE",
                  "RECORDING_NOTICE", "UNAVAILABLE_VOICE_MESSAGE", "PUBLIC_BASE_URL")
NOT_XML = ("\x0b", "\x00", "\x1b", "\x1f", "\ufffe", "\udcff")  # \udcff: a byte not UTF-8


def _twiml_with(config: Config, name: str) -> str:
    """The TwiML answer that carries setting `name`, as the webhooks build it."""
    from commsvc.consent.messages import help_reply
    from commsvc.relay.inbound import Bridge, CallResult, SmsResult
    from webhooks import twiml

    def sms(reply: str) -> str:
        result = SmsResult(message_id=1, outcome="replied", session_id=None, forward=None,
                           reply=reply, duplicate=False)
        return twiml.sms_answer(result, config, "SM" + "0" * 32).get_data(as_text=True)

    if name == "PUBLIC_BASE_URL":
        result = CallResult(call_id=1, outcome="bridged", session_id="s", say=None,
                            bridge=Bridge(to="+14155550101", caller_id="+14155550102",
                                          record=True, time_limit=3600), duplicate=False)
        return twiml.call_answer(result, config, "CA" + "0" * 32).get_data(as_text=True)
    if name in ("BRAND_NAME", "SUPPORT_CONTACT", "HELP_SMS_REPLY"):
        return sms(help_reply(config))
    if name.endswith("_SMS_REPLY"):
        return sms(getattr(config, name.lower()))
    if name == "RECORDING_NOTICE":
        return twiml.recording_notice(config).get_data(as_text=True)
    return twiml.say_and_hang_up(getattr(config, name.lower())).get_data(as_text=True)


def _set(name: str, inside: str) -> str:
    """A value of setting `name` with `inside` in it, otherwise one the config takes."""
    if name == "PUBLIC_BASE_URL":
        return f"https://commsvc.example.com/a{inside}b"
    if name in ("BRAND_NAME", "SUPPORT_CONTACT"):
        return f"Home{inside}Pros"
    return f"{{brand}}: sorry{inside}goodbye"


@pytest.mark.parametrize("name", TWIML_SETTINGS)
@pytest.mark.parametrize("inside", NOT_XML + ("\t", "\n", "é", "\U0001f527", ""))
def test_every_setting_the_config_takes_makes_twiml_that_is_xml(name, inside):
    """Found by an audit: BRAND_NAME, SUPPORT_CONTACT, the replies and spoken messages (and
    PUBLIC_BASE_URL, in the callback URLs) were taken holding a control character such as a
    vertical tab, a NUL or an escape; the twilio library writes it as given, so the answer was
    not XML and Twilio would have refused every call or text answered with it. A value the
    config takes makes TwiML that is XML."""
    try:
        config = _load(**{name: _set(name, inside)})
    except ConfigError:  # (a URL takes no tab nor line break either)
        assert inside in NOT_XML or (name == "PUBLIC_BASE_URL" and inside.isspace())
        return
    ElementTree.fromstring(_twiml_with(config, name))  # raises ParseError when it is not XML
    assert inside not in NOT_XML


@pytest.mark.parametrize("name", TWIML_SETTINGS)
@pytest.mark.parametrize("inside", NOT_XML)
def test_a_setting_twiml_cannot_carry_is_refused_naming_it_and_the_character(name, inside):
    with pytest.raises(ConfigError) as raised:
        _load(**{name: _set(name, inside)})
    at = _set(name, inside).index(inside) + 1
    assert str(raised.value) == (
        f"{name} holds U+{ord(inside):04X} (character {at}), which TwiML cannot carry (XML 1.0:"
        f" no control character but tab and line breaks); Twilio would refuse every answer"
        f" with it")


def test_a_control_character_around_a_reply_is_refused_too():
    """Counted as set: the spaces and the character before it included."""
    with pytest.raises(ConfigError) as raised:
        _load(NO_SESSION_SMS_REPLY="  \x1b[31mNo session")
    assert str(raised.value).startswith("NO_SESSION_SMS_REPLY holds U+001B (character 3), ")


@pytest.mark.parametrize("name", TWIML_SETTINGS)
@pytest.mark.parametrize("edge", ["\x0b", "\x0c", "\x1c", "\x1f", "\x0c\n"])
def test_a_control_character_stripped_as_space_around_a_setting_is_no_refusal(name, edge):
    """Found in review: the TwiML check (cca93c1) read the value before the spaces around it
    were stripped, and Python strips a vertical tab, a form feed and \\x1c-\\x1f as spaces: a
    setting that ended in one (a form feed an editor left) was taken without it, and only
    this one alone counted as unset, yet it now stopped the process at start."""
    value = _set(name, "")
    config = _load(**{name: edge + value + edge})
    assert config == _load(**{name: value})
    assert _load(**{name: edge}) == _load()
    with pytest.raises(ConfigError, match=rf"{name} holds U\+000B \(character {len(edge) + 2}\)"):
        _load(**{name: edge + value[:1] + "\x0b" + value[1:] + edge})


@pytest.mark.parametrize(("script", "ended"), [
    ("raise SystemExit(3)", "status 3"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)", "SIGTERM")])
def test_a_connection_service_whose_check_fails_is_refused_in_one_line(tmp_path, monkeypatch,
                                                                       script, ended):
    """Found by review27: libpq is asked in a process of its own (0d54749), and one that
    failed or was killed (a signal to the process group while the worker starts) stopped the
    start with CalledProcessError's traceback, not one line naming the setting."""
    monkeypatch.setattr(database_url, "_DEFAULT_DATABASE", script)
    with pytest.raises(ConfigError, match=(
            f"^DATABASE_URL's connection service 'commsvc' could not be read: .* ended with"
            f" {ended}$")) as refused:
        _load(DATABASE_URL="postgresql://db.internal/?service=commsvc",
              PGSERVICEFILE=_service_file(tmp_path))
    assert "\n" not in str(refused.value)
