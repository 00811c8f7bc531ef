"""What a pool number's refusal would take from its owner (subject_scope.data_on_record) is
read through the phone columns' indexes on PostgreSQL, never a scan of the texts or calls:
an EXISTS of `touching`'s OR planned as a sequential scan, which read every text for a number
whose own texts, a few thousand of 1,000,000, were all past retention (0.85-1.3 s)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from commsvc.config.settings import Retention
from commsvc.records import subject_scope
from tests.records.test_logs_explain import (  # noqa: F401 (big_db: a fixture, for busy_db)
    NOW,
    big_db,
    plan_nodes,
    plan_of,
)

pytestmark = pytest.mark.pg_only
# 500 texts from BUSY forwarded to BUSY_TOO, every one past the metadata period: 0.5% of the
# texts, as 5,000 of 1,000,000 (measured: a sequential scan of them all, 0.85-1.3 s).
BUSY, BUSY_TOO = "+14155557777", "+14155558888"
OLD = NOW - dt.timedelta(days=3 * 365)


@pytest.fixture(scope="module")
def busy_db(big_db):  # noqa: F811 (the fixture imported above)
    """test_logs_explain's 100k texts and 50k calls, and BUSY's old ones (all rolled back)."""
    db = big_db
    db.execute(sa.text(
        "INSERT INTO messages (direction, from_phone, to_phone, media_count, twilio_sid,"
        " outcome, forward_to, status, created_at, updated_at)"
        " SELECT 'inbound', :busy, '+16465550001', 0, 'SMbusy' || g, 'forwarded',"
        " :busy_too, 'delivered', :old, :old FROM generate_series(1, 500) g"),
        {"busy": BUSY, "busy_too": BUSY_TOO, "old": OLD})
    db.execute(sa.text("ANALYZE messages"))
    return db


@pytest.mark.parametrize(("phone", "answer"), [(BUSY, (False, False)), (BUSY_TOO, (False, False)),
                                               ("+14155550042", (False, True))])
def test_data_on_record_reads_the_phone_indexes_never_the_whole_table(busy_db, phone, answer):
    plan, found = plan_of(busy_db, lambda: subject_scope.data_on_record(
        busy_db, phone, retention=Retention(), now=NOW))

    assert found == answer
    scans = {(n["Node Type"], n.get("Relation Name"), n.get("Index Name"))
             for n in plan_nodes(plan["Plan"])}
    assert not [s for s in scans if s[0] == "Seq Scan" and s[1] in ("messages", "calls")], scans

