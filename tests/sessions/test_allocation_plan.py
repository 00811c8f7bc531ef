"""The allocation query is an indexed SQL query, fast with a large pool and many open sessions.

PostgreSQL only: thousands of numbers and tens of thousands of participants are generated inside
the test's rolled-back transaction, then the plan is checked (never the wall-clock time).
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from psycopg import sql as psycopg_sql
from sqlalchemy import text

from commsvc.sessions import store as session_store
from commsvc.sessions.allocation import both_sides_values, choose_proxy, proxy_query
from commsvc.sessions.service import open_or_overdue_query

pytestmark = pytest.mark.pg_only

# Kept small enough for the suite; docs/sessions.md has the figures at 50k sessions (100k rows).
NUMBERS = 2000
SESSIONS = 20_000
HOT_PHONE = "+12125550000"  # a busy pro: 1,000 sessions, 500 of them open
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)

GENERATE = """
CREATE FUNCTION pg_temp.proxy_number(i integer) RETURNS text IMMUTABLE LANGUAGE sql
AS $$ SELECT '+1' || (200 + i % 50) || '555' || lpad(i::text, 4, '0') $$;
INSERT INTO proxy_numbers (phone_number, country_code, area_code, sms, voice, mms, status,
                           created_at)
SELECT pg_temp.proxy_number(g), 1, (200 + g % 50)::text,
       true, g % 10 <> 0, false, CASE WHEN g % 100 = 0 THEN 'retired' ELSE 'active' END, :now
FROM generate_series(0, :numbers - 1) g;

INSERT INTO sessions (id, booking_id, status, mode, record_calls, created_at, expires_at)
SELECT 'ses_' || g, 'bk_' || g, CASE WHEN g % 2 = 0 THEN 'open' ELSE 'closed' END,
       'sms_and_voice', false, :now - interval '1 day', :now + interval '7 days'
FROM generate_series(0, :sessions - 1) g;

INSERT INTO session_participants (session_id, role, phone, proxy_number, counterpart_phone,
                                  active, created_at, ended_at)
SELECT 'ses_' || g, 'requester', '+1415' || lpad((g % 20000)::text, 7, '0'),
       pg_temp.proxy_number((g / 20000 * 7 + g) % :numbers),
       CASE WHEN g < 1000 THEN :hot ELSE '+1646' || lpad(g::text, 7, '0') END,
       g % 2 = 0, :now - interval '1 day',
       CASE WHEN g % 2 = 0 THEN NULL ELSE :now - interval '2 hours' END
FROM generate_series(0, :sessions - 1) g
UNION ALL
SELECT 'ses_' || g, 'pro', CASE WHEN g < 1000 THEN :hot ELSE '+1646' || lpad(g::text, 7, '0') END,
       pg_temp.proxy_number(g % :numbers),
       '+1415' || lpad((g % 20000)::text, 7, '0'),
       g % 2 = 0, :now - interval '1 day',
       CASE WHEN g % 2 = 0 THEN NULL ELSE :now - interval '2 hours' END
FROM generate_series(0, :sessions - 1) g;

ANALYZE proxy_numbers; ANALYZE sessions; ANALYZE session_participants;
"""


def _explain(db, statement) -> str:
    connection = db.connection()
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    rows = connection.exec_driver_sql(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + str(compiled),
        compiled.params)
    return "\n".join(row[0] for row in rows)


@pytest.fixture
def big_pool(db):
    for statement in GENERATE.split(";\n"):
        if statement.strip():
            db.execute(text(statement), {"now": NOW, "numbers": NUMBERS, "sessions": SESSIONS,
                                         "hot": HOT_PHONE})
    return db


def test_allocation_on_a_large_pool_is_indexed_and_keeps_the_rules(big_pool):
    db = big_pool
    for phone, counterpart in ((HOT_PHONE, "+14150000007"), ("+14150000007", HOT_PHONE)):
        plan = _explain(db, proxy_query(phone=phone, counterpart=counterpart,
                                        mode="sms_and_voice", now=NOW,
                                        cooloff_seconds=30 * 86400))
        assert "Seq Scan on session_participants" not in plan, plan
        # Both lookups (routing-rule anti-join, cool-off) reach participants by phone via an index.
        # (PostgreSQL prints the cast differently for the partial route index and the other.)
        index_lookups_by_phone = sum(plan.count(f"Index Cond: {form}") for form in (
            "(((phone)::text =", "((phone)::text =", "(phone ="))
        assert index_lookups_by_phone >= 2, plan

    chosen = choose_proxy(db, phone=HOT_PHONE, counterpart="+14150000007",
                          mode="sms_and_voice", now=NOW, cooloff_seconds=30 * 86400)
    paired = db.scalar(text(
        "SELECT count(*) FROM session_participants WHERE phone = :p AND proxy_number = :n "
        "AND active"), {"p": HOT_PHONE, "n": chosen})
    number = db.execute(text("SELECT status, voice FROM proxy_numbers WHERE phone_number = :n"),
                        {"n": chosen}).one()
    assert paired == 0 and number.status == "active" and number.voice is True
    assert chosen.startswith("+1212")  # the hot phone's own area code


def test_the_first_lookup_of_a_creation_is_indexed(big_pool):
    db = big_pool
    db.execute(text("UPDATE sessions SET expires_at = :now - interval '1 minute' "
                    "WHERE id IN ('ses_0', 'ses_2', 'ses_2000')"), {"now": NOW})
    query = open_or_overdue_query("bk_4", [HOT_PHONE, "+14150000007"], NOW)
    plan = _explain(db, query)
    assert "Seq Scan" not in plan, plan
    assert "uq_sessions_open_booking" in plan and "ix_sessions_status_expires_at" in plan, plan
    # bk_4's open session, and the overdue sessions of the hot phone (ses_2000 is not its own).
    assert sorted(s.id for s in db.scalars(query)) == ["ses_0", "ses_2", "ses_4"]


def _generic_plan(db, statement, values: dict) -> str:
    """The plan PostgreSQL keeps for `statement` once psycopg has prepared it: generic, as
    commsvc.db.engine's plan_cache_mode forces (it plans without the values)."""
    connection = db.connection()
    sql = statement.compile(dialect=connection.dialect).string
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cursor.execute(sql, values, prepare=True)  # the test's transaction is rolled back
    name = cursor.execute("SELECT name FROM pg_prepared_statements WHERE statement LIKE"
                          " 'WITH s AS%%' ORDER BY prepare_time DESC LIMIT 1").fetchone()
    cursor.execute(psycopg_sql.SQL("EXPLAIN (COSTS OFF) EXECUTE {}({})").format(
        psycopg_sql.Identifier(name[0]),
        psycopg_sql.SQL(", ").join(psycopg_sql.Literal(values[n]) for n in names)))
    return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("kind", ["first_all", "at_once"])
def test_the_first_insert_of_a_creation_keeps_an_indexed_generic_plan(big_pool, kind):
    # With the booking's open session and the phones' overdue ones asked in one OR, the plan
    # made without the values read every session (a seq scan: 2 ms of PostgreSQL's CPU a
    # creation on 20,000 sessions).
    statement = getattr(session_store._INSERTS, kind)["sms_and_voice"]._statement
    sides = sorted([("requester", HOT_PHONE, "+14150000007"),
                    ("pro", "+14150000007", HOT_PHONE)], key=lambda side: side[1])
    values = {"id": "ses_plan", "booking_id": "bk_plan", "mode": "sms_and_voice",
              "record_calls": False, "created_at": NOW, "expires_at": NOW + dt.timedelta(days=1),
              "requester": HOT_PHONE, "pro": "+14150000007", "now": NOW,
              **both_sides_values(sides, now=NOW, cooloff_seconds=30 * 86400)}
    plan = _generic_plan(big_pool, statement, values)
    assert "Seq Scan on sessions" not in plan, plan
