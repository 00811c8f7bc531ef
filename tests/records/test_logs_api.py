"""GET /v1/logs/messages and /v1/logs/calls: filters, paging, masking per role, audited reads."""
from __future__ import annotations

import datetime as dt
import functools

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from commsvc.records import audit
from commsvc.records.models import AuditEvent
from commsvc.relay.models import Message
from tests.records.logdata import (
    PRO,
    PROXY_P,
    PROXY_R,
    REQUESTER,
    STRANGER,
    add_call,
    add_message,
    add_session,
)
from tests.records.test_retention import make_outbound

MESSAGE_FIELDS = {"id", "session_id", "booking_id", "direction", "from", "to", "status",
                  "outcome", "twilio_sid", "created_at", "media_count", "error_code", "body"}
CALL_FIELDS = (MESSAGE_FIELDS - {"media_count", "error_code", "body"}
               | {"duration_seconds", "recording"})
REASON = {"X-Access-Reason": "ticket 4411: harassment report"}


@pytest.fixture
def conversation(db, clock):
    add_session(db, now=clock())
    first = add_message(db, now=clock(), body="Is 9am ok?")
    clock.advance(minutes=1)
    reply = add_message(db, now=clock(), from_phone=PRO, to_phone=PROXY_P, forward_to=REQUESTER,
                        body="Yes, see you then")
    call = add_call(db, now=clock(), recording_sid="RE" + "1" * 32)
    db.commit()
    return first, reply, call


def _message_ids(client, headers, query: str) -> list:
    """The ids GET /v1/logs/messages?<query> lists (a 200)."""
    response = client.get("/v1/logs/messages?" + query, headers=headers)
    assert response.status_code == 200, response.json
    return [r["id"] for r in response.json["data"]]


def _audit_events(db):
    return db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_ops_sees_masked_numbers_and_no_bodies_and_nothing_is_audited(
        client, api_key, conversation, db):
    response = client.get("/v1/logs/messages", headers=api_key("ops"))
    assert response.status_code == 200
    rows = response.json["data"]
    assert [r["id"] for r in rows] == [conversation[1].id, conversation[0].id]  # newest first
    assert set(rows[0]) == MESSAGE_FIELDS
    assert rows[1]["from"] == "+1******0101" and rows[1]["to"] == "+1******0001"
    assert all(r["body"] is None for r in rows)
    assert REQUESTER not in response.text and "9am" not in response.text
    assert not any(e.action == "pii.read" for e in _audit_events(db))


@pytest.mark.parametrize("role", ["privacy", "admin"])
def test_privileged_role_without_reason_sees_what_ops_sees(client, api_key, conversation, db,
                                                             role):
    response = client.get("/v1/logs/messages", headers=api_key(role))
    assert response.status_code == 200
    assert all(r["body"] is None for r in response.json["data"])
    assert REQUESTER not in response.text and PRO not in response.text
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).all()


@pytest.mark.parametrize("role", ["privacy", "admin"])
def test_reasoned_read_shows_full_numbers_and_bodies_and_is_audited(
        client, api_key, conversation, db, role):
    headers = api_key(role) | REASON
    response = client.get(f"/v1/logs/messages?phone={REQUESTER}&limit=10", headers=headers)
    assert response.status_code == 200
    rows = response.json["data"]
    assert {r["body"] for r in rows} == {"Is 9am ok?", "Yes, see you then"}
    assert rows[1]["from"] == REQUESTER and rows[1]["to"] == PROXY_R
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).one()
    assert event.reason == REASON["X-Access-Reason"]
    assert event.actor.startswith("key:")
    assert event.target == {"resource": "logs.messages", "phone": "+1******0101"}
    assert event.details == {"records": 2, "ids": [r["id"] for r in rows]}
    assert REQUESTER not in str(event.target) + str(event.details)


def test_reasoned_call_read_is_audited_with_its_count(client, api_key, conversation, db):
    response = client.get("/v1/logs/calls?session_id=ses_1", headers=api_key("privacy") | REASON)
    assert response.status_code == 200
    [row] = response.json["data"]
    assert set(row) == CALL_FIELDS
    assert row["from"] == REQUESTER
    assert row["duration_seconds"] == 65
    assert row["recording"] == {"sid": "RE" + "1" * 32, "duration": 65, "status": "completed"}
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).one()
    assert event.target == {"resource": "logs.calls", "session_id": "ses_1"}
    assert event.details == {"records": 1, "ids": [row["id"]]}


def test_a_reason_written_in_utf8_is_audited_as_written(client, api_key, conversation, db):
    # What a WSGI server hands over for UTF-8 bytes (PEP 3333: decoded as ISO-8859-1)
    sent = "dossier café ☕".encode().decode("latin-1")
    response = client.get("/v1/logs/calls", headers=api_key("privacy") | {
        "X-Access-Reason": sent})
    assert response.status_code == 200
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).one()
    assert event.reason == "dossier café ☕"


@pytest.mark.parametrize("sent", [b"dossier caf\xe9", b"ticket \x80 42", b"\x83\x65\x83\x58\x83g"])
def test_a_reason_whose_bytes_are_not_utf8_is_refused_as_the_clis_is(
        client, api_key, conversation, db, sent):
    """Found by an audit: bytes that are not UTF-8 (Latin-1, cp1252, Shift JIS) were stored
    read as ISO-8859-1 in the audit trail, which is never edited: a guess, mojibake for all
    but Latin-1, where `commsvc logs --reason` refuses them (API.md: UTF-8 in)."""
    response = client.get("/v1/logs/calls", headers=api_key("privacy") | {
        "X-Access-Reason": sent.decode("latin-1")})  # as the WSGI server hands them over
    assert response.status_code == 422
    assert response.json["errors"] == {"X-Access-Reason": ["must be UTF-8 text"]}
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).all() == []


def test_ops_sees_masked_calls(client, api_key, conversation):
    [row] = client.get("/v1/logs/calls", headers=api_key("ops")).json["data"]
    assert row["from"] == "+1******0101" and row["to"] == "+1******0001"


def test_booking_key_may_not_read_the_logs(client, api_key, conversation):
    for path in ("/v1/logs/messages", "/v1/logs/calls"):
        response = client.get(path, headers=api_key("booking"))
        assert response.status_code == 403
        assert response.content_type == "application/problem+json"


def test_ops_sending_a_reason_is_refused_and_nothing_is_recorded(
        client, api_key, conversation, db):
    response = client.get("/v1/logs/messages", headers=api_key("ops") | REASON)
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).all()


@pytest.mark.parametrize("reason", ["  ", ".", "-", " ... ", "²", "ticket 5\x1b[2J",
                                    "ticket " + "x" * 500])
def test_an_empty_reason_is_refused(client, api_key, conversation, db, reason):
    """Punctuation alone states no reason either (a black-box audit unlocked bodies with ".")."""
    response = client.get("/v1/logs/messages",
                          headers=api_key("privacy") | {"X-Access-Reason": reason})
    assert response.status_code == 422
    assert "X-Access-Reason" in response.json["errors"]
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).all()


def test_the_read_fails_when_its_audit_event_cannot_be_written(
        client, api_key, conversation, db, monkeypatch):
    headers = api_key("privacy") | REASON

    def failing_record(*args, **kwargs):
        raise OperationalError("INSERT INTO audit_events", {}, Exception("disk full"))

    monkeypatch.setattr(audit, "record", failing_record)
    response = client.get("/v1/logs/messages", headers=headers)
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert "9am" not in response.text and REQUESTER not in response.text


def test_phone_filter_matches_sender_recipient_and_forwarded_to(client, api_key, db, clock):
    add_session(db, now=clock())
    sent = add_message(db, now=clock(), from_phone=REQUESTER, forward_to=PRO)
    received = add_message(db, now=clock(), from_phone=PRO, to_phone=PROXY_P,
                           forward_to=REQUESTER)
    clock.advance(minutes=1)
    outbound = make_outbound(db, created_at=clock(), to_phone=REQUESTER)
    add_message(db, now=clock(), from_phone=STRANGER, to_phone=PROXY_R, forward_to=None,
                session_id=None, booking_id=None, outcome="no_session")
    db.commit()
    ids = [r["id"] for r in client.get(
        "/v1/logs/messages?phone=(415) 555-0101", headers=api_key("ops")).json["data"]]
    assert ids == [outbound.id, received.id, sent.id]


def test_an_unencoded_plus_in_the_phone_filter_is_the_plus(client, api_key, db, clock):
    """`?phone=+447911123456` unencoded arrives as " 447911123456", which read as a national
    US number is no number at all: a 422 for the query a shell's curl -G -d sends."""
    sent = add_message(db, now=clock(), from_phone="+447911123456", forward_to=None,
                       session_id=None, booking_id=None, outcome="no_session")
    db.commit()
    response = client.get("/v1/logs/messages?phone=+447911123456", headers=api_key("ops"))

    assert response.status_code == 200, response.json
    assert [r["id"] for r in response.json["data"]] == [sent.id]


def test_filters_by_session_booking_status_direction_and_time(client, api_key, db, clock):
    add_session(db, now=clock())
    add_session(db, now=clock(), session_id="ses_2", booking_id="bk_2002", status="closed")
    early = add_message(db, now=clock(), status="delivered")
    clock.advance(hours=1)
    failed = add_message(db, now=clock(), status="failed", session_id="ses_2",
                         booking_id="bk_2002")
    clock.advance(hours=1)
    outbound = make_outbound(db, created_at=clock(), to_phone=REQUESTER, booking_id="bk_1001",
                             status="sent")
    db.commit()
    headers = api_key("ops")
    ids = functools.partial(_message_ids, client, headers)

    assert ids("session_id=ses_2") == [failed.id]
    assert ids("booking_id=bk_1001") == [outbound.id, early.id]
    assert ids("status=failed") == [failed.id]
    assert ids("direction=outbound") == [outbound.id]
    assert ids("since=2026-06-01T13:00:00Z") == [outbound.id, failed.id]
    assert ids("until=2026-06-01T13:00:00Z") == [early.id]
    assert ids("since=2026-06-01T12:30:00Z&until=2026-06-01T13:30:00Z") == [failed.id]
    # Found by an audit: an offset's "+" sent unencoded arrives as a space (422); it is read
    # back only where the query string has the "+" (an encoded space stays a 422).
    assert ids("since=2026-06-01T18:00:00+05:00") == [outbound.id, failed.id]
    assert ids("until=2026-06-01T18:30:00+05:00&since=2026-06-01T17:30:00%2B05:00") == [failed.id]
    assert client.get("/v1/logs/messages?since=2026-06-01T18:00:00%2005:00",
                      headers=headers).status_code == 422


def test_a_time_finer_than_a_microsecond_is_not_cut_to_the_microsecond_before_it(
        client, api_key, db, clock):
    """Found by a time audit: Python drops a time's digits past the sixth, so a Go client's
    since=...00.2500001Z (RFC3339Nano) listed a text of 12:00:00.250000, before it, and
    until=...00.2500001Z left that text out, though it came before."""
    clock.set(dt.datetime(2026, 6, 1, 12, 0, 0, 250000, tzinfo=dt.UTC))
    add_session(db, now=clock())
    text = add_message(db, now=clock())
    db.commit()
    headers = api_key("ops")
    ids = functools.partial(_message_ids, client, headers)

    assert ids("since=2026-06-01T12:00:00.2500001Z") == []
    assert ids("until=2026-06-01T12:00:00.2500001Z") == [text.id]
    assert ids("since=2026-06-01T12:00:00.250000000Z&until=2026-06-01T12:00:00.250000001Z") \
        == [text.id]
    assert ids("since=2026-06-01T17:30:00,2500009%2B05:30") == []
    response = client.get("/v1/logs/messages?until=9999-12-31T23:59:59.9999999Z",
                          headers=headers)
    assert response.status_code == 422 and "until" in response.json["errors"]


@pytest.mark.parametrize("query, field", [
    ("phone=12", "phone"),
    ("phone=not-a-number", "phone"),
    ("since=yesterday", "since"),
    ("until=2026-13-01T00:00:00Z", "until"),
    ("since=2026-06-02T00:00:00Z&until=2026-06-01T00:00:00Z", "until"),
    ("status=teleported", "status"),
    ("direction=sideways", "direction"),
    ("cursor=garbage!!", "cursor"),
    ("cursor=WzEsImEiXQ", "cursor"),  # well-formed base64 of [1,"a"]: the wrong key type
    ("limit=0", "limit"),
    ("limit=201", "limit"),
    ("limit=ten", "limit"),
])
def test_invalid_filters_are_422_problems(client, api_key, query, field):
    response = client.get("/v1/logs/messages?" + query, headers=api_key("ops"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]


def test_unknown_call_status_is_refused_on_calls_only(client, api_key):
    headers = api_key("ops")
    assert client.get("/v1/logs/calls?status=delivered", headers=headers).status_code == 422
    assert client.get("/v1/logs/messages?status=delivered", headers=headers).status_code == 200
    assert client.get("/v1/logs/calls?status=no-answer", headers=headers).status_code == 200


def test_cursor_paging_is_stable_when_rows_arrive_between_pages(client, api_key, db, clock):
    add_session(db, now=clock())
    old = [add_message(db, now=clock.advance(seconds=1)).id for _ in range(5)]
    db.commit()
    headers = api_key("ops")
    first = client.get("/v1/logs/messages?limit=2", headers=headers).json
    assert [r["id"] for r in first["data"]] == old[:-3:-1]
    for _ in range(3):
        add_message(db, now=clock.advance(seconds=1))
    db.commit()
    seen = [r["id"] for r in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/v1/logs/messages?limit=2&cursor={cursor}", headers=headers).json
        seen += [r["id"] for r in page["data"]]
        cursor = page["next_cursor"]
    assert seen == old[::-1]


def test_last_page_has_no_next_cursor(client, api_key, conversation):
    page = client.get("/v1/logs/messages?limit=2", headers=api_key("ops")).json
    assert len(page["data"]) == 2 and page["next_cursor"] is None


def test_a_body_whose_key_is_gone_reads_as_unavailable(client, api_key, conversation, db):
    foreign = Fernet(Fernet.generate_key()).encrypt(b"secret").decode()
    db.execute(sa.text("UPDATE messages SET body = :body WHERE id = :id"),
               {"body": foreign, "id": conversation[0].id})
    db.commit()
    response = client.get("/v1/logs/messages", headers=api_key("privacy") | REASON)
    assert response.status_code == 200
    rows = {r["id"]: r for r in response.json["data"]}
    assert rows[conversation[0].id]["body"] is None
    assert rows[conversation[0].id]["body_unavailable"] is True
    assert rows[conversation[1].id]["body"] == "Yes, see you then"
    assert "body_unavailable" not in rows[conversation[1].id]


def test_past_retention_data_is_hidden_before_the_job_runs(client, api_key, db, clock, config):
    add_session(db, now=clock())
    now = clock()
    very_old = add_message(db, now=now - dt.timedelta(seconds=config.retention.metadata + 60))
    body_expired = add_message(
        db, now=now - dt.timedelta(seconds=config.retention.message_bodies + 60),
        body="old words")
    fresh = add_message(db, now=now, body="new words")
    old_call = add_call(db, now=now - dt.timedelta(seconds=config.retention.recordings + 60),
                        recording_sid="RE" + "2" * 32)
    db.commit()
    headers = api_key("privacy") | REASON
    rows = client.get("/v1/logs/messages", headers=headers).json["data"]
    assert [r["id"] for r in rows] == [fresh.id, body_expired.id]
    assert very_old.id not in [r["id"] for r in rows]
    assert [r["body"] for r in rows] == ["new words", None]
    [call] = client.get("/v1/logs/calls", headers=headers).json["data"]
    assert call["id"] == old_call.id and call["recording"] is None


def test_held_data_stays_visible_past_retention(client, api_key, db, clock, config):
    add_session(db, now=clock())
    old = add_message(db, now=clock() - dt.timedelta(seconds=config.retention.metadata + 60),
                      body="evidence")
    db.commit()
    headers = api_key("privacy")
    placed = client.post("/v1/holds", headers=headers,
                         json={"scope": "session", "value": "ses_1", "reason": "litigation"})
    assert placed.status_code == 201
    rows = client.get("/v1/logs/messages", headers=headers | REASON).json["data"]
    assert [(r["id"], r["body"]) for r in rows] == [(old.id, "evidence")]
    client.delete(f"/v1/holds/{placed.json['id']}", headers=headers)
    assert client.get("/v1/logs/messages", headers=headers | REASON).json["data"] == []


def test_direction_outbound_reads_only_the_outbox(client, api_key, db, clock, engine):
    add_session(db, now=clock())
    add_message(db, now=clock())
    outbound = make_outbound(db, created_at=clock(), to_phone=REQUESTER)
    db.commit()
    statements = []

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for kind, expected in (("messages", [outbound.id]), ("calls", [])):
            response = client.get(f"/v1/logs/{kind}?direction=outbound",
                                  headers=api_key("ops"))
            assert [r["id"] for r in response.json["data"]] == expected
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    relayed_reads = [s for s in statements
                     if " FROM messages" in s or " FROM calls" in s]
    assert statements and relayed_reads == []


def test_each_page_of_a_reasoned_read_is_audited_with_the_rows_it_showed(
        client, api_key, conversation, db):
    """Found by an audit: two pages of the same query left two identical events, so nobody
    could tell which records each disclosed."""
    headers = api_key("privacy") | REASON
    first = client.get(f"/v1/logs/messages?phone={REQUESTER}&limit=1", headers=headers).json
    second = client.get(f"/v1/logs/messages?phone={REQUESTER}&limit=1"
                        f"&cursor={first['next_cursor']}", headers=headers).json

    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")
                        .order_by(AuditEvent.id)).all()
    assert [e.details["ids"] for e in events] == [[first["data"][0]["id"]],
                                                  [second["data"][0]["id"]]]
    assert first["data"][0]["id"] != second["data"][0]["id"]


def test_ops_never_sees_a_caller_whose_national_number_is_four_digits_in_full(
        client, api_key, db, clock):
    # A Niue number (+683 and four digits, valid): "the last four" was all of it.
    add_call(db, now=clock(), from_phone="+6834002", forward_to=None, session_id=None,
             booking_id=None)
    db.commit()

    response = client.get("/v1/logs/calls", headers=api_key("ops"))

    assert [row["from"] for row in response.json["data"]] == ["+683**02"]
    assert "6834002" not in response.text


def test_ops_reads_a_hidden_callers_marker_as_twilio_sent_it_not_masked_like_a_number(
        client, api_key, db, clock):
    # "*****mous" and "***nown" told ops nothing: these markers are no one's number.
    for sender in ("Anonymous", "Restricted", "unknown"):
        add_call(db, now=clock(), from_phone=sender, forward_to=None, session_id=None,
                 booking_id=None)
        clock.advance(minutes=1)
    add_call(db, now=clock(), from_phone="sip:alice", forward_to=None, session_id=None,
             booking_id=None)
    db.commit()

    response = client.get("/v1/logs/calls", headers=api_key("ops"))

    assert [row["from"] for row in response.json["data"]] == [
        "*****lice", "unknown", "Restricted", "Anonymous"]


def test_ops_reads_twilios_keypad_spelt_hidden_caller_ids_as_sent_not_as_foreign_numbers(
        client, api_key, db, clock):
    # Twilio also writes a withheld caller ID as the word spelt on a keypad (ANONYMOUS,
    # RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE); masked, they read as callers from Lesotho
    # (+266***687), Russia (+7*****2833), Uganda, China. A real Lesotho number stays masked.
    markers = ["+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"]
    for sender in [*markers, "+26622312345"]:
        add_call(db, now=clock(), from_phone=sender, forward_to=None, session_id=None,
                 booking_id=None)
        clock.advance(minutes=1)
    db.commit()

    response = client.get("/v1/logs/calls", headers=api_key("ops"))

    assert [row["from"] for row in response.json["data"]] == [
        "+266****2345", *reversed(markers)]


def test_a_reasoned_read_names_rows_past_a_billion_by_their_ids_not_masked_as_numbers(
        client, api_key, db, clock):
    """Found by an audit: ids are 64-bit, but the audit log masked every integer of ten digits
    or more as a phone number, so from the billionth text on a reasoned read's event said
    "ids": ["******0101"] and named no row it had shown."""
    add_session(db, now=clock())
    message = add_message(db, now=clock())
    db.execute(sa.update(Message).where(Message.id == message.id).values(id=4_155_550_101))
    db.commit()

    response = client.get("/v1/logs/messages", headers=api_key("privacy") | REASON)

    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).all()
    assert [row["id"] for row in response.json["data"]] == [4_155_550_101]
    assert event.details == {"records": 1, "ids": [4_155_550_101]}
