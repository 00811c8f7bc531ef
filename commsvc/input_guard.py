"""Edge checks for every /v1 request: a body is JSON, no character a database cannot store,
and no argument or field the operation does not take, nor a query argument given twice.

PostgreSQL text cannot hold NUL and SQLite can, so a NUL that reached a query was a 500 on one
database and stored on the other; a lone surrogate (U+D800-U+DFFF, which JSON can carry as a
\\ud800 escape) cannot be encoded as UTF-8 for either. Refused here, each is the same 422 on
both databases, before any view runs. Twilio's webhooks are not /v1: webhooks.forms sanitises
their forms.
"""
from __future__ import annotations

import functools
import re
from urllib.parse import unquote_to_bytes

from flask import current_app, request
from werkzeug.exceptions import BadRequest, LengthRequired, RequestEntityTooLarge

from commsvc.api_docs import json_text
from commsvc.auth.guard import require_key
from commsvc.db.base import NOT_STORABLE_TEXT
from commsvc.errors import (
    REQUEST_BODY,
    ProblemError,
    UnsupportedMediaType,
    ValidationFailed,
    echoed,
)
from commsvc.fields import NOT_A_JSON_OBJECT

NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"
SURROGATE_MESSAGE = "must be valid Unicode, which a lone surrogate (U+D800 to U+DFFF) is not"
# A JSON body can carry either only as an escape: \u0000, or \ud800 to \udfff.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _problem(text: str) -> str | None:
    """Why this text cannot be stored, or None."""
    found = NOT_STORABLE_TEXT.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == NUL else SURROGATE_MESSAGE


def _unstorable_field(body) -> tuple[str, str] | None:
    """(dotted path, why) of a key or string that cannot be stored in parsed JSON ("" for the
    body itself)."""
    pending = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and (problem := _problem(value)):
            return path, problem
        children = (value.items() if isinstance(value, dict)
                    else enumerate(value) if isinstance(value, list) else ())
        for key, child in children:
            field = f"{path}.{key}" if path else str(key)
            if problem := _problem(str(key)):
                return field, problem
            pending.append((field, child))
    return None


def _may_carry_nul(environ: dict) -> bool:
    """A quick look at the raw request (decoded path, encoded query, header values): only a
    request that may carry NUL is parsed to name where (a tenth of a consent check's CPU)."""
    return (NUL in environ.get("PATH_INFO", "") or "%00" in environ.get("QUERY_STRING", "")
            or any(NUL in value for key, value in environ.items()
                   if key.startswith(("HTTP_", "CONTENT_")) and isinstance(value, str)))


def check_v1_input() -> None:
    """before_request, for /v1 requests only (Twilio's webhooks are form posts): the checks of
    a request no view's guard will see (an unknown path, a wrong method, OPTIONS, which Flask
    answers itself and which under /v1 needs a key too). A guarded view's request is checked
    by its guard once the caller is known (check_input), so that a request without a valid
    key is a 401, and one whose role may not do this a 403, whatever its input."""
    if not request.path.startswith("/v1/"):
        return
    if request.method == "OPTIONS":
        require_key()  # Flask answers OPTIONS itself: no guard will run
        check_input()
        return
    if request.routing_exception is not None:
        # An unknown path or a wrong method is a 404 or 405 whatever the request carries; only
        # a NUL in the path is named first, as on every path.
        _refuse_unstorable()
        return
    if not hasattr(_view(), "required_permission"):
        check_input()


def _view():
    """The view function the request was routed to, or None."""
    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


def check_input() -> None:
    """Every edge check of a /v1 request, in order: a body within the limit, storable
    characters, a JSON body, no argument or field the operation does not take."""
    _refuse_unbounded_body()
    _refuse_undecodable_query()
    has_body = _has_body()  # asked once: it reads two headers, and a chunked body
    _refuse_unstorable(has_body)
    if has_body:
        _require_json_body()
    _refuse_undeclared_input(has_body)


def _refuse_unbounded_body() -> None:
    """413 for a body sent without Content-Length (Transfer-Encoding: chunked) past the limit,
    as for one with it. Werkzeug stops reading such a body at MAX_CONTENT_LENGTH without a
    word, so the first 64 KiB were parsed as (truncated, invalid) JSON: a 400 that sent the
    client hunting for a JSON error."""
    environ = request.environ
    if "HTTP_TRANSFER_ENCODING" not in environ:
        return  # a body with a Content-Length, or none: Werkzeug checks it against the limit
    if "wsgi.input_terminated" not in environ:
        if _chunked():
            # A WSGI server that hands the chunked stream over undecoded and unbounded
            # (uWSGI, mod_wsgi as configured by default): Werkzeug then reads it as empty,
            # and the body would be silently ignored. gunicorn and Werkzeug's server decode it.
            raise LengthRequired("This server cannot read a chunked body: send it with a"
                                 " Content-Length.")
        return
    request.get_data(cache=True)  # up to the limit
    if environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def _refuse_undecodable_query() -> None:
    """400 for a query string whose %-escapes are not UTF-8 (?booking_id=%FF), as for such a
    JSON body: Werkzeug read them as U+FFFD and the list searched for that."""
    raw = request.query_string
    if b"%" not in raw:
        return
    try:
        unquote_to_bytes(raw).decode()
    except UnicodeDecodeError:
        raise ProblemError("The query string is not valid UTF-8 once its %-escapes are"
                           " decoded.") from None


def _refuse_unstorable(has_body: bool = True) -> None:
    """A 422 naming where the request carries NUL (path, query argument, header, JSON field, or
    "request_body") or a lone surrogate (JSON field). Only bodies with such an escape are parsed
    (has_body False: the request has none, _has_body says, so its JSON is not looked at)."""
    errors = {}
    if _may_carry_nul(request.environ):
        if NUL in request.path:
            errors["path"] = [NUL_MESSAGE]
        for name, value in [*request.args.items(multi=True), *request.headers.items()]:
            if NUL in name or NUL in value:
                errors[name] = [NUL_MESSAGE]
    if (has_body and request.is_json
            and _UNSTORABLE_ESCAPE.search(request.get_data(cache=True))):
        found = _unstorable_field(request.get_json(silent=True))
        if found is not None:
            field, problem = found
            errors[field or REQUEST_BODY] = [problem]
    if errors:
        raise ValidationFailed("The request carries a character that no field may hold.",
                               errors=errors)


def _chunked() -> bool:
    """Whether the body is sent chunked (Transfer-Encoding: chunked, no Content-Length)."""
    return "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _has_body() -> bool:
    """Whether the request carries a body: a Content-Length above 0, or a chunked body (no
    Content-Length at all: streamed by Node's fetch, requests with a generator, curl) that is
    not empty."""
    if request.content_length:
        return True
    return _chunked() and bool(request.get_data(cache=True))


def _require_json_body() -> None:
    """A request with a body (check_input asks _has_body) must say it is JSON (415 otherwise),
    rather than have every field reported missing."""
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (got "
            f"{echoed(request.mimetype) if request.mimetype else 'no Content-Type'}).")
    # gzip read as JSON was "not valid JSON": a 400. As a transfer coding too ("gzip, chunked":
    # gunicorn removes only the chunking).
    for header in ("Content-Encoding", "Transfer-Encoding"):
        codings = [coding.strip() for coding in request.headers.get(header, "").lower().split(",")]
        compressed = ", ".join(c for c in codings if c not in ("", "identity", "chunked"))
        if compressed:
            raise UnsupportedMediaType(
                f"Send the body uncompressed: {header} {echoed(compressed)} is not supported.")


UNKNOWN_FIELD = ["Unknown field."]  # as webargs words it where a view declares its arguments
# A JSON body that is not an object, as a view that declares a body answers it (BodySchema).
NOT_AN_OBJECT = {REQUEST_BODY: [NOT_A_JSON_OBJECT]}
GIVEN_TWICE = "given more than once: give each query argument once"


@functools.cache
def _declared_locations(view) -> frozenset[str]:
    """Where a view takes arguments (query, json, headers), as flask-smorest recorded them
    (fixed once the app is built: read once per view)."""
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return frozenset(parameter["in"] for parameter in parameters)


def _refuse_undeclared_input(has_body: bool) -> None:
    """Query arguments or JSON fields sent to a view that takes none are a 422 naming them, as
    unknown ones are where a view declares its own, and so is a query argument given twice: a
    typo is never silently ignored. A body that is not a JSON object ([], null, "", 5) is the
    422 every view that takes a body gives it; {} says nothing, like no body."""
    has_query = bool(request.query_string)
    if not (has_query or has_body):
        return
    view = _view()
    if view is None:
        return
    declared = _declared_locations(view)
    # No query argument takes several values: webargs would keep the first and drop the rest
    # (?status=open&status=closed answered the open ones only).
    errors = {name: [GIVEN_TWICE] for name, values in request.args.lists() if len(values) > 1}
    if has_query and "query" not in declared:
        errors.update({name: UNKNOWN_FIELD for name in request.args})
    # A body that is not UTF-8 is a 400 saying so, and a byte-order mark alone no body, as
    # where one is taken.
    if has_body and "json" not in declared and json_text(request):
        try:
            body = request.get_json()
        except BadRequest:
            raise ProblemError("The request body is not valid JSON.") from None
        if isinstance(body, dict):
            errors.update({str(name): UNKNOWN_FIELD for name in body})
        else:
            errors.update(NOT_AN_OBJECT)
    if errors:
        raise ValidationFailed(errors=errors)
