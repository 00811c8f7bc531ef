"""The current app's injected dependencies, for edges (views, webhooks, CLI) to read."""
from __future__ import annotations

import datetime as dt

from flask import current_app

from commsvc.config.settings import Config


def config() -> Config:
    return current_app.extensions["config"]


def now() -> dt.datetime:
    """The injected clock's time (tests move it)."""
    return current_app.extensions["clock"]()
