"""The error hierarchy and the one problem+json renderer (RFC 9457)."""
from __future__ import annotations

import logging
from urllib.parse import unquote_to_bytes

from flask import current_app, g, has_request_context, jsonify, request
from gunicorn.http.errors import ParseException as MalformedChunks
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import LimitedStream

from commsvc.db.failures import operator_problem, schema_missing
from commsvc.log_masking.urls import mask_url
from commsvc.log_masking.words import mask_word

log = logging.getLogger("commsvc.errors")

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """A domain or edge error that renders as problem+json with its own status and type."""

    status = 400
    type = "bad-request"
    title = "Bad Request"
    headers: dict[str, str] = {}
    default_detail: str | None = None  # the detail when none is given (else the title)

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, **extra):
        detail = detail or self.default_detail or self.title
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra

    def describe(self) -> str:
        """One line for a terminal: each field and what is wrong with it, else the detail."""
        if not self.errors:
            return self.detail
        return "; ".join(f"{field}: {' '.join(messages)}"
                         for field, messages in flat_errors(self.errors).items())


class ValidationFailed(ProblemError):
    status, type, title = 422, "validation-error", "Invalid request"
    default_detail = "The request has invalid or missing fields."


class Unauthorized(ProblemError):
    status, type, title = 401, "unauthorized", "Missing, unknown or revoked API key"
    headers = {"WWW-Authenticate": "Bearer"}  # RFC 9110: a 401 names its scheme


class Forbidden(ProblemError):
    status, type, title = 403, "forbidden", "This API key's role may not do this"


class NotFound(ProblemError):
    status, type, title = 404, "not-found", "Not found"

    @classmethod
    def no(cls, what: str, given: str, after: str = "") -> NotFound:
        """"no <what> <given><after>", the client's own input masked as logs mask it (a phone
        number sent where an id goes) and cut at ECHO_LIMIT characters; an id from a path
        whose %-escapes are not UTF-8 as the client wrote it (%FF), and said so."""
        masked, sent = mask_word(given), sent_in_path(given)
        if sent is None or masked.count("\ufffd") != len(sent):
            return cls(f"no {what} {cut(masked)}{after}")
        # Masked as read, each U+FFFD then written back as sent: masked as sent, the %XX were
        # read as UTF-8 again where a number is glued to them ("+14155550101%FF" showed
        # "+1******0101\ufffd").
        first, *rest = masked.split("\ufffd")
        shown = first + "".join(run + part for run, part in zip(sent, rest, strict=True))
        return cls(f"no {what} {cut(shown)}{after} (the path's %-escapes are not UTF-8)")


def sent_in_path(given: str) -> list[str] | None:
    """For each U+FFFD of `given`, a segment of this request's path, what the client wrote
    there: the bytes that are no UTF-8 as %XX ("%FF", "%E2%82": Werkzeug read each such run as
    U+FFFD, which an error repeating it would show though the client never wrote it), or a
    U+FFFD they did send (%EF%BF%BD). None: `given` is no segment of this path with such
    bytes."""
    if "\ufffd" not in given or not has_request_context():
        return None
    environ = request.environ
    # As sent: gunicorn's RAW_URI, Werkzeug's REQUEST_URI (its test client puts U+FFFD in
    # PATH_INFO already); else PATH_INFO, the WSGI server's bytes as Latin-1.
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    raw = (unquote_to_bytes(uri.split("?", 1)[0]) if uri
           else environ.get("PATH_INFO", "").encode("latin-1", "replace"))
    for segment in raw.split(b"/"):
        if segment.decode(errors="replace") == given:
            sent = _replaced(segment)
            return sent if any(run != "\ufffd" for run in sent) else None
    return None


def _replaced(segment: bytes) -> list[str]:
    """What each U+FFFD of segment.decode(errors="replace") stands for, in order."""
    sent: list[str] = []
    while True:
        try:
            text = segment.decode()
        except UnicodeDecodeError as error:
            sent += ["\ufffd"] * segment[:error.start].decode().count("\ufffd")
            sent.append("".join(f"%{byte:02X}" for byte in segment[error.start:error.end]))
            segment = segment[error.end:]
            continue
        return sent + ["\ufffd"] * text.count("\ufffd")


ECHO_LIMIT = 64  # characters of a client's input repeated in an error


def echoed(given: str) -> str:
    """A client's input as an error repeats it: masked as logs mask it (a phone number, an API
    key) and cut at ECHO_LIMIT characters."""
    return cut(mask_word(given))


def cut(given: str) -> str:
    """A client's (or an operator's) input as an error repeats it: at most ECHO_LIMIT
    characters."""
    return given if len(given) <= ECHO_LIMIT else given[:ECHO_LIMIT] + "…"


class Conflict(ProblemError):
    status, type, title = 409, "conflict", "Conflict"


class PoolExhausted(ProblemError):
    status, type, title = 503, "pool-exhausted", "No proxy number can be allocated"


class ConsentRequired(ProblemError):
    status, type, title = 409, "consent-required", "Consent does not allow this message"


class UnsupportedMediaType(ProblemError):
    status, type, title = 415, "unsupported-media-type", "The body must be JSON"


class ServiceUnavailable(ProblemError):
    status, type, title = 503, "service-unavailable", "Service temporarily unavailable"


# A 503 that a moment ends (the database back, a lock freed) says when to ask again.
RETRY_SHORTLY = {"Retry-After": "2"}


class Busy(ServiceUnavailable):
    """A lock held longer than a request may wait for it (db.locks.lock_or_unavailable)."""

    headers = RETRY_SHORTLY


def problem(status: int, type_: str, title: str, detail: str, errors=None, headers=None, **extra):
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        # By field name: marshmallow collects unknown fields from a set, in the order each
        # process's string hashing gives, and the app's JSON keeps the order it is given.
        body["errors"] = dict(sorted(flat_errors(errors).items()))
    body.update(extra)
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def flat_errors(errors, path: str | None = None) -> dict[str, list[str]]:
    """Validation errors as the contract's flat {field: [messages]}, however they were nested.

    A nested field is named by its dotted path, list positions included:
    {"requester": {"phone": [...]}} -> {"requester.phone": [...]} and
    {"capabilities": {0: [...]}} -> {"capabilities.0": [...]}. An object's own errors
    (marshmallow's "_schema") are the object's: {"pro": {"_schema": [...]}} -> {"pro": [...]}.
    Every message is a string. A field whose name is empty (`?=x`) is named "", as sent:
    "_schema" alone is the whole request's.
    """
    if isinstance(errors, dict):
        children = [(path if path is not None and key == "_schema" else
                     f"{path}.{field_part(key)}" if path is not None else field_part(key),
                     inner)
                    for key, inner in errors.items()]
    elif isinstance(errors, list | tuple):
        children = [(path, inner) for inner in errors]
    else:
        return {"_schema" if path is None else path: [str(errors)]}
    flat: dict[str, list[str]] = {}
    for field, inner in children:
        for name, messages in flat_errors(inner, field).items():
            flat.setdefault(name, []).extend(messages)
    return flat


FIELD_PART_LIMIT = 100  # characters of each part of a field's name in `errors`


def field_part(key) -> str:
    """One part of a field's name as `errors` gives it. An unknown field's name is the
    client's own: a phone number or an API key in it is masked as logs mask it, and it is
    cut at FIELD_PART_LIMIT characters."""
    return mask_word(str(key))[:FIELD_PART_LIMIT]


# What `errors` names the body as a whole by (one that is not a JSON object, or holds NUL):
# marshmallow's "_schema" meant nothing to a client, and "body" is a field of POST /v1/messages.
REQUEST_BODY = "request_body"
# marshmallow's name for an error of a whole location, as `errors` names it instead.
_WHOLE = {"json": REQUEST_BODY}


def _flatten_webargs(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {...}}): drop it; problem() flattens it.
    A location's own errors ("_schema") are named for it: the body's are request_body."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update({_WHOLE.get(location, location) if name == "_schema" else name: value
                         for name, value in fields.items()})
        else:
            flat[location] = fields
    return flat


def render_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if error.code == 422 and messages:
        return render_problem(ValidationFailed(errors=_flatten_webargs(messages)))
    slug = (error.name or "error").lower().replace(" ", "-")
    # One title per type (RFC 9457): a path no route has is "not-found" as a missing session is.
    title = NotFound.title if slug == NotFound.type else error.name
    detail = error.description or error.name
    if error.code == 400 and messages and "json" in str(messages).lower():
        detail = "The request body is not valid JSON."
    if error.code == 413:
        detail = _too_large()
    # The exception's own headers but its HTML Content-Type: a 416's Content-Range, ...
    headers = {key: value for key, value in error.get_headers()
               if key.lower() != "content-type"}
    if methods := sorted(getattr(error, "valid_methods", None) or ()):  # a 405
        headers["Allow"] = ", ".join(methods)  # sorted: the same on every run
        detail = (f"{echoed(request.method)} is not allowed on this path; it takes"
                  f" {headers['Allow']}.")
    return problem(error.code or 500, slug, title, detail, headers=headers)


def _too_large() -> str:
    """A 413's detail, from the configured limits, so that it stays true if they change."""
    config = current_app.config
    length, limit = request.content_length, config["MAX_CONTENT_LENGTH"]
    if length is None:  # chunked: the body's 413 comes once it is read up to the limit
        stream = request.stream
        within = isinstance(stream, LimitedStream) and not stream.is_exhausted
    else:
        within = length <= limit
    if within:  # Werkzeug's other 413: a multipart form of too many parts
        return f"A form may have at most {config['MAX_FORM_PARTS']:,} fields."
    return f"A request body may be at most {limit:,} bytes ({limit / 1024:g} KiB)."


def render_problem(error: ProblemError):
    return problem(error.status, error.type, error.title, error.detail, error.errors,
                   headers=error.headers, **error.extra)


def render_database_error(error: DBAPIError):
    why = operator_problem(error)
    if why is None:
        return render_unexpected(error)
    if schema_missing(error):
        log.error("database unavailable: %s", why)
        return problem(503, "database-unavailable", "Database unavailable",
                       "The database is not ready for this service.")
    log.warning("database unavailable: %s", why)
    return problem(503, "database-unavailable", "Database unavailable",
                   "The database is not answering; try again shortly.",
                   headers=RETRY_SHORTLY)


def render_too_deep(_error: RecursionError):
    # Python's JSON parser gives up on pathologically nested input with RecursionError.
    return problem(400, "bad-request", "Bad Request", "The request body is nested too deeply.")


def render_malformed_chunks(_error: MalformedChunks):
    # gunicorn decodes a chunked body as the app reads it: a chunk size that is not hex, a
    # chunk not ended by CRLF, a bad extension or trailer raise its parse error through the
    # read. Gunicorn answers the same errors in a request's headers with a 400.
    return problem(400, "bad-request", "Bad Request",
                   "The request body's chunked transfer encoding is malformed.")


def render_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return render_http_exception(error)
    # The path as the access log shows it: a number in it written as the API reads one
    # ("/v1/consent/ph4155550101") is more than the log filter's mask_phones reads.
    log.exception("unhandled error on %s %s", request.method, mask_url(request.path))
    return problem(500, "internal-error", "Internal error",
                   "Something went wrong; the request id identifies it in the logs.")


def init_app(app) -> None:
    app.register_error_handler(ProblemError, render_problem)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(DBAPIError, render_database_error)
    app.register_error_handler(RecursionError, render_too_deep)
    app.register_error_handler(MalformedChunks, render_malformed_chunks)
    app.register_error_handler(Exception, render_unexpected)
