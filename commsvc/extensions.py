"""The current app's injected dependencies, for edges (views, webhooks, CLI) to read."""
from __future__ import annotations

import datetime as dt

from flask import current_app

from commsvc.config import Config
from commsvc.errors import ValidationFailed
from commsvc.phones import InvalidPhone, normalise, normalise_recorded


def config() -> Config:
    return current_app.extensions["config"]


def now() -> dt.datetime:
    """The injected clock's time (tests move it)."""
    return current_app.extensions["clock"]()


def phone_input(raw: str, field: str = "phone", *, recorded: bool = False) -> str:
    """A phone from request input, in E.164 (national format of DEFAULT_REGION accepted), or
    422 naming the field. `recorded`: a lookup of what is stored, which may hold an E.164
    number phonenumbers does not know as valid (phones.normalise_recorded)."""
    try:
        return (normalise_recorded if recorded else normalise)(raw, config().default_region)
    except InvalidPhone as exc:
        raise ValidationFailed(errors={field: [str(exc)]}) from None
