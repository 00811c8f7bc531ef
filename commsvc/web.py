"""The Procfile's web command (`python -m commsvc.web <gunicorn's arguments>`): checks the
settings gunicorn reads before any hook of commsvc.gunicorn_conf can, then becomes gunicorn
(os.execv: the same process, the same arguments, as the Procfile ran it before; the gunicorn
installed beside this Python, else the one on PATH).

gunicorn reads WEB_CONCURRENCY when it is imported (the default of its --workers, which the
Procfile gives anyway): a value that is not a whole number, or one set but empty, stopped the
web process with a ValueError traceback, exit status 1; a negative one with gunicorn's own
"Error: Value must be positive: -1", and a PORT that is not a number (the Procfile's --bind)
with "Error: 'abc' is not a valid port number.", both in plain text where the logs are JSON;
and a value with blanks where the Procfile's shell splits it (WEB_CONCURRENCY blanks only, a
PORT after a blank) with gunicorn's usage line.
Such a value is now said as every bad setting is said (load_config's words, one line, JSON
where the logs are, exit status 2); any value gunicorn takes is left to gunicorn_conf, which
checks every setting. Nothing else of commsvc is imported unless a value is wrong: the loader
alone takes most of a second.
"""
from __future__ import annotations

import os
import shutil
import sys


def _gunicorn_takes(raw: str) -> bool:
    """Whether gunicorn takes the value and lets gunicorn_conf judge it: a whole number as int()
    reads it, not negative (its --workers refuses one; 0 is gunicorn_conf's to refuse)."""
    try:
        return int(raw) >= 0
    except ValueError:
        return False


def _split_by_the_shell(environ) -> str | None:
    """What is wrong with a value the Procfile's shell splits off its word (it splits the
    expanded line at blanks, before this process runs): None when nothing is."""
    concurrency, port = environ.get("WEB_CONCURRENCY", ""), environ.get("PORT", "")
    if concurrency.isspace():  # set, not empty: ${WEB_CONCURRENCY:-2} is the blanks
        return ("WEB_CONCURRENCY holds blanks only, no whole number of web workers: unset it or"
                " give one (the Procfile's shell leaves `--workers ${WEB_CONCURRENCY:-2}` without"
                " a value)")
    if port[:1].isspace():
        return (f"PORT must be a port number from 1 to 65535 with no blank before it, not"
                f" {port!r} (the Procfile's shell splits `--bind 0.0.0.0:${{PORT:-5000}}` at the"
                f" blank)")
    return None


def check_gunicorns_settings(environ) -> None:
    """Stop the process (stop_at_start) on a WEB_CONCURRENCY or PORT gunicorn cannot take, or
    one the Procfile's shell has split (blanks: gunicorn's usage line); a WEB_CONCURRENCY set
    but empty is removed, read as unset as load_config and ${WEB_CONCURRENCY:-2} read it."""
    if environ.get("WEB_CONCURRENCY") == "":
        del environ["WEB_CONCURRENCY"]
    split = _split_by_the_shell(environ)
    if split is None and all(_gunicorn_takes(environ[name])
                             for name in ("WEB_CONCURRENCY", "PORT") if environ.get(name)):
        return
    from commsvc.config.loader import web_concurrency, web_port
    from commsvc.config.settings import ConfigError
    from commsvc.logging_setup import stop_at_start

    if split is not None:
        stop_at_start(split)
    try:
        web_concurrency(environ)
        web_port(environ)
    except ConfigError as exc:
        stop_at_start(str(exc))


def _gunicorn() -> str | None:
    """The gunicorn of this interpreter's environment (`.venv/bin/python -m commsvc.web` with
    the venv not on PATH), else the first on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    return beside if os.access(beside, os.X_OK) else shutil.which("gunicorn")


def main(args: list[str]) -> None:
    check_gunicorns_settings(os.environ)
    gunicorn = _gunicorn()
    if gunicorn is None:
        from commsvc.logging_setup import stop_at_start

        stop_at_start(f"gunicorn is installed neither beside {sys.executable} nor on PATH:"
                      " install commsvc with its dependencies into that Python's environment")
    os.execv(gunicorn, ["gunicorn", *args])


if __name__ == "__main__":
    main(sys.argv[1:])
