"""gunicorn's settings module for the Procfile's web line (`-c python:commsvc.gunicorn_conf`).

A bad setting must stop the web process the way it stops every CLI process: one line naming
the variable, exit status 2. Without this hook gunicorn's master only learns of it when each
worker fails to boot, and prints a traceback per worker, then "Worker failed to boot".
"""
from __future__ import annotations

import sys

from commsvc.config import ConfigError, load_config


def on_starting(_server) -> None:
    """Check the settings in the master, before any worker starts."""
    try:
        load_config()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
