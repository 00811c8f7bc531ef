"""The outbox gauges read the rows that are due, not the whole outbox: on PostgreSQL, with a
marketing blast of 60k texts scheduled for the morning, the /metrics query of the oldest due
text plans as index scans (EXPLAIN ANALYZE), never a sequential scan of outbound_messages. The
rows are made in a transaction rolled back at the end."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from commsvc.sending.views import outbox_metrics
from tests.records.test_logs_explain import NOW, big_db, plan_nodes, plan_of  # noqa: F401

pytestmark = pytest.mark.pg_only
SCHEDULED, QUEUED = 60_000, 50


def test_the_oldest_due_gauge_reads_no_scheduled_text_that_is_not_due_yet(big_db):  # noqa: F811
    """Found by a review: counted from when each text was due (927624b), the query read every
    queued, scheduled and sending row to find the oldest: with a blast scheduled for the
    morning, a parallel sequential scan of the outbox at every scrape of every web process
    (95 ms over 300k rows, against 0.05 ms before). A scheduled text is due at its
    next_attempt_at (its scheduled hour): only those due are read, by the index."""
    big_db.execute(sa.text(
        "INSERT INTO outbound_messages (id, to_phone, purpose, status, scheduled_for,"
        " next_attempt_at, attempts, created_at, updated_at)"
        " SELECT 'msg_' || lpad(g::text, 24, '0'), '+1212555' || lpad((g % 5000)::text, 4, '0'),"
        " CASE WHEN g <= :queued THEN 'transactional' ELSE 'marketing' END,"
        " CASE WHEN g <= :queued THEN 'queued' ELSE 'scheduled' END,"
        " CASE WHEN g <= :queued THEN NULL ELSE :now + interval '10 hours' END,"
        " CASE WHEN g <= :queued THEN :now + interval '1 minute'"
        " ELSE :now + interval '10 hours' END, 0,"
        " :now - g * interval '1 second', :now FROM generate_series(1, :n) g"),
        {"now": NOW, "queued": QUEUED, "n": SCHEDULED + QUEUED})
    big_db.execute(sa.text("ANALYZE outbound_messages"))

    plan, families = plan_of(big_db, lambda: list(outbox_metrics(big_db, NOW)))

    scans = {(n["Node Type"], n.get("Relation Name")) for n in plan_nodes(plan["Plan"])}
    assert ("Seq Scan", "outbound_messages") not in scans, scans
    [gauge] = [f for f in families if f.name == "commsvc_outbox_oldest_due_seconds"]
    assert gauge.samples[0].value == dt.timedelta(seconds=QUEUED).total_seconds()
