"""Edge checks for every /v1 request: a body is JSON, and no NUL character (U+0000) anywhere.

PostgreSQL text cannot hold NUL and SQLite can, so a NUL that reached a query was a 500 on one
database and stored on the other; refused here, it is the same 422 on both, before any view runs.
Twilio's webhooks are not /v1: webhooks.forms sanitises their forms.
"""
from __future__ import annotations

from flask import request

from commsvc.errors import UnsupportedMediaType, ValidationFailed

NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def _nul_field(body) -> str | None:
    """The dotted path of a key or string holding NUL in parsed JSON ("" for the body itself)."""
    pending = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and NUL in value:
            return path
        children = (value.items() if isinstance(value, dict)
                    else enumerate(value) if isinstance(value, list) else ())
        for key, child in children:
            field = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return field
            pending.append((field, child))
    return None


def _may_carry_nul(environ: dict) -> bool:
    """A quick look at the raw request (decoded path, encoded query, header values): only a
    request that may carry NUL is parsed to name where (a tenth of a consent check's CPU)."""
    return (NUL in environ.get("PATH_INFO", "") or "%00" in environ.get("QUERY_STRING", "")
            or any(NUL in value for key, value in environ.items()
                   if key.startswith(("HTTP_", "CONTENT_")) and isinstance(value, str)))


def check_v1_input() -> None:
    """before_request: both checks, for /v1 requests only (Twilio's webhooks are form posts)."""
    if request.path.startswith("/v1/"):
        _refuse_nul()
        _require_json_body()


def _refuse_nul() -> None:
    """A 422 naming where the request carries NUL (path, query argument, header, JSON field, or
    "body"). JSON can carry NUL only as a \\u0000 escape, so only bodies with one are parsed."""
    errors = {}
    if _may_carry_nul(request.environ):
        if NUL in request.path:
            errors["path"] = [NUL_MESSAGE]
        for name, value in [*request.args.items(multi=True), *request.headers.items()]:
            if NUL in name or NUL in value:
                errors[name] = [NUL_MESSAGE]
    if request.is_json and b"\\u0000" in request.get_data(cache=True):
        field = _nul_field(request.get_json(silent=True))
        if field is not None:
            errors[field or "body"] = [NUL_MESSAGE]
    if errors:
        raise ValidationFailed("The request carries a NUL character, which no field may hold.",
                               errors=errors)


def _require_json_body() -> None:
    """A request with a body must say it is JSON (415 otherwise), rather than have every field
    reported missing."""
    if request.content_length and not request.is_json:
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (got "
            f"{request.mimetype or 'no Content-Type'}).")
