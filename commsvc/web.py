"""The Procfile's web command (`python -m commsvc.web <gunicorn's arguments>`): checks the
settings gunicorn reads before any hook of commsvc.gunicorn_conf can, then becomes gunicorn
(os.execvp: the same process, the same arguments, as the Procfile ran it before).

gunicorn reads WEB_CONCURRENCY when it is imported (the default of its --workers, which the
Procfile gives anyway): a value that is not a whole number, or one set but empty, stopped the
web process with a ValueError traceback, exit status 1; a negative one with gunicorn's own
"Error: Value must be positive: -1", and a PORT that is not a number (the Procfile's --bind)
with "Error: 'abc' is not a valid port number.", both in plain text where the logs are JSON.
Such a value is now said as every bad setting is said (load_config's words, one line, JSON
where the logs are, exit status 2); any value gunicorn takes is left to gunicorn_conf, which
checks every setting. Nothing else of commsvc is imported unless a value is wrong: the loader
alone takes most of a second.
"""
from __future__ import annotations

import os
import sys


def _gunicorn_takes(raw: str) -> bool:
    """Whether gunicorn takes the value and lets gunicorn_conf judge it: a whole number as int()
    reads it, not negative (its --workers refuses one; 0 is gunicorn_conf's to refuse)."""
    try:
        return int(raw) >= 0
    except ValueError:
        return False


def check_gunicorns_settings(environ) -> None:
    """Stop the process (stop_at_start) on a WEB_CONCURRENCY or PORT gunicorn cannot take; a
    WEB_CONCURRENCY set but blank is removed, read as unset as load_config and the Procfile's
    ${WEB_CONCURRENCY:-2} read it."""
    if "WEB_CONCURRENCY" in environ and not environ["WEB_CONCURRENCY"].strip():
        del environ["WEB_CONCURRENCY"]
    if all(_gunicorn_takes(environ[name]) for name in ("WEB_CONCURRENCY", "PORT")
           if environ.get(name, "").strip()):
        return
    from commsvc.config.loader import web_concurrency, web_port
    from commsvc.config.settings import ConfigError
    from commsvc.logging_setup import stop_at_start

    try:
        web_concurrency(environ)
        web_port(environ)
    except ConfigError as exc:
        stop_at_start(str(exc))


def main(args: list[str]) -> None:
    check_gunicorns_settings(os.environ)
    os.execvp("gunicorn", ["gunicorn", *args])


if __name__ == "__main__":
    main(sys.argv[1:])
