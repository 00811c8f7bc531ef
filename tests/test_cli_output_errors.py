"""The `commsvc` command when its output cannot be written: one line on stderr, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AUTH_TOKEN, TEST_KEY

COMMSVC = str(Path(sys.executable).parent / "commsvc")


def _env(tmp_path) -> dict[str, str]:
    """Development with its secrets given: in a fresh checkout the first command generates
    instance/dev-secrets.json and says so on stderr, a line these tests do not expect."""
    return {**os.environ, "COMMSVC_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db", "ENCRYPTION_KEYS": TEST_KEY,
            "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}


def _migrated_env(tmp_path) -> dict[str, str]:
    env = _env(tmp_path)
    subprocess.run([COMMSVC, "db", "upgrade"], env=env, check=True, capture_output=True,
                   timeout=60)
    return env


def _keys_listed(env) -> list[str]:
    listed = subprocess.run([COMMSVC, "keys", "list"], env=env, capture_output=True, text=True,
                            timeout=60, check=True)
    return listed.stdout.splitlines()[1:]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [["openapi", "print"], ["openapi", "write", "/dev/full"]])
def test_a_full_disk_is_one_line_not_a_traceback(tmp_path, args):
    """Found by an operator's audit: `commsvc openapi print > spec.json` (or any command's
    output) on a full disk ended in a 30-line OSError traceback."""
    env = _env(tmp_path)
    with open("/dev/full", "w") as full:
        done = subprocess.run([COMMSVC, *args], env=env, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: could not write the output: No space left on device"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_key_whose_secret_could_not_be_written_is_not_stored(tmp_path):
    """Found by an operator's audit: `commsvc keys create ... > key.txt` on a full disk stored
    the key, then failed to write its secret: an active admin key no one could ever use or
    name but by `keys list`."""
    env = _migrated_env(tmp_path)
    with open("/dev/full", "w") as full:
        done = subprocess.run([COMMSVC, "keys", "create", "--name", "ops-admin", "--role",
                               "admin"], env=env, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: could not write the output: No space left on device"]
    assert _keys_listed(env) == []


def test_a_key_made_with_stdout_closed_is_refused_not_stored_unseen(tmp_path):
    """`commsvc keys create ... >&-` exited 0 and stored an active key whose secret it had
    written nowhere (click.echo skips a closed stdout without a word)."""
    env = _migrated_env(tmp_path)
    done = subprocess.run([COMMSVC, "keys", "create", "--name", "ops-admin", "--role",
                           "admin"], env=env, stderr=subprocess.PIPE, text=True, timeout=60,
                          preexec_fn=lambda: os.close(1))  # as the shell's `>&-`
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: stdout is closed, so the key could be shown to no one: nothing was created"]
    assert _keys_listed(env) == []


@pytest.mark.parametrize("args", [["openapi", "print"], ["keys", "list"], ["audit", "verify"]])
def test_output_to_a_reader_that_went_away_ends_quietly_with_sigpipes_status(tmp_path, args):
    """Found in review: `commsvc logs messages | head -1` ended with status 1, the status of a
    database not answering; now 141 (128 + SIGPIPE), as `seq 1000000 | head -1`, and not a
    word on stderr. The pipe's reader is gone before the first write, as `head` is once it
    has its line."""
    env = _migrated_env(tmp_path)
    subprocess.run([COMMSVC, "keys", "create", "--name", "k", "--role", "privacy"], env=env,
                   check=True, capture_output=True, timeout=60)  # something to list and audit
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run([COMMSVC, *args], env=env, stdout=writer, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, "")
