"""The messages log lists the platform's own texts (the outbox) as direction "outbound" rows,
next to the relayed ones: status kept current from the outbox, the same filters, masking,
audited reasoned reads, retention and paging."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import responses
import sqlalchemy as sa
from sqlalchemy import select

from commsvc.consent import service as consent
from commsvc.paging import encode_cursor
from commsvc.records.audit import cli_actor
from commsvc.records.models import AuditEvent
from commsvc.sending.worker import run_once
from commsvc.twilio_gateway import RealTwilio
from tests.records.logdata import REQUESTER, add_message, add_session
from tests.sending.conftest import ACCOUNT_SID, MESSAGES_URL, twilio_error, twilio_message

SENDER = "+16465550000"  # the pool number platform texts go out from
CUSTOMER = "+12125550123"
BODY = "Your pro arrives at 3pm."
REASON = {"X-Access-Reason": "ticket 4411: missed appointment"}
SID = "SM" + "a" * 32


@pytest.fixture
def config(config):
    return config.with_overrides(sender_number=SENDER)


@pytest.fixture
def send(client, api_key):
    """send(to=..., body=..., booking_id=...) -> the id of the accepted platform text."""
    booking = api_key("booking")

    def post(**payload) -> str:
        payload = {"to": CUSTOMER, "body": BODY, "purpose": "transactional",
                   "booking_id": "bk_1001"} | payload
        response = client.post("/v1/messages", json=payload, headers=booking)
        assert response.status_code == 202, response.json
        return response.json["id"]

    return post


@pytest.fixture
def logs(client, api_key):
    """logs(query, role=, headers=) -> the rows of GET /v1/logs/messages?query."""

    def get(query: str = "", role: str = "ops", headers: dict | None = None) -> list[dict]:
        response = client.get("/v1/logs/messages?" + query,
                              headers=api_key(role) | (headers or {}))
        assert response.status_code == 200, response.json
        return response.json["data"]

    return get


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def _pii_reads(db):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).all()


def test_an_accepted_send_is_listed_as_outbound_queued_then_simulated_after_the_worker(
        app, send, logs):
    message_id = send()
    [row] = logs()
    assert row == {
        "id": message_id, "session_id": None, "booking_id": "bk_1001", "direction": "outbound",
        "from": "+1******0000", "to": "+1******0123", "status": "queued", "outcome": "queued",
        "twilio_sid": None, "created_at": "2026-06-01T12:00:00Z", "media_count": 0,
        "error_code": None, "body": None,
    }
    assert run_once(app).simulated == 1
    [row] = logs()
    assert (row["status"], row["outcome"]) == ("simulated", "simulated")
    assert row["twilio_sid"].startswith("SM")


def test_a_send_through_twilio_reads_sent_then_follows_its_status_callback(
        app, send, logs, mocked, twilio_post):
    message_id = send()
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(SID, to=CUSTOMER))
    assert run_once(app, RealTwilio(ACCOUNT_SID, "test-token", timeout=2.0)).sent == 1
    [row] = logs()
    assert (row["status"], row["outcome"], row["twilio_sid"]) == ("sent", "sent", SID)
    callback = twilio_post(f"/webhooks/twilio/message-status?o={message_id}",
                           {"MessageSid": SID, "MessageStatus": "delivered"})
    assert callback.status_code == 200
    [row] = logs()
    assert (row["status"], row["outcome"]) == ("delivered", "sent")


def test_a_send_twilio_refuses_reads_failed(app, send, logs, mocked):
    send()
    mocked.post(MESSAGES_URL, status=400, json=twilio_error(400, 21211, "invalid To"))
    assert run_once(app, RealTwilio(ACCOUNT_SID, "test-token", timeout=2.0)).failed == 1
    [row] = logs("status=failed")
    assert (row["status"], row["outcome"], row["twilio_sid"]) == ("failed", "failed", None)


def test_a_send_blocked_by_revoked_consent_is_found_by_status_blocked(
        app, send, logs, db, clock):
    send()
    consent.record_event(db, phone=CUSTOMER, channel="sms", purpose="transactional",
                         action="revoke", source="api", evidence={"form": "test"}, now=clock())
    db.commit()
    assert run_once(app).claimed == 0  # the revocation blocked it as recorded
    [row] = logs("status=blocked")
    assert (row["direction"], row["outcome"]) == ("outbound", "blocked_consent")


def test_direction_filter_separates_relayed_texts_from_platform_sends(send, logs, db, clock):
    add_session(db, now=clock())
    relayed = add_message(db, now=clock()).id
    db.commit()
    clock.advance(minutes=1)
    sent = send()
    rows = logs()
    assert [(r["id"], r["direction"]) for r in rows] == [(sent, "outbound"), (relayed, "inbound")]
    assert set(rows[0]) == set(rows[1])  # one row shape for both
    assert (rows[1]["session_id"], rows[1]["outcome"]) == ("ses_1", "forwarded")
    assert [r["id"] for r in logs("direction=outbound")] == [sent]
    assert [r["id"] for r in logs("direction=inbound")] == [relayed]


def test_phone_filter_finds_a_send_by_its_recipient_and_by_its_sender_number(send, logs):
    sent = send()
    send(to="+13055550199")
    assert [r["id"] for r in logs("phone=(212) 555-0123")] == [sent]
    assert len(logs(f"phone={SENDER}")) == 2
    assert logs(f"phone={REQUESTER}") == []


def test_booking_status_and_time_filters_apply_to_sends(send, logs, clock):
    first = send(booking_id="bk_1")
    clock.advance(hours=1)
    second = send(booking_id="bk_2")
    assert [r["id"] for r in logs("booking_id=bk_2")] == [second]
    assert [r["id"] for r in logs("status=queued")] == [second, first]
    assert [r["id"] for r in logs("since=2026-06-01T12:30:00Z")] == [second]
    assert [r["id"] for r in logs("until=2026-06-01T12:30:00Z")] == [first]


def test_filters_no_send_can_match_leave_the_outbox_unread(send, logs, db, clock, engine):
    add_session(db, now=clock())
    relayed = add_message(db, now=clock(), status="received").id
    db.commit()
    clock.advance(seconds=1)
    sent = send()
    assert [r["id"] for r in logs()] == [sent, relayed]
    statements = []

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for query in ("session_id=ses_1", "direction=inbound", "status=received"):
            assert [r["id"] for r in logs(query)] == [relayed]
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert statements and not [s for s in statements if "outbound_messages" in s]


def test_ops_sees_a_send_with_masked_numbers_and_no_body_and_nothing_is_audited(
        client, api_key, send, db):
    send()
    response = client.get("/v1/logs/messages", headers=api_key("ops"))
    [row] = response.json["data"]
    assert (row["from"], row["to"], row["body"]) == ("+1******0000", "+1******0123", None)
    assert CUSTOMER not in response.text and SENDER not in response.text
    assert "3pm" not in response.text
    assert _pii_reads(db) == []


@pytest.mark.parametrize("role", ["privacy", "admin"])
def test_a_reasoned_read_shows_the_send_in_full_and_is_audited(send, logs, db, role):
    message_id = send()
    assert logs(role=role)[0]["body"] is None  # without a reason: what ops sees
    [row] = logs(f"phone={CUSTOMER}", role=role, headers=REASON)
    assert (row["id"], row["from"], row["to"], row["body"]) == (
        message_id, SENDER, CUSTOMER, BODY)
    [event] = _pii_reads(db)
    assert event.reason == REASON["X-Access-Reason"]
    assert event.target == {"resource": "logs.messages", "phone": "+1******0123"}
    assert event.details == {"records": 1, "ids": [message_id]}


def test_a_send_past_retention_is_hidden_and_its_body_past_the_body_period(
        app, send, logs, clock, config):
    now = clock()
    clock.set(now - dt.timedelta(seconds=config.retention.metadata + 60))
    send(body="ancient")
    clock.set(now - dt.timedelta(seconds=config.retention.message_bodies + 60))
    old_body = send(body="old words")
    clock.set(now)
    fresh = send(body="new words")
    run_once(app)  # sent: an unsent text keeps its body until it goes out
    rows = logs(role="privacy", headers=REASON)
    assert [(r["id"], r["body"]) for r in rows] == [(fresh, "new words"), (old_body, None)]


def test_a_held_send_stays_visible_past_retention(app, client, api_key, send, logs, db, clock,
                                                  config):
    now = clock()
    clock.set(now - dt.timedelta(seconds=config.retention.metadata + 60))
    held = send(body="evidence", booking_id="bk_held")
    clock.set(now)
    run_once(app)
    assert logs(role="privacy", headers=REASON) == []
    # A relayed text of the booking too: holds.place_hold does not look in the outbox.
    add_message(db, now=now, session_id=None, booking_id="bk_held", forward_to=None)
    db.commit()
    placed = client.post("/v1/holds", headers=api_key("privacy"),
                         json={"scope": "booking", "value": "bk_held", "reason": "litigation"})
    assert placed.status_code == 201
    rows = logs("direction=outbound", role="privacy", headers=REASON)
    assert [(r["id"], r["body"]) for r in rows] == [(held, "evidence")]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_across_relayed_and_sent_texts_returns_every_row_once_newest_first(
        client, api_key, send, db, clock, limit):
    add_session(db, now=clock())
    expected = []
    for kind in "rrssrsrrss":  # relayed and platform texts interleaved in time
        clock.advance(seconds=10)
        expected.append(add_message(db, now=clock()).id if kind == "r" else send())
        db.commit()
    expected.append(add_message(db, now=clock()).id)  # the same instant as the last send
    db.commit()
    headers = api_key("ops")
    seen, cursor, pages = [], None, 0
    while True:
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get("/v1/logs/messages?" + query, headers=headers).json
        seen += [(r["created_at"], r["id"]) for r in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(i for _, i in seen if isinstance(i, int)) == sorted(
        i for i in expected if isinstance(i, int))
    assert sorted(i for _, i in seen if isinstance(i, str)) == sorted(
        i for i in expected if isinstance(i, str))
    assert len(seen) == len(expected) == len({i for _, i in seen})
    assert [at for at, _ in seen] == sorted((at for at, _ in seen), reverse=True)
    assert pages == -(-len(expected) // limit)


def test_rows_arriving_while_paging_appear_on_no_later_page(client, api_key, send, db, clock):
    add_session(db, now=clock())
    old = []
    for kind in "rsrs":
        clock.advance(seconds=1)
        old.append(add_message(db, now=clock()).id if kind == "r" else send())
        db.commit()
    headers = api_key("ops")
    first = client.get("/v1/logs/messages?limit=2", headers=headers).json
    clock.advance(seconds=1)
    send()
    add_message(db, now=clock())
    db.commit()
    second = client.get(f"/v1/logs/messages?limit=5&cursor={first['next_cursor']}",
                        headers=headers).json
    assert [r["id"] for r in first["data"] + second["data"]] == old[::-1]
    assert second["next_cursor"] is None


def test_cursors_of_the_id_only_log_and_malformed_cursors_are_422(client, api_key):
    for cursor in (
        encode_cursor(812, of="messages", filters={}),  # the relayed-only cursor of old
        encode_cursor(812, 0, 0, of="messages", filters={}),  # a number for the send's id
        encode_cursor(812, "2026-06-01", "msg_1", of="messages", filters={}),  # a string time
        "garbage!!",
    ):
        response = client.get(f"/v1/logs/messages?cursor={cursor}", headers=api_key("ops"))
        assert response.status_code == 422, cursor
        assert "cursor" in response.json["errors"]


def test_the_cli_lists_sends_masked_and_in_full_with_a_reason(runner, send, db):
    message_id = send()
    result = runner.invoke(args=["logs", "messages", "--direction", "outbound"])
    assert result.exit_code == 0, result.output
    [row] = result.output.splitlines()[1:]
    assert row.split()[:8] == [message_id, "2026-06-01T12:00:00Z", "outbound", "+1******0000",
                               "+1******0123", "queued", "queued", "-"]
    result = runner.invoke(args=["logs", "messages", "--json", "--phone", CUSTOMER,
                                 "--reason", "ticket 9"])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.output.splitlines()]
    assert (row["id"], row["to"], row["body"]) == (message_id, CUSTOMER, BODY)
    assert [e.actor for e in _pii_reads(db)] == [cli_actor()]


def test_a_cursor_of_direction_inbound_reused_without_it_is_422_not_a_log_without_sends(
        client, api_key, send, db, clock):
    """Found by the ops-logs audit: that cursor marks the outbox side as used up, so the rest
    of the unfiltered log showed none of the platform's sends (0 of 25), with a 200."""
    add_session(db, now=clock())
    for _ in range(3):
        clock.advance(seconds=1)
        add_message(db, now=clock())
        db.commit()
        send()
    headers = api_key("ops")
    inbound = client.get("/v1/logs/messages?direction=inbound&limit=1", headers=headers).json
    reused = client.get(f"/v1/logs/messages?cursor={inbound['next_cursor']}", headers=headers)
    assert reused.status_code == 422
    assert "start again without a cursor" in reused.json["errors"]["cursor"][0]
    same = client.get(f"/v1/logs/messages?direction=inbound&cursor={inbound['next_cursor']}",
                      headers=headers).json
    assert [row["direction"] for row in same["data"]] == ["inbound"] * 2
