"""The `commsvc` command with a broken configuration: one line on stderr, no traceback."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from commsvc.cli import main

PRODUCTION = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/nonexistent",
    "COMMSVC_ENV": None,
    "ENCRYPTION_KEYS": None,
    "HMAC_KEY": None,
    "TWILIO_AUTH_TOKEN": None,
    "PUBLIC_BASE_URL": None,
}
COMPLETE = {"ENCRYPTION_KEYS": "not-a-fernet-key", "HMAC_KEY": "h", "TWILIO_AUTH_TOKEN": "t",
            "PUBLIC_BASE_URL": "https://commsvc.example.com"}


@pytest.mark.parametrize(("env", "message"), [
    (PRODUCTION, "production needs these settings: ENCRYPTION_KEYS, HMAC_KEY, "
                 "TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL"),
    ({**PRODUCTION, **COMPLETE}, "ENCRYPTION_KEYS holds a key that is not a Fernet key"),
])
@pytest.mark.parametrize("args", [["keys", "list"], ["db", "upgrade"], ["--help"]])
def test_config_error_is_one_line_on_stderr_and_exit_status_2(env, message, args):
    result = CliRunner().invoke(main, args, env=env, prog_name="commsvc")
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""
