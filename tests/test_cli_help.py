"""`commsvc --help` lists commsvc's own commands and nothing of Flask's generic CLI."""
from __future__ import annotations

from click.testing import CliRunner

from commsvc.cli import main


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
