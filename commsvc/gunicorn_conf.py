"""gunicorn's settings module for the Procfile's web line (`-c python:commsvc.gunicorn_conf`).

A bad setting must stop the web process the way it stops every CLI process: one line naming
the variable, exit status 2. Without this hook gunicorn's master only learns of it when each
worker fails to boot, and prints a traceback per worker, then "Worker failed to boot".

A request gunicorn itself cannot parse (a request line past its limit, a malformed header)
never reaches the app; gunicorn answers it with an HTML page. Here that answer is problem+json
like every other error of the service (loaded in the master, so every worker has it).
"""
from __future__ import annotations

import json
import logging
import signal
from http import HTTPStatus

from gunicorn import util

from commsvc.auth.guard import REPEATED_HEADERS
from commsvc.config.loader import load_config
from commsvc.config.settings import ConfigError
from commsvc.db.sqlite import create_sqlite_file
from commsvc.errors import PROBLEM_JSON
from commsvc.log_masking.urls import mask_client_line, mask_url
from commsvc.logging_setup import stop_at_start

# A request may run longer than gunicorn's default 30 s before its worker is killed (and the
# client answered 500): the erasure or export of someone with hundreds of thousands of texts
# (an erasure takes about 60 µs a text on PostgreSQL). Twilio gives a webhook 15 s anyway.
timeout = 120
graceful_timeout = 120  # a deploy's restart lets such a request finish too


def on_starting(server) -> None:
    """Check the settings in the master, before any worker starts (a SQLite file's directory
    too: each worker's engine checked it, and the web process stopped with a traceback per
    worker and "Worker failed to boot")."""
    try:
        create_sqlite_file(load_config().database_url)
        if server.cfg.workers < 1:  # gunicorn takes --workers 0 and then serves nothing
            raise ConfigError(f"gunicorn --workers must be 1 or more, not {server.cfg.workers}")
    except ConfigError as exc:
        # Not through commsvc.cli.fail, whose import would load every command into the master.
        stop_at_start(str(exc))


def when_ready(server) -> None:
    """Ctrl-C (SIGINT) stops the web process as SIGTERM does: each worker finishes the request
    it is serving. gunicorn's own Ctrl-C was its quick shutdown, which ended every worker in
    the middle of its request with a 500: a text committed as answered with a notice that no
    one received. A second Ctrl-C is still the quick shutdown (gunicorn's stop loop)."""
    server.handle_int = server.handle_term


def post_worker_init(worker) -> None:
    """The worker's half of when_ready: Ctrl-C reaches every process of the terminal's group,
    and a worker's own SIGINT handler was the quick exit."""
    signal.signal(signal.SIGINT, worker.handle_exit)
    signal.siginterrupt(signal.SIGINT, False)  # as gunicorn leaves SIGTERM


def pre_request(worker, req) -> None:
    """Name the headers the request carried more than once in REPEATED_HEADERS (the client's
    own is dropped): the WSGI environ joins repeats with a comma, and a reason may hold one,
    so the app could not tell two X-Access-Reason headers from one reason (it joined them)."""
    # gunicorn's own pre_request, but with the path masked as the access line masks it (its
    # error log's filter reads a phone number in the words of a line, not in a raw URL's parts);
    # only when the line is written, as masking costs more than the rest of this hook.
    if worker.log.error_log.isEnabledFor(logging.DEBUG):
        worker.log.debug("%s %s", req.method, mask_url(req.path))
    marker = REPEATED_HEADERS.upper()
    req.headers = [(name, value) for name, value in req.headers if name != marker]
    seen: set[str] = set()
    repeated: set[str] = set()
    for name, _value in req.headers:
        (repeated if name in seen else seen).add(name)
    if repeated:
        req.headers.append((marker, ",".join(sorted(repeated))))


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's util.write_error, answering problem+json instead of an HTML page. Its message
    repeats the request line or header line it could not parse: masked as the access log
    masks a request line (an API key sent in a header without its colon, a number in the
    path), since a client's error log keeps the answer."""
    if status_int >= 500:  # gunicorn keeps the reason "Bad Request" for its 501 and 500
        reason = HTTPStatus(status_int).phrase
    detail = mask_client_line(mesg) if mesg else reason
    body = json.dumps({"type": reason.lower().replace(" ", "-"), "title": reason,
                       "status": status_int, "detail": detail}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: {PROBLEM_JSON}\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_problem
