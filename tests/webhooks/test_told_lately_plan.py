"""Whether a sender was already told "no conversation" (or "calls only") today is one bounded
index lookup, however many texts they sent before: on PostgreSQL, over 100k messages with a
busy sender's 20k relayed texts to one proxy number, EXPLAIN ANALYZE of the query told_lately
runs reads at most the rows it returns, through ix_messages_told_notice. Without that index it
walked the sender's texts back to the first match, all of them when there was none."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from commsvc.relay import service as relay
from tests.records.test_logs_explain import plan_nodes, plan_of

pytestmark = pytest.mark.pg_only
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)

MESSAGES, BUSY = 100_000, 20_000
SENDER, PROXY = "+14155550042", "+16465550042"


def _fill(db) -> None:
    """100k texts among 5,000 senders and 100 proxy numbers, and 20k more, relayed over the
    past weeks, from SENDER to PROXY; one "no conversation" notice told to SENDER from PROXY
    two days ago (outside the window) and one "calls only" notice an hour ago."""
    columns = ("direction, from_phone, to_phone, body, media_count, twilio_sid, outcome,"
               " status, created_at, updated_at")
    db.execute(sa.text(
        f"INSERT INTO messages ({columns})"
        " SELECT 'inbound', '+1415555' || lpad((g % 5000)::text, 4, '0'),"
        " '+1646555' || lpad((g % 100)::text, 4, '0'), NULL, 0, 'SM' || g,"
        " CASE WHEN g % 50 = 0 THEN 'no_session' ELSE 'forwarded' END, 'received',"
        " :now - g * interval '10 seconds', :now - g * interval '10 seconds'"
        " FROM generate_series(1, :n) g"), {"now": NOW, "n": MESSAGES})
    db.execute(sa.text(
        f"INSERT INTO messages ({columns})"
        " SELECT 'inbound', :sender, :proxy, NULL, 0, 'SMB' || g, 'forwarded', 'received',"
        " :now - interval '3 days' - g * interval '1 minute',"
        " :now - interval '3 days' - g * interval '1 minute'"
        " FROM generate_series(1, :n) g"),
        {"now": NOW, "n": BUSY, "sender": SENDER, "proxy": PROXY})
    db.execute(sa.text(
        f"INSERT INTO messages ({columns}) VALUES"
        " ('inbound', :sender, :proxy, NULL, 0, 'SMT1', 'no_session', 'received',"
        "  :now - interval '2 days', :now - interval '2 days'),"
        " ('inbound', :sender, :proxy, NULL, 0, 'SMT2', 'mode_not_allowed', 'received',"
        "  :now - interval '1 hour', :now - interval '1 hour')"),
        {"now": NOW, "sender": SENDER, "proxy": PROXY})
    db.execute(sa.text("ANALYZE messages"))


@pytest.fixture
def busy_db(db, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    _fill(db)
    return db


@pytest.mark.parametrize("outcome, told", [
    (relay.NO_SESSION, False),  # told two days ago: none in the window, 20k texts before it
    (relay.MODE_NOT_ALLOWED, True),  # told an hour ago
])
def test_told_lately_reads_only_the_notices_in_its_window(busy_db, outcome, told):
    plan, result = plan_of(busy_db, lambda: relay.told_lately(
        busy_db, SENDER, PROXY, outcome, NOW))
    assert result is told
    scans = [n for n in plan_nodes(plan["Plan"]) if n.get("Relation Name") == "messages"]
    assert [(n["Node Type"], n.get("Index Name")) for n in scans] in (
        [("Index Scan", "ix_messages_told_notice")],
        [("Index Only Scan", "ix_messages_told_notice")]), scans
    read = sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans)
    assert read <= 1, scans


def test_the_told_notice_index_holds_both_notices_the_query_looks_for():
    from commsvc.relay.models import TOLD_NOTICE

    assert f"'{relay.NO_SESSION}'" in str(TOLD_NOTICE)
    assert f"'{relay.MODE_NOT_ALLOWED}'" in str(TOLD_NOTICE)


PAST_SESSIONS = 2_000


def test_told_lately_reads_no_past_session_of_a_busy_sender(busy_db):
    """Found in review: the check that no session of the sender on this number began after the
    notice read every session they ever had on it (2,000 for a busy pro on a small pool, 0.7
    ms a text), as ix_participants_phone_proxy does not hold created_at. A session that began
    after the notice is open or ended after it, which the index's ended_at answers."""
    busy_db.execute(sa.text(
        "INSERT INTO sessions (id, booking_id, status, closed_reason, mode, record_calls,"
        " created_at, expires_at, closed_at)"
        " SELECT 'ses_past' || g, 'bk_past' || g, 'closed', 'ended', 'sms', false,"
        " :now - interval '3 days' - g * interval '1 hour', :now - interval '3 days',"
        " :now - interval '3 days' FROM generate_series(1, :n) g"),
        {"now": NOW, "n": PAST_SESSIONS})
    busy_db.execute(sa.text(
        "INSERT INTO session_participants (session_id, role, phone, proxy_number,"
        " counterpart_phone, active, created_at, ended_at)"
        " SELECT 'ses_past' || g, 'pro', :sender, :proxy, '+1212555' || lpad(g::text, 4, '0'),"
        " false, :now - interval '3 days' - g * interval '1 hour', :now - interval '3 days'"
        " FROM generate_series(1, :n) g"),
        {"now": NOW, "n": PAST_SESSIONS, "sender": SENDER, "proxy": PROXY})
    busy_db.execute(sa.text("ANALYZE session_participants"))
    plan, result = plan_of(busy_db, lambda: relay.told_lately(
        busy_db, SENDER, PROXY, relay.MODE_NOT_ALLOWED, NOW))
    assert result is True  # told an hour ago, and no session of theirs began since
    scans = [n for n in plan_nodes(plan["Plan"])
             if n.get("Relation Name") == "session_participants"]
    read = sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans)
    assert read <= 1, scans
