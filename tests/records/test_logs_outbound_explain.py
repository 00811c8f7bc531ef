"""The platform-send side of the messages log is indexed: on PostgreSQL, over 60k outbox rows,
every filter that reads the outbox plans as index scans (EXPLAIN ANALYZE), never a sequential
scan of outbound_messages, on the first page and on one from a cursor. The relayed side's plans
are test_logs_explain.py's. The rows are made once for the module in a transaction rolled back
at its end."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from commsvc.config.settings import Retention
from commsvc.paging import decode_cursor, encode_cursor
from commsvc.records import logs_service
from commsvc.records.logs_service import LogFilter
from tests.records.test_logs_explain import NOW, big_db, plan_nodes, plan_of  # noqa: F401

pytestmark = pytest.mark.pg_only
SENDS, PHONES = 60_000, 5_000
CUSTOMER = "+12125550042"  # one of the PHONES below: a dozen sends
SENDER = "+16465550003"  # one of five pool numbers: 12k sends
HMAC_KEY = "test-hmac-key"


@pytest.fixture(scope="module")
def outbox_db(big_db):  # noqa: F811
    """test_logs_explain's 150k relayed rows, and 60k platform sends next to them."""
    big_db.execute(sa.text(
        "INSERT INTO outbound_messages (id, to_phone, from_phone, purpose, booking_id, status,"
        " next_attempt_at, attempts, twilio_sid, created_at, updated_at)"
        " SELECT 'msg_' || lpad(g::text, 24, '0'),"
        " '+1212555' || lpad((g % :phones)::text, 4, '0'),"
        " '+1646555' || lpad((g % 5)::text, 4, '0'), 'transactional', 'bk_' || (g % 5000),"
        " CASE WHEN g % 50 = 0 THEN 'queued' ELSE 'delivered' END, :now, 1, 'SM' || g,"
        " :now - g * interval '7 seconds', :now FROM generate_series(1, :n) g"),
        {"now": NOW, "phones": PHONES, "n": SENDS})
    big_db.execute(sa.text("ANALYZE outbound_messages"))
    return big_db


def _outbox_plan(db, log_filter: LogFilter, position: tuple[dt.datetime, str]):
    """The plan of the outbox's query alone: a cursor whose relayed side is used up, so that
    query is the only statement (and the one plan_of explains)."""
    filters = log_filter.for_cursor(HMAC_KEY)
    cursor = encode_cursor(0, *position, of="messages", filters=filters)
    return plan_of(db, lambda: logs_service.query_logs(
        db, "messages", log_filter, limit=50, cursor=cursor, hmac_key=HMAC_KEY,
        retention=Retention(), now=NOW, with_content=True))


@pytest.mark.parametrize("name, log_filter, indexes", [
    ("everything", LogFilter(), {"ix_outbound_messages_created_at_id"}),
    ("status", LogFilter(status="queued"), set()),
    ("outbound", LogFilter(direction="outbound"), {"ix_outbound_messages_created_at_id"}),
    ("customer", LogFilter(phone=CUSTOMER),
     {"ix_outbound_messages_to_phone", "ix_outbound_messages_from_phone"}),
    ("pool number", LogFilter(phone=SENDER),
     {"ix_outbound_messages_to_phone", "ix_outbound_messages_from_phone"}),
    ("booking", LogFilter(booking_id="bk_42"),
     {"ix_outbound_messages_booking_id"}),
    ("since", LogFilter(since=NOW - dt.timedelta(days=1)),
     {"ix_outbound_messages_created_at_id"}),
])
def test_outbox_filters_use_index_scans_on_every_page(outbox_db, name, log_filter,
                                                       indexes):
    position = (NOW + dt.timedelta(days=1), "msg_")  # above every send: the first page
    for _ in range(2):  # and the page after it
        plan, page = _outbox_plan(outbox_db, log_filter, position)
        assert page.rows and all(row.record.id.startswith("msg_") for row in page.rows)
        nodes = list(plan_nodes(plan["Plan"]))
        scans = {(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes}
        assert ("Seq Scan", "outbound_messages", None) not in scans, scans
        assert indexes <= {n.get("Index Name") for n in nodes}, scans
        if page.next_cursor is None:
            break
        position = decode_cursor(page.next_cursor, int, dt.datetime, str, of="messages",
                                 filters=log_filter.for_cursor(HMAC_KEY))[1:]
