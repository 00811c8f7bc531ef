"""Count the database round trips of one relayed text, one consent check and one session creation.

Runs the service in-process (its own create_app, production settings from the environment)
against the bench database and sends each request through Flask's test client twice: once to
warm up (first-connection queries, caches), once measured. A round trip is one wait for the
server's ReadyForQuery, counted from libpq's own protocol trace of every pooled connection, so
BEGIN, COMMIT and the pool's pre-ping count too; the SQL statements (text only, never values)
come from SQLAlchemy's before_cursor_execute.

Self-contained (imports only the service and the standard library) so the runner can start it
with the code under test first on PYTHONPATH:
    python bench/roundtrips.py '<json: requests to send>'  -> JSON on stdout
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile

from psycopg import pq
from sqlalchemy import event


def _trace_connections(engine, trace_file) -> None:
    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection, _record):
        dbapi_connection.pgconn.trace(trace_file.fileno())
        dbapi_connection.pgconn.set_trace_flags(
            pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)


_LIBC = ctypes.CDLL(None)


def _trace_size(path: str) -> int:
    # libpq writes the trace through a C stdio stream: flush every stream before reading.
    _LIBC.fflush(None)
    return os.path.getsize(path)


def _round_trips(path: str, start: int, end: int) -> list[str]:
    """One entry per round trip in this slice of the trace: what the client sent (SQL text of a
    Query or Parse, else the message type), never the parameters."""
    with open(path, "rb") as trace:
        trace.seek(start)
        lines = trace.read(end - start).decode("utf-8", "replace").splitlines()
    trips, sent = [], []
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        direction, kind = parts[0], parts[2].strip()
        if direction == "F" and kind in ("Query", "Parse"):
            text = parts[3] if len(parts) > 3 else ""
            if kind == "Parse":  # "<statement name>" "<sql>" ...
                text = text.strip().split('" "', 1)[-1]
            sent.append(" ".join(text.strip('" ').split())[:100])
        elif direction == "F" and kind in ("Bind", "Execute") and not sent:
            sent.append(f"(prepared statement {kind})")
        elif direction == "B" and kind == "ReadyForQuery":
            trips.append(" + ".join(sent) or "?")
            sent = []
    return trips


def measure(client, engines, trace_path: str, send) -> dict:
    """Send one request (warm-up first), counting round trips and statements of the second."""
    send(client, warm=True)
    statements: list[str] = []

    def _record(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(" ".join(statement.split())[:160])

    for engine in engines:
        event.listen(engine, "before_cursor_execute", _record)
    before = _trace_size(trace_path)
    response = send(client, warm=False)
    trips = _round_trips(trace_path, before, _trace_size(trace_path))
    if os.environ.get("ROUNDTRIPS_DEBUG"):
        with open(trace_path, "rb") as raw:
            raw.seek(before)
            sys.stderr.write(raw.read().decode("utf-8", "replace"))
    for engine in engines:
        event.remove(engine, "before_cursor_execute", _record)
    return {"status": response.status_code, "reply": response.get_data(as_text=True),
            "reply_bytes": len(response.get_data()), "round_trips": len(trips),
            "protocol": trips, "statements": statements}


def main() -> int:
    spec = json.loads(sys.argv[1])
    from commsvc.app import create_app

    trace_fd, trace_path = tempfile.mkstemp(prefix="roundtrips-", suffix=".trace")
    os.close(trace_fd)
    results = {}
    try:
        with open(trace_path, "w") as trace_file:
            app = create_app()
            database = app.extensions["db"]
            # The transactional pool and, on commits that have one, the autocommit pool.
            engines = getattr(database, "engines", (database.engine,))
            for engine in engines:
                engine.dispose()  # connections opened from now on are traced
                _trace_connections(engine, trace_file)
            client = app.test_client()
            for name, request in spec.items():
                def send(client, *, warm: bool, request=request):
                    chosen = request["warm"] if warm else request["measured"]
                    trace_file.flush()
                    return client.open(chosen["path"], method=chosen["method"],
                                       headers=chosen.get("headers", {}),
                                       data=chosen.get("data"),
                                       content_type=chosen.get("content_type"))
                try:
                    results[name] = measure(client, engines, trace_path, send)
                except Exception as exc:  # report, do not hide, a failing endpoint
                    results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                trace_file.flush()
            for engine in engines:
                engine.dispose()
    finally:
        os.unlink(trace_path)
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
