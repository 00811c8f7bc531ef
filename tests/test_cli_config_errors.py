"""The `commsvc` command with a broken configuration: one line on stderr, no traceback."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from commsvc.cli import main

PRODUCTION = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/nonexistent",
    "COMMSVC_ENV": None,
    "ENCRYPTION_KEYS": None,
    "HMAC_KEY": None,
    "TWILIO_AUTH_TOKEN": None,
    "PUBLIC_BASE_URL": None,
}
FERNET_KEY = Fernet.generate_key().decode()
COMPLETE = {"ENCRYPTION_KEYS": "not-a-fernet-key", "HMAC_KEY": secrets.token_urlsafe(32),
            "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://commsvc.example.com"}


@pytest.mark.parametrize(("env", "message"), [
    (PRODUCTION, "production needs these settings: ENCRYPTION_KEYS, HMAC_KEY, "
                 "TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL"),
    ({**PRODUCTION, **COMPLETE}, "ENCRYPTION_KEYS holds a key that is not a Fernet key (key 1"
                                 " of 1, newest first; a Fernet key is 44 characters of"
                                 " URL-safe base64 ending in '=')"),
    # Mid-rotation: which of the two is wrong, and never the key.
    ({**PRODUCTION, **COMPLETE, "ENCRYPTION_KEYS": f"{FERNET_KEY},{FERNET_KEY[:-2]}"},
     "ENCRYPTION_KEYS holds a key that is not a Fernet key (key 2 of 2, newest first; a Fernet"
     " key is 44 characters of URL-safe base64 ending in '=')"),
    # Mid-rotation with the old key's variable unset ("$NEW,$OLD"): it was dropped silently,
    # and every body under it read as unavailable.
    ({**PRODUCTION, **COMPLETE, "ENCRYPTION_KEYS": f"{FERNET_KEY},"},
     "ENCRYPTION_KEYS has an empty entry (entry 2 of 2, newest first): a key variable not set?"
     " Give every key, comma-separated"),
    ({**PRODUCTION, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY, "TWILIO_AUTH_TOKEN": " "},
     "production needs these settings: TWILIO_AUTH_TOKEN"),
    ({**PRODUCTION, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY,
      "PUBLIC_BASE_URL": "commsvc.example.com"},
     "PUBLIC_BASE_URL must be the http(s) origin Twilio calls, such as "
     "https://commsvc.example.com (a path prefix allowed; no query or fragment), "
     "not 'commsvc.example.com'"),
    ({**PRODUCTION, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY,
      "PUBLIC_BASE_URL": "http://commsvc.example.com"},
     "PUBLIC_BASE_URL must be https in production (http only on a loopback host: localhost, "
     "127.0.0.1, ::1), not 'http://commsvc.example.com'"),
    # The password in the URL is not repeated; the driver's import error was a traceback.
    ({**PRODUCTION, **COMPLETE, "DATABASE_URL": "mysql://app:s3cret@db/commsvc"},
     "DATABASE_URL must be a postgres://, postgresql:// or sqlite:/// URL, not mysql://..."),
    ({**PRODUCTION, **COMPLETE, "DATABASE_URL": "postgresql+psycopg2://app:s3cret@db/commsvc"},
     "DATABASE_URL must be a postgres://, postgresql:// or sqlite:/// URL, not "
     "postgresql+psycopg2://..."),
])
@pytest.mark.parametrize("args", [["keys", "list"], ["db", "upgrade"], ["logs", "messages"]])
def test_config_error_is_one_line_on_stderr_and_exit_status_2(env, message, args):
    result = CliRunner().invoke(main, args, env=env, prog_name="commsvc")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""


def _procfile_command(name: str) -> str:
    root = Path(__file__).resolve().parent.parent
    return next(line for line in (root / "Procfile").read_text().splitlines()
                if line.startswith(f"{name}:"))[len(name) + 1:]


@pytest.mark.parametrize(("setting", "message"), [
    ({"RETENTION_BODIES_DAYS": "abc"}, "Error: RETENTION_BODIES_DAYS must be a positive number of"
                                       " days, at most 36500, not 'abc'"),
    # gunicorn itself takes --workers 0, then starts no worker and answers nothing.
    ({"WEB_CONCURRENCY": "0"}, "Error: WEB_CONCURRENCY must be a whole number of web workers, 1"
                               " or more, not '0'"),
    # Checked by each worker's engine only, it was a traceback per worker, exit status 3.
    ({"DATABASE_URL": "sqlite:///no/such/dir/commsvc.db", "PORT": "5182"},
     "Error: DATABASE_URL names the SQLite file {root}/no/such/dir/commsvc.db, which cannot be"
     " created (No such file or directory): create its directory or make it writable"),
    # gunicorn's logger reads it before any hook runs: it was gunicorn's own "\nError: ...\n",
    # exit status 1.
    ({"LOG_FORMAT": "xml", "PORT": "6302"}, "Error: LOG_FORMAT must be json or text, not 'xml'"),
    # gunicorn reads WEB_CONCURRENCY when it is imported: a ValueError traceback, exit status 1
    # (commsvc.web checks it before).
    ({"WEB_CONCURRENCY": "abc"}, "Error: WEB_CONCURRENCY must be a whole number of web workers,"
                                 " 1 or more, not 'abc'"),
    # gunicorn's own "Error: Value must be positive: -1", exit status 1.
    ({"WEB_CONCURRENCY": "-1"}, "Error: WEB_CONCURRENCY must be a whole number of web workers,"
                                " 1 or more, not '-1'"),
    # gunicorn's own "Error: 'abc' is not a valid port number.", exit status 1.
    ({"PORT": "abc"}, "Error: PORT must be a port number from 1 to 65535, not 'abc'"),
    # Found by a review: the Procfile's shell splits these at blanks, so gunicorn was given
    # "--workers" with no value (its usage line, exit status 2) and "--bind 0.0.0.0:" with the
    # port cut off ("unrecognized arguments: commsvc.app:create_app()").
    ({"WEB_CONCURRENCY": "  "}, "Error: WEB_CONCURRENCY holds blanks only, no whole number of"
                                " web workers: unset it or give one (the Procfile's shell"
                                " leaves `--workers ${{WEB_CONCURRENCY:-2}}` without a value)"),
    ({"PORT": " 6302"}, "Error: PORT must be a port number from 1 to 65535 with no blank before"
                        " it, not ' 6302' (the Procfile's shell splits `--bind"
                        " 0.0.0.0:${{PORT:-5000}}` at the blank)"),
], ids=["retention", "no workers", "sqlite directory missing", "log format", "workers not a number",
        "negative workers", "port not a number", "workers blank", "port after a blank"])
def test_the_procfiles_web_process_stops_on_a_bad_setting_with_one_line_and_status_2(
        tmp_path, setting, message):
    """gunicorn's master checks the settings before any worker boots (commsvc.gunicorn_conf):
    no traceback per worker, no "Worker failed to boot"."""
    root = Path(__file__).resolve().parent.parent
    web = _procfile_command("web")
    # Complete production settings: development would first generate secrets and say so.
    env = {**os.environ, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY, "COMMSVC_ENV": "production",
           "PORT": "0", "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db",
           "LOG_FORMAT": "text",  # in JSON: the test below
           **setting,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    done = subprocess.run(["sh", "-c", web], env=env, cwd=root, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 2
    # gunicorn's own "Starting gunicorn" is the only other line.
    errors = [line for line in done.stderr.splitlines() if "[INFO]" not in line]
    assert errors == [message.format(root=root)]


_RETENTION = ({"RETENTION_BODIES_DAYS": "-1"},
              "RETENTION_BODIES_DAYS must be a positive number of days, at most 36500, not '-1'")


@pytest.mark.parametrize(("process", "setting", "message"), [
    ("web", *_RETENTION), ("worker", *_RETENTION), ("clock", *_RETENTION),
    # Said by commsvc.web before gunicorn is imported (it was gunicorn's ValueError traceback).
    ("web", {"WEB_CONCURRENCY": "abc"},
     "WEB_CONCURRENCY must be a whole number of web workers, 1 or more, not 'abc'"),
], ids=["web", "worker", "clock", "web, workers not a number"])
def test_a_long_running_process_in_production_says_a_bad_setting_in_a_json_error_line(
        tmp_path, process, setting, message):
    """The web, worker and clock processes log JSON lines in production, and a log pipeline
    reads nothing else: their one line saying why they stopped at start was plain text
    ("Error: ..."), without a level to alert on, among the JSON lines of gunicorn's start."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY, "COMMSVC_ENV": "production",
           "PORT": "0", "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db", **setting,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("LOG_FORMAT", None)

    done = subprocess.run(["sh", "-c", _procfile_command(process)], env=env, cwd=root,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    [error] = [line for line in lines if line["level"] != "info"]
    assert (error["level"], error["message"]) == ("error", message)
    assert error["time"].endswith("Z")


def test_a_long_running_process_with_text_logs_says_a_bad_setting_as_every_command(tmp_path):
    """LOG_FORMAT=text in production (and development's default): click's "Error: ..." line,
    as is the case when the log format itself is the bad setting."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY, "COMMSVC_ENV": "production",
           "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for setting, message in [
            ({"LOG_FORMAT": "text", "RETENTION_BODIES_DAYS": "-1"},
             "Error: RETENTION_BODIES_DAYS must be a positive number of days, at most 36500,"
             " not '-1'"),
            ({"LOG_FORMAT": "xml"}, "Error: LOG_FORMAT must be json or text, not 'xml'")]:
        done = subprocess.run(["sh", "-c", _procfile_command("worker")], env={**env, **setting},
                              cwd=root, capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stderr) == (2, message + "\n")


def test_a_one_off_command_in_production_says_no_start_up_warnings(tmp_path):
    """Found by an operator's audit: every command, --help too, began with the production
    warnings (no Twilio account, placeholder brand) as JSON lines on stderr; the worker and
    the clock still say them when they start."""
    env = {**PRODUCTION, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY,
           "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db", "COMMSVC_ENV": "production"}
    for args in (["db", "upgrade"], ["keys", "list"], ["--help"]):
        result = CliRunner().invoke(main, args, env=env, prog_name="commsvc")
        assert result.exit_code == 0, result.output
        assert result.stderr == "", args


def _in_development_with(instance: Path, tmp_path, monkeypatch, args: list[str]):
    """`commsvc ARGS` in development without secrets in the environment, instance/ being
    `instance` (its dev-secrets.json as the test left it), the database tmp_path/commsvc.db."""
    monkeypatch.setattr("commsvc.config.dev_secrets.INSTANCE_DIR", instance)
    monkeypatch.setattr("commsvc.config.dev_secrets.DEV_SECRETS_FILE",
                        instance / "dev-secrets.json")
    env = {**{name: None for name in PRODUCTION}, "COMMSVC_ENV": "development",
           "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db"}
    return CliRunner().invoke(main, args, env=env, prog_name="commsvc")


def test_an_instance_directory_it_cannot_write_is_one_line_not_a_traceback(
        tmp_path, monkeypatch):
    """Found by running `make run` in a clone whose instance/ was read-only: the development
    secrets could not be written and every process stopped with a PermissionError traceback.
    (A regular file where instance/ should be fails the same way for root, who may write
    anywhere.)"""
    instance = tmp_path / "instance"
    instance.write_text("")
    result = _in_development_with(instance, tmp_path, monkeypatch, ["db", "upgrade"])

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: the development secrets file {instance / 'dev-secrets.json'} cannot be read or"
        f" written (File exists): make {instance} writable, or set ENCRYPTION_KEYS, HMAC_KEY"
        f" and TWILIO_AUTH_TOKEN\n")


@pytest.mark.parametrize("content", ["", '{\n  "encryption_key": "cut', "[1, 2]",
                                     '{"encryption_key": "k", "hmac_key": "h"}',
                                     '{"encryption_key": "k", "hmac_key": "h",'
                                     ' "twilio_auth_token": "t"}'])
def test_a_development_secrets_file_that_is_not_whole_is_one_line_not_a_traceback(
        tmp_path, monkeypatch, content):
    """Found by trying what a fresh clone's instance/ may hold: an empty or cut-short
    dev-secrets.json (the earlier write_text's, stopped by Ctrl-C or a full disk) or one edited
    by hand stopped make run, the worker and every CLI command with a JSONDecodeError,
    TypeError or KeyError traceback. An encryption_key edited into something that is no Fernet
    key was said as "ENCRYPTION_KEYS holds a key that is not a Fernet key", a variable the
    operator had not set, instead of naming the file."""
    secrets_file = tmp_path / "dev-secrets.json"
    secrets_file.write_text(content)
    result = _in_development_with(tmp_path, tmp_path, monkeypatch, ["db", "upgrade"])

    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: the development secrets file {secrets_file} is not the one commsvc writes (")
    assert result.stderr.endswith(
        "delete it to have new secrets generated (what its encryption key encrypted becomes"
        " unreadable), or set ENCRYPTION_KEYS, HMAC_KEY and TWILIO_AUTH_TOKEN\n")
    assert secrets_file.read_text() == content  # left for the operator to look at


def test_a_development_secrets_file_it_may_not_read_says_so_not_make_the_directory_writable(
        tmp_path, monkeypatch):
    """Found by running `commsvc keys list` as a second user of a clone (setpriv): the first
    user's dev-secrets.json is mode 0600, and the line said "make instance/ writable", which it
    was. (Root reads every file, so the suite makes it a directory: EISDIR, read fails too.)"""
    secrets_file = tmp_path / "dev-secrets.json"
    secrets_file.mkdir()
    result = _in_development_with(tmp_path, tmp_path, monkeypatch, ["keys", "list"])

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: the development secrets file {secrets_file} cannot be read (Is a directory):"
        f" make it readable by this user (it is the user's who first ran commsvc here), or set"
        f" ENCRYPTION_KEYS, HMAC_KEY and TWILIO_AUTH_TOKEN\n")
