"""Structured logs with a request id, and a last-line filter that masks any phone number."""
from __future__ import annotations

import json
import logging
import re
import sys
import uuid

from flask import g, has_request_context, request

_PHONE = re.compile(r"\+\d{6,15}")


def _mask_match(match: re.Match) -> str:
    digits = match.group(0)
    return digits[:2] + "*" * (len(digits) - 6) + digits[-4:]


class MaskPhones(logging.Filter):
    """Safety net: whatever a log line says, an E.164 number in it is masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _PHONE.search(message):
            record.msg = _PHONE.sub(_mask_match, message)
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
