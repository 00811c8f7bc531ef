"""The log filters are indexed: on PostgreSQL, over 100k messages and 50k calls, the phone,
session and booking filters plan as index scans (EXPLAIN ANALYZE), never a sequential scan of
the table. The rows are made once for the module in a transaction rolled back at its end."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from commsvc.clock import FrozenClock
from commsvc.config.settings import Retention
from commsvc.records import logs_service
from commsvc.records.logs_service import LogFilter

pytestmark = pytest.mark.pg_only
NOW = FrozenClock()()

MESSAGES, CALLS, SESSIONS, PHONES = 100_000, 50_000, 5_000, 5_000
PHONE = "+14155550042"  # one of the PHONES generated below: about 60 rows in three columns


def _fill(db, now) -> None:
    """Multi-row INSERT ... SELECT generate_series: the fastest way to make the rows."""
    params = {"now": now}
    db.execute(sa.text(
        "INSERT INTO sessions (id, booking_id, status, mode, record_calls, created_at,"
        " expires_at) SELECT 'ses_' || g, 'bk_' || g, 'closed', 'sms_and_voice', false,"
        " :now, :now FROM generate_series(0, :n - 1) g"), params | {"n": SESSIONS})
    for table, count, extra_cols, extra_vals in (
        ("messages", MESSAGES, "body, media_count,", "NULL, 0,"),
        ("calls", CALLS, "duration_seconds,", "60,"),
    ):
        db.execute(sa.text(
            f"INSERT INTO {table} (session_id, booking_id, direction, from_phone, to_phone,"
            f" {extra_cols} twilio_sid, outcome, forward_to, status, created_at, updated_at)"
            " SELECT 'ses_' || (g % :sessions), 'bk_' || (g % :sessions), 'inbound',"
            " '+1415555' || lpad((g % :phones)::text, 4, '0'),"
            " '+1646555' || lpad((g % 100)::text, 4, '0'),"
            f" {extra_vals} '{table[:2].upper()}' || g, 'forwarded',"
            " '+1415555' || lpad(((g * 7 + 3) % :phones)::text, 4, '0'), 'delivered',"
            " :now - g * interval '10 seconds', :now - g * interval '10 seconds'"
            " FROM generate_series(1, :n) g"),
            params | {"n": count, "sessions": SESSIONS, "phones": PHONES})
    db.execute(sa.text("ANALYZE sessions, messages, calls, legal_holds"))


def plan_of(db, run) -> tuple[dict, list]:
    """Run the service query, capture its SQL, and EXPLAIN ANALYZE exactly that statement."""
    captured = []
    connection = db.connection()

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    sa.event.listen(connection, "before_cursor_execute", capture)
    try:
        rows = run()
    finally:
        sa.event.remove(connection, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    raw = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement,
                                     parameters).scalar()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    return plan, rows


def plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@pytest.fixture(scope="module")
def big_db(engine):
    """A session over 150k generated rows, shared by the module, rolled back at its end."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    connection = engine.connect()
    transaction = connection.begin()
    session = orm.Session(bind=connection, join_transaction_mode="create_savepoint")
    _fill(session, NOW)
    yield session
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture(scope="module")
def figures():
    lines: list[str] = []
    yield lines
    print("\n" + "\n".join(lines))


@pytest.mark.parametrize("kind", ["messages", "calls"])
@pytest.mark.parametrize("name, log_filter, indexes", [
    ("phone", LogFilter(phone=PHONE), {"from_phone_id", "to_phone_id", "forward_to_id"}),
    # A proxy number: a thousand rows in to_phone alone; each branch stops at the page size.
    ("busy phone", LogFilter(phone="+16465550042"),
     {"from_phone_id", "to_phone_id", "forward_to_id"}),
    ("session", LogFilter(session_id="ses_42"), {"session_id_id"}),
    ("booking", LogFilter(booking_id="bk_42"), {"booking_id_id"}),
    ("phone+status", LogFilter(phone=PHONE, status="delivered"),
     {"from_phone_id", "to_phone_id", "forward_to_id"}),
])
def test_filters_use_index_scans_not_sequential_scans(big_db, figures, kind, name, log_filter,
                                                      indexes):
    plan, page = plan_of(big_db, lambda: logs_service.query_logs(
        big_db, kind, log_filter, limit=50, cursor=None, hmac_key="k", retention=Retention(),
        now=NOW, with_content=True))
    assert len(page.rows) > 0
    nodes = list(plan_nodes(plan["Plan"]))
    scans = {(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes}
    assert not [s for s in scans if s[0] == "Seq Scan" and s[1] in ("messages", "calls")], scans
    used = {n.get("Index Name") for n in nodes}
    assert {f"ix_{kind}_{suffix}" for suffix in indexes} <= used, scans
    figures.append(
        f"{kind:<8} {name:<12} rows={len(page.rows):<3} execution={plan['Execution Time']:.2f}ms"
        f" planning={plan['Planning Time']:.2f}ms nodes="
        + ",".join(sorted({f"{t}({i or r})" for t, r, i in scans})))
