"""Whether Twilio took a text since a failed attempt (service.twilio_took_a_text_since) is asked
at every 5xx or network error, so most often during an outage, and it must stay a short index
read then: on PostgreSQL (EXPLAIN ANALYZE) it reads no text that Twilio never took. The rows
are made in a transaction rolled back at the end."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from commsvc.sending.service import twilio_took_a_text_since
from tests.records.test_logs_explain import NOW, big_db, plan_nodes, plan_of  # noqa: F401

pytestmark = pytest.mark.pg_only
DELIVERED, EXPIRED = 20_000, 20_000


def test_during_an_outage_the_took_a_text_query_reads_none_of_the_texts_it_failed(
        big_db):  # noqa: F811
    """Found by a review: the query counted `failed` as taken, and a text failed by the worker
    (expired unsent during the outage, every 4xx) keeps the next_attempt_at of its last lease
    but has no sent_at: the index range held every text the outage had failed in the window,
    each read and filtered out, at each failed attempt of each waiting text (16 ms for 43k
    expired marketing texts, on every one of thousands of retries)."""
    big_db.execute(sa.text(
        "INSERT INTO outbound_messages (id, to_phone, purpose, status, next_attempt_at,"
        " attempts, created_at, updated_at, sent_at, last_error)"
        " SELECT 'msg_' || lpad(g::text, 24, '0'), '+12125550123', 'transactional',"
        " CASE WHEN g <= :delivered THEN 'delivered' ELSE 'failed' END,"
        " CASE WHEN g <= :delivered THEN :now - interval '2 hours' - g * interval '1 second'"
        " ELSE :now - (g - :delivered) * interval '150 milliseconds' END, 1,"
        " :now - interval '3 hours', :now,"
        " CASE WHEN g <= :delivered THEN :now - interval '2 hours' - g * interval '1 second'"
        " END, CASE WHEN g > :delivered THEN 'expired' END"
        " FROM generate_series(1, :n) g"),
        {"now": NOW, "delivered": DELIVERED, "n": DELIVERED + EXPIRED})
    big_db.execute(sa.text("ANALYZE outbound_messages"))

    plan, took = plan_of(big_db, lambda: twilio_took_a_text_since(
        big_db, NOW - dt.timedelta(minutes=50)))

    assert took is False
    scans = [n for n in plan_nodes(plan["Plan"]) if n.get("Relation Name") == "outbound_messages"]
    assert "Seq Scan" not in {n["Node Type"] for n in scans}, scans
    assert sum(n.get("Rows Removed by Filter", 0) + n.get("Actual Rows", 0) * n.get(
        "Actual Loops", 1) for n in scans) < 100, scans
