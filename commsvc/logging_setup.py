"""Structured logs with a request id, and a last-line filter that masks any phone number."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from typing import NoReturn

import click
from flask import g, has_request_context, request

from commsvc.config.loader import wants_json_logs
from commsvc.config.settings import ConfigError
from commsvc.log_masking.keys import redact_keys
from commsvc.log_masking.phone_numbers import bounded, mask_phones
from commsvc.log_masking.text import phones_masked
from commsvc.log_masking.urls import redact_content
from commsvc.log_masking.words import mask_word
from commsvc.phones import is_hidden_caller_id

_PLAIN = logging.Formatter()


class MaskPhones(logging.Filter):
    """Safety net: whatever a log line says, a phone number in it is masked, in any spelling the
    API reads (a client's path or words an argument carries: "ph4155550101", "415 555 0101"
    with Unicode spaces, "415-555-CALL"), as mask_word masks a client's words."""

    @bounded
    def masked(self, message: str, keep: frozenset[str] = frozenset()) -> str:
        return mask_word(phones_masked(redact_keys(redact_content(message)), keep), keep)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.masked(message, _hidden_callers(record, message))
        if masked != message:
            record.msg = masked
            record.args = ()
        # A traceback carries what the failing code held: a database error's parameters and
        # PostgreSQL's "Failing row contains (...)", with what a client wrote (a booking id
        # "job_4155550101", "415~555~0101", "ph4155550101"): masked as a client's words
        # (mask_word) too, once the numbers of a row, comma-separated, are masked each on its
        # own (mask_phones), so that they are not read as one. Formatters print exc_text when
        # it is set.
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_word(mask_phones(_PLAIN.formatException(record.exc_info)))
        if record.stack_info:
            record.stack_info = mask_word(mask_phones(record.stack_info))
        if has_request_context():
            record.request_id = g.get("request_id", "-")
        else:
            record.request_id = "-"
        return True


def _hidden_callers(record: logging.LogRecord, message: str) -> frozenset[str]:
    """The values the line was given whole that are Twilio's keypad-spelt marker for a hidden
    caller (phones.is_hidden_caller_id: +266696687, ...), no one's number, to be shown as
    phones.mask and the logs API show them. Only where each stands alone, before the line's
    next key ("from=+266696687 to=...") or its end: followed by more, the API may read a
    number through it ("+8656696 FHG" is +86 5669 6344), and it is masked with the rest."""
    if not isinstance(record.args, tuple):
        return frozenset()
    return frozenset(
        arg for arg in record.args
        if isinstance(arg, str) and arg[:1] == "+" and is_hidden_caller_id(arg)
        and not re.search(re.escape(arg) + _NOT_BEFORE_A_KEY, message))


# What may follow a kept marker: the end of the line, or a space and the line's next key.
_NOT_BEFORE_A_KEY = r"(?!\Z| [a-z_]+=)"


def _utc_time(record: logging.LogRecord) -> str:
    """UTC with a Z and milliseconds, as the contract writes times: lines from several
    processes and hosts sort and join on it."""
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """Development lines, timed like the JSON ones (UTC with a Z), not in local time."""

    def formatTime(self, record: logging.LogRecord, datefmt=None) -> str:  # noqa: N802
        return _utc_time(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc_time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            **getattr(record, "fields", {}),  # structured extras: logger.info(..., extra=...)
        }
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["trace"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(json_lines: bool) -> None:
    root = logging.getLogger("commsvc")
    if getattr(root, "_commsvc_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskPhones())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    root._commsvc_configured = True


def logged_start_error(message: str) -> bool:
    """Log why a long-running process (web, worker, clock) cannot start as one JSON error line
    where its logs are JSON lines (production, or LOG_FORMAT=json), which a log pipeline reads
    with a level to alert on; False where they are text, or where the log format is itself the
    bad setting: the caller then says it as every command does ("Error: ...")."""
    try:
        if not wants_json_logs():
            return False
    except ConfigError:
        return False
    configure(json_lines=True)
    logging.getLogger("commsvc").error(message)
    return True


def stop_at_start(message: str) -> NoReturn:
    """End a long-running process that cannot start: logged_start_error's JSON line, else said
    as every commsvc command says an error ("Error: ...", click's own form); exit status 2."""
    if not logged_start_error(message):
        click.ClickException(message).show()
    raise SystemExit(2)


def client_request_id(incoming: str | None) -> str | None:
    """A client's X-Request-Id when it is a plain id, else None. Every log line of the request
    carries it unmasked, so one holding a phone number or an API key ("bk-4155550101-retry",
    "4155550101x") is not taken."""
    incoming = incoming or ""
    plain = re.fullmatch(r"[A-Za-z0-9._-]{8,64}", incoming) and mask_word(incoming) == incoming
    return incoming if plain else None


def assign_request_id() -> None:
    """The client's X-Request-Id when it is a plain id; else a new one."""
    g.request_id = client_request_id(request.headers.get("X-Request-Id")) or uuid.uuid4().hex


def add_request_id_header(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response
