"""The `commsvc` command: Flask's CLI group over create_app, with each area's commands."""
from __future__ import annotations

import errno
import os
import signal
import sys
from typing import NoReturn

from commsvc.long_running import hold_stop_signals

# The Procfile's processes that run under commsvc (the web is gunicorn's, gunicorn_conf). The
# group takes no option but --help, so the command is the first argument.
_LONG_RUNNING_COMMANDS = (("worker",), ("clock",))

# Before anything else is imported: a stop signal while a worker or clock loads stops it as it
# starts. Not with --once: `worker --once` takes no signal, so one held would go unheeded.
if tuple(sys.argv[1:2]) in _LONG_RUNNING_COMMANDS and "--once" not in sys.argv[2:]:
    hold_stop_signals()

import click  # noqa: E402
from flask.cli import FlaskGroup  # noqa: E402


def fail(message: str, status: int) -> NoReturn:
    """End the command with `message` on stderr as click says every other error of a command
    (a ClickException, a usage error: "Error: ..."), and the exit `status`. SystemExit, not
    click's Exit or a ClickException: Flask prints a traceback for an Exception raised while it
    loads the app."""
    click.ClickException(message).show()
    raise SystemExit(status)


def _create_app():
    from commsvc.app import create_app
    from commsvc.config.loader import load_config
    from commsvc.config.settings import ConfigError
    from commsvc.db.sqlite import create_sqlite_file, missing_sqlite_file

    try:
        config = load_config()
        missing = missing_sqlite_file(config.database_url)
        if missing is not None and not _sets_up_the_database():
            # A read (`logs messages`, `keys list`) left an empty file behind, which the next
            # command took for a database without its schema.
            fail(f"the database is not set up: there is no SQLite file {missing};"
                 f" run `commsvc db upgrade` (`make run` does it), or set DATABASE_URL"
                 f" to the database the server uses", 1)
        create_sqlite_file(config.database_url)  # as gunicorn's master does when it starts
        # The production warnings are for the long-running processes (worker and clock say
        # them when they start): before every command's output they were noise.
        return create_app(config, startup_warnings=False)
    except ConfigError as exc:
        # A setting for the operator to fix, not a bug: one line, and the usage-error status;
        # the worker's and the clock's in their logs' format, as the web process says it.
        if _command() in _LONG_RUNNING_COMMANDS:
            from commsvc.logging_setup import stop_at_start

            stop_at_start(str(exc))
        fail(str(exc), 2)


# The commands that may start from no SQLite file: the migration makes the schema in it, and the
# OpenAPI document reads no database.
_SET_UP_COMMANDS = (("db", "upgrade"), ("openapi", "print"), ("openapi", "write"))


def _command() -> tuple[str, ...]:
    """The names of the command running (`("db", "upgrade")`)."""
    context, names = click.get_current_context(silent=True), []
    while context is not None and context.parent is not None:  # the root is `commsvc`
        names.insert(0, context.info_name)
        context = context.parent
    return tuple(names)


def _sets_up_the_database() -> bool:
    """Whether the command running is one of _SET_UP_COMMANDS."""
    return _command() in _SET_UP_COMMANDS


class _Group(FlaskGroup):
    """Flask's command group with only commsvc's own commands and options: Flask's generic ones
    (run, shell, routes; --app, --env-file, --debug, --version) mean nothing to an operator of
    this service, and `commsvc run` would start a development server beside the Procfile's."""

    _FLASK_OPTIONS = ("app", "env_file", "debug")

    def __init__(self, **kwargs):
        super().__init__(add_default_commands=False, add_version_option=False, **kwargs)
        self.params = [param for param in self.params if param.name not in self._FLASK_OPTIONS]

    # Every command is commsvc's own and added below, so `--help` (of any command) answers
    # without loading the app: Flask's lookup made it, and so stopped on a missing secret.
    get_command = click.Group.get_command
    list_commands = click.Group.list_commands

    def invoke(self, ctx):
        from sqlalchemy.exc import DBAPIError

        from commsvc.db.failures import operator_problem

        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            problem = operator_problem(exc)
            if problem is None:
                raise  # a bug: its traceback is what someone needs
            fail(problem, 1)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                _end_on_a_closed_pipe()
            # The output could not be written (`> file` on a full disk, a failing device):
            # the operator's to fix, not a bug.
            if exc.errno not in _OUTPUT_ERRNOS:
                raise
            fail(f"could not write the output: {exc.strerror}", 1)


SIGPIPE_STATUS = 128 + signal.SIGPIPE  # 141, as the shell reports `seq 1000000 | head -1`


def _end_on_a_closed_pipe() -> None:
    """The reader of the output went away (`commsvc logs messages | head -1`): end quietly with
    the status of a process that SIGPIPE stopped, as coreutils' do. click's own handling
    exited 1, the status of a failure such as a database not answering, and a `set -o
    pipefail` script could not tell the two apart."""
    # What is still buffered for stdout would fail again when Python flushes it at exit.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(SIGPIPE_STATUS) from None


_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


@click.group(cls=_Group, create_app=_create_app, load_dotenv=False, context_settings=HELP_OPTIONS)
def main():
    """commsvc: masked SMS/voice relay, consent and records under control."""


def _add_commands() -> None:
    """The commands create_app gives app.cli (which the tests' CLI runner uses), on `main` too."""
    import importlib

    from commsvc.app import CLI_MODULES, openapi_cli

    main.add_command(openapi_cli)
    for module in CLI_MODULES:
        for command in importlib.import_module(module).commands:
            main.add_command(command)
    _take_dash_h(main)


def _take_dash_h(command: click.Command) -> None:
    """-h as --help on every command itself, not through `main`'s context: click keeps each
    command's help option once built, and one first run under app.cli (the tests' runner, whose
    context has only --help) kept -h off it for every later run under `main`."""
    for sub in getattr(command, "commands", {}).values():
        sub.context_settings = {**sub.context_settings, **HELP_OPTIONS}
        _take_dash_h(sub)


_add_commands()
