"""Structured logs with a request id, and a last-line filter that masks any phone number."""
from __future__ import annotations

import json
import logging
import re
import sys
import uuid

from flask import g, has_request_context, request

from commsvc.phones import mask

# E.164 after "+" or its URL encoding "%2B", or a national number: a run of 10+ digits standing
# alone, so that digits inside ids (msg_<hex>, UUIDs, Twilio SIDs) are left as they are.
_PHONE = re.compile(r"(\+|%2[Bb])(\d{6,})|(?<![\w-])\d{10,}(?![\w-])")
# Every form above has six digits in a row; a line without them needs no further regex work.
_SIX_DIGITS = re.compile(r"\d{6}")


def _mask_match(match: re.Match) -> str:
    prefix, digits = match.group(1, 2)
    if prefix is None:
        return mask(match.group(0))
    return prefix + mask("+" + digits)[1:]


def mask_phones(text: str) -> str:
    """The text with every phone number in it masked as phones.mask masks one."""
    if not _SIX_DIGITS.search(text):
        return text
    return _PHONE.sub(_mask_match, text)


class MaskPhones(logging.Filter):
    """Safety net: whatever a log line says, a phone number in it is masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg = masked
            record.args = ()
        if has_request_context():
            record.request_id = g.get("request_id", "-")
        else:
            record.request_id = "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["trace"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(json_lines: bool) -> None:
    root = logging.getLogger("commsvc")
    if getattr(root, "_commsvc_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskPhones())
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    root._commsvc_configured = True


def assign_request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if re.fullmatch(r"[A-Za-z0-9._-]{8,64}", incoming) else uuid.uuid4().hex


def add_request_id_header(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response
