"""`commsvc --help` lists commsvc's own commands and nothing of Flask's generic CLI."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from commsvc.cli import main

# A production URL whose secrets are not set: every command stops at once.
NO_SECRETS = {"COMMSVC_ENV": "production", "DATABASE_URL": "postgres://db.invalid/commsvc",
              "ENCRYPTION_KEYS": "", "HMAC_KEY": "", "TWILIO_AUTH_TOKEN": "",
              "PUBLIC_BASE_URL": ""}


def test_help_lists_the_services_commands_and_none_of_flasks_generic_ones():
    result = CliRunner().invoke(main, ["--help"])

    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:")[1].split()
    for ours in ("keys", "numbers", "logs", "retention", "db", "worker", "clock", "audit"):
        assert ours in commands
    for flasks in ("run", "shell", "routes"):
        assert flasks not in commands
    for option in ("--app", "--env-file", "--debug", "--version"):
        assert option not in result.output


def test_flasks_development_server_is_not_a_command():
    result = CliRunner().invoke(main, ["run"])

    assert result.exit_code == 2
    assert "No such command 'run'" in result.output


@pytest.mark.parametrize("args", [["--help"], ["keys", "create", "--help"],
                                  ["logs", "messages", "--help"], ["-h"],
                                  ["logs", "messages", "-h"], ["retention", "run", "-h"]])
def test_help_answers_on_a_host_whose_settings_would_stop_every_command(args):
    """A production URL without its secrets: `commsvc --help` answered only `error: production
    needs these settings`, exit 2, since listing the commands loaded the app."""
    result = CliRunner().invoke(main, args, env=NO_SECRETS)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    assert "error" not in result.output


def test_a_command_on_that_host_still_stops_at_once_with_the_settings_line():
    result = CliRunner().invoke(main, ["keys", "list"], env=NO_SECRETS)

    assert result.exit_code == 2
    assert result.output.startswith("Error: production needs these settings: ENCRYPTION_KEYS")


@pytest.mark.parametrize("command", ["worker", "clock"])
def test_the_long_running_processes_help_names_every_signal_that_stops_them(command):
    """`worker --help` named SIGTERM alone and `clock --help` none, while both stop after the
    current pass on SIGTERM, SIGINT (Ctrl-C) and SIGHUP (README, Processes)."""
    result = CliRunner().invoke(main, [command, "--help"], env=NO_SECRETS)

    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for signal_name in ("SIGTERM", "SIGINT", "SIGHUP"):
        assert signal_name in text
