"""gunicorn's logs as the service's own (`--logger-class`): phone numbers and API keys in
request lines and user agents masked (commsvc.log_masking), no Basic credential's user name,
and one JSON object a line where the service logs JSON (production, or LOG_FORMAT)."""
from __future__ import annotations

import functools
import re
from types import SimpleNamespace

from gunicorn.glogging import Logger

from commsvc.config.loader import masking_region, wants_json_logs
from commsvc.config.settings import ConfigError
from commsvc.log_masking.urls import mask_client_line, mask_url, wsgi_text
from commsvc.log_masking.words import mask_word
from commsvc.logging_setup import JsonFormatter, MaskPhones, client_request_id

# The atoms that carry the URL or the referer: %(r)s, %(U)s, %(q)s, %(f)s, and the same values
# reached as environ ({raw_uri}e, ...) or request header ({referer}i) atoms.
URL_ATOMS = ("r", "U", "q", "f", "{raw_uri}e", "{path_info}e", "{query_string}e",
             "{http_referer}e", "{referer}i")
# The client's own words: the User-Agent (atom and header) may carry anything, a number too,
# also glued to letters ("MyApp x4155550101"): masked as an id a client sent (mask_word).
TEXT_ATOMS = ("a", "{user-agent}i", "{http_user_agent}e")
# The atoms holding the request's own query string (alone, or in the request line or URI).
QUERY_ATOMS = ("q", "{query_string}e")
ABSENT = "-"  # gunicorn's atom for what the request lacks
# The atoms a JSON line's fields are read from (MaskingLogger.access), whatever its format.
JSON_FIELD_ATOMS = frozenset({"h", "r", "s", "B", "f", "a"})
REQUEST_ATOMS = ("r", "{raw_uri}e")

# Twilio sends a webhook whose number is set to HTTP GET with its whole form in the query
# string: a text's Body, its MediaUrlN, the caller's CallerName. Only the keys commsvc puts in
# the callback URLs it hands Twilio (record ids and Twilio SIDs) keep their values there.
WEBHOOK_PATH_PREFIX = "/webhooks/twilio/"
OWN_CALLBACK_KEYS = frozenset({"c", "m", "r", "o", "s"})
_QUERY_IN_LINE = re.compile(r"\?(\S*)")


def redact_webhook_query(query: str) -> str:
    """A Twilio webhook's query string with every value but commsvc's own ids and SIDs
    replaced by "*" (a Body in it would otherwise reach the log)."""
    parts = []
    for part in query.split("&"):
        key, equals, _value = part.partition("=")
        parts.append(part if key in OWN_CALLBACK_KEYS or not equals else f"{key}=*")
    return "&".join(parts)


def _redact_query_in(text: str) -> str:
    """A request line or URI with its query string's values redacted as above."""
    return _QUERY_IN_LINE.sub(lambda found: "?" + redact_webhook_query(found.group(1)), text,
                              count=1)


class MaskRequestText(MaskPhones):
    """MaskPhones for gunicorn's own lines, which repeat a client's request or header line as
    it came ("Invalid request from ip=...: Invalid HTTP Header: 'X-Phone ph4155550101'"):
    masked as the problem+json answer to it masks it (gunicorn_conf.write_problem)."""

    def masked(self, message: str, keep: frozenset[str] = frozenset()) -> str:
        if message.startswith(REQUEST_LINES):
            return mask_client_line(message)
        return super().masked(message, keep)  # "Booting worker with pid: 1234567" keeps its pid


# gunicorn's lines that repeat what a client sent (workers/base.py, handle_error).
REQUEST_LINES = ("Invalid request from ip=", "Error handling request")


# How many masked atom values masked_atom keeps: a client's few user agents and the request
# lines the service answers again and again (every relayed text's is the same).
MASKED_ATOMS_KEPT = 1024


@functools.lru_cache(maxsize=MASKED_ATOMS_KEPT)
def masked_atom(value: str, url: bool, region: str) -> str:
    """An access line's URL atom (url) or user-agent atom as the line shows it: masked as
    log_masking masks it where DEFAULT_REGION is `region` (the masking reads national numbers
    by it). The same answer for the same value, so kept: the user agent and the request line of
    a relayed text are the same every time, and masking them was a fifth of the line's CPU."""
    text = wsgi_text(value)
    return mask_url(text) if url else mask_word(text)


def atoms_in(access_log_format: str) -> set[str]:
    """The atom names a format uses, as gunicorn looks them up ({...} names in lower case)."""
    names = re.findall(r"%\(([^)]*)\)", access_log_format)
    return {name.lower() if name.startswith("{") else name for name in names}


# The environ keys gunicorn's atoms() reads for its own atoms (h, r, m, U, q, H, f, a); not
# HTTP_AUTHORIZATION, read for %(u)s, which is "-" here whatever it says.
ENVIRON_READ = ("REMOTE_ADDR", "REQUEST_METHOD", "RAW_URI", "SERVER_PROTOCOL", "PATH_INFO",
                "QUERY_STRING", "HTTP_REFERER", "HTTP_USER_AGENT")


def header_atoms(used: set[str]) -> tuple[frozenset[str], ...]:
    """The request header, response header and environ names ({name}i, {name}o, {name}e
    atoms) a format uses, in lower case as gunicorn keys them."""
    return tuple(frozenset(name[1:-2] for name in used
                           if name.startswith("{") and name.endswith("}" + kind))
                 for kind in "ioe")


def _named(pairs, names: frozenset[str]) -> list:
    """The (name, value) pairs whose name, in lower case, is one of names."""
    return [(name, value) for name, value in pairs if name.lower() in names] if names else []


def _escaped(value):
    return value.replace('"', '\\"') if isinstance(value, str) else value


class ShownAtoms(dict):
    """gunicorn's SafeAtoms for one format: each of its names as the format spells it, read as
    SafeAtoms reads it ({...} names in lower case) and escaped as SafeAtoms escapes it, once;
    a name the atoms lack is "-". The line's formatting then finds each in a plain dict, where
    SafeAtoms ran a Python lookup per name."""

    def __init__(self, atoms: dict, names: tuple[str, ...]):
        super().__init__((name, _escaped(atoms.get(name.lower() if name[:1] == "{" else name,
                                                   ABSENT)))
                         for name in names)

    def __missing__(self, name):
        return ABSENT


def _own(log) -> list:
    """The handlers gunicorn's setup attached (it marks them), not others' on the same logger."""
    return [handler for handler in log.handlers if getattr(handler, "_gunicorn", False)]


class MaskingLogger(Logger):
    """gunicorn's Logger; the URL atoms of each access line go through
    log_masking.urls.mask_url, the user-agent atoms through log_masking.words.mask_word.

    In JSON mode the access line is the service's JSON entry: the masked classic line as its
    message, the request id the app gave the response, and the figures as fields; gunicorn's
    own lines (start-up, worker exits, errors) get the same formatter.
    """

    def setup(self, cfg):
        super().setup(cfg)
        try:
            self.json_lines = wants_json_logs()
        except ConfigError:
            # A bad LOG_FORMAT or COMMSVC_ENV: text lines until gunicorn_conf.on_starting says
            # so as every bad setting is said (gunicorn's own report was "\nError: ...\n",
            # exit status 1).
            self.json_lines = False
        # Only what the line will show is masked: with the default format, r, f and a.
        used = atoms_in(cfg.access_log_format) | (JSON_FIELD_ATOMS if self.json_lines else set())
        self.masked_atoms = tuple(name for name in (*URL_ATOMS, *TEXT_ATOMS) if name in used)
        self.shown_atoms = tuple(sorted(used))
        self.header_atoms = header_atoms(used)
        self.atoms_wrapper_class = functools.partial(
            ShownAtoms, names=tuple(dict.fromkeys(re.findall(r"%\(([^)]*)\)",
                                                             cfg.access_log_format))))
        for handler in _own(self.error_log):
            # gunicorn names the URI in some of its own lines ("Error handling request ...",
            # "Invalid request from ip=...: Invalid HTTP request line: '...'").
            handler.addFilter(MaskRequestText())
        if self.json_lines:
            for handler in (*_own(self.error_log), *_own(self.access_log)):
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.json_lines:
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return None
        atoms = self.atoms(resp, req, environ, request_time)
        # gunicorn's own answer (its 500 for a request whose worker timed out) carries no
        # X-Request-Id: the client's own id then, if the app would have taken it.
        request_id = next((value for name, value in resp.headers
                           if name.lower() == "x-request-id"), None) or client_request_id(
            next((value for name, value in req.headers if name == "X-REQUEST-ID"), None)) or "-"
        fields = {"remote": atoms["h"], "request": atoms["r"], "status": atoms["s"],
                  "bytes": atoms["B"], "duration_ms": round(request_time.total_seconds() * 1000,
                                                            3),
                  "referer": atoms["f"], "user_agent": atoms["a"]}
        self.access_log.info(self.cfg.access_log_format, self.atoms_wrapper_class(atoms),
                             extra={"request_id": request_id, "fields": fields})
        return None

    def atoms(self, resp, req, environ, request_time):
        # gunicorn's atoms() of only the headers and environ keys the line shows: it makes an
        # atom of every request header, response header and environ key (60 or so, the default
        # format shows none), a third of the access line's cost.
        asked_in, asked_out, asked_environ = self.header_atoms
        shown_environ = {key: environ[key] for key in ENVIRON_READ if key in environ}
        shown_environ.update(_named(environ.items(), asked_environ))
        answer = SimpleNamespace(status=resp.status, sent=getattr(resp, "sent", None),
                                 headers=_named(resp.headers, asked_out))
        atoms = super().atoms(answer, _named(req.headers, asked_in), shown_environ,
                              request_time)
        # gunicorn's %(u)s is the user name of a Basic Authorization header. commsvc has no
        # user names: that is an API key sent the wrong way (`curl -u "$KEY:"`), so never shown.
        atoms["u"] = "-"
        # Werkzeug routes //webhooks/twilio/sms as /webhooks/twilio/sms: keyed on the path with
        # its slashes collapsed, not as the client wrote it (a webhook URL set as
        # /webhooks//twilio/sms is a 404, but Twilio still sends it the caller's words).
        if re.sub("/+", "/", environ.get("PATH_INFO", "")).startswith(WEBHOOK_PATH_PREFIX):
            for name in (*QUERY_ATOMS, *REQUEST_ATOMS):
                value = atoms.get(name)
                if isinstance(value, str) and value:
                    atoms[name] = (redact_webhook_query(value) if name in QUERY_ATOMS
                                   else _redact_query_in(value))
        region = masking_region()
        for name in self.masked_atoms:
            value = atoms.get(name)
            # "-": gunicorn's atom for a header the request lacks (a referer, a user agent),
            # which the masking leaves as it is; 2.5 us a line asked.
            if isinstance(value, str) and value != ABSENT:
                atoms[name] = masked_atom(value, name in URL_ATOMS, region)
        # Only the atoms the line shows. One the format names that gunicorn did not make is "-"
        # all the same (ShownAtoms, as SafeAtoms).
        return {name: atoms[name] for name in self.shown_atoms if name in atoms}
