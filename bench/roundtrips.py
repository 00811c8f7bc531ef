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


def _ready_count(path: str) -> int:
    with open(path, encoding="utf-8", errors="replace") as trace:
        return sum(1 for line in trace if line.startswith("B\t") and "\tReadyForQuery" in line)


def measure(client, engine, trace_path: str, send) -> dict:
    """Send one request (warm-up first), counting round trips and statements of the second."""
    send(client, warm=True)
    statements: list[str] = []

    def _record(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", _record)
    before = _ready_count(trace_path)
    response = send(client, warm=False)
    after = _ready_count(trace_path)
    event.remove(engine, "before_cursor_execute", _record)
    return {"status": response.status_code, "reply": response.get_data(as_text=True),
            "reply_bytes": len(response.get_data()), "round_trips": after - before,
            "statements": statements}


def main() -> int:
    spec = json.loads(sys.argv[1])
    from commsvc.app import create_app

    trace_fd, trace_path = tempfile.mkstemp(prefix="roundtrips-", suffix=".trace")
    os.close(trace_fd)
    results = {}
    try:
        with open(trace_path, "w") as trace_file:
            app = create_app()
            engine = app.extensions["db"].engine
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
                    results[name] = measure(client, engine, trace_path, send)
                except Exception as exc:  # report, do not hide, a failing endpoint
                    results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                trace_file.flush()
            engine.dispose()
    finally:
        os.unlink(trace_path)
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
