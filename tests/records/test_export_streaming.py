"""The export is written in pieces once its queries and audit are done: the same bytes as
jsonify wrote of the whole document, and a failure before the first byte still a problem."""
from __future__ import annotations

import dataclasses
import gc
import json
import sqlite3
import tracemalloc

import pytest
from flask import jsonify
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from commsvc import migrate
from commsvc.app import create_app
from commsvc.auth import service as keys
from commsvc.consent import decisions as consent_decisions
from commsvc.records import subject_export, subject_views
from commsvc.relay.models import Message
from tests.conftest import StatementRecording
from tests.records import test_retention as rows
from tests.records.test_retention import DAY, PRO, PROXY_A, PROXY_B, REQUESTER
from tests.records.test_subjects import REASON, _audit


def test_the_export_is_streamed_with_the_bytes_jsonify_wrote_of_the_whole_document(
        app, engine, client, api_key, db, clock, monkeypatch):
    monkeypatch.setattr(subject_views, "ROWS_A_WRITE", 2)  # pieces end within each list
    session = rows.make_session(db, created_at=clock() - 3 * DAY, booking_id="bk_s1")
    for n, body in enumerate(["Café à 3h ✓", "gate code 4321", "on my way 🚚", "ok", "merci"]):
        rows.make_message(db, created_at=clock() - 2 * DAY, session=session, body=body,
                     media=["https://x/1.jpg"] if n == 1 else None)
    rows.make_message(db, created_at=clock() - DAY, session=session, from_phone=PRO,
                 to_phone=PROXY_B, forward_to=REQUESTER, body="à tout de suite")
    rows.make_call(db, created_at=clock() - DAY, session=session)
    rows.make_outbound(db, created_at=clock() - DAY)
    db.commit()

    response = client.get(f"/v1/subjects/{REQUESTER}/export",
                          headers={**api_key("privacy"), **REASON})

    assert response.status_code == 200 and response.is_streamed
    assert response.content_type == "application/json"
    # The rows are read as they are written, and only read (no write lock while the client
    # reads: test_the_rows_are_read_from_one_snapshot_that_holds_no_writer_back).
    with StatementRecording(engine, lambda statement, _parameters: statement) as sent:
        raw = response.get_data()
    assert not [s for s in sent if s.lstrip().split()[0].upper() in (
        "INSERT", "UPDATE", "DELETE", "BEGIN")]
    with app.app_context():
        assert raw == jsonify(json.loads(raw)).get_data()
    doc = response.json
    assert [m["body"] for m in doc["messages"]] == [
        "Café à 3h ✓", "gate code 4321", "on my way 🚚", "ok", "merci", "à tout de suite"]
    assert [len(m["media_urls"]) for m in doc["messages"]] == [0, 1, 0, 0, 0, 0]
    assert (len(doc["calls"]), len(doc["outbound_messages"]), doc["holds"]) == (1, 1, [])
    assert doc["counts"]["messages"] == 6


def test_a_database_error_before_the_first_byte_is_a_problem_answer_with_no_document(
        client, api_key, db, clock, monkeypatch):
    rows.make_message(db, created_at=clock() - DAY)
    db.commit()

    def lost(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(consent_decisions, "current_state", lost)
    response = client.get(f"/v1/subjects/{REQUESTER}/export",
                          headers={**api_key("privacy"), **REASON})

    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert "messages" not in response.json and "4321" not in response.get_data(as_text=True)
    assert _audit(db, "subject.exported") == []


def test_the_exports_bytes_are_pinned_whatever_the_pieces_and_fetches(
        app, client, api_key, db, clock, monkeypatch):
    """The whole document, byte for byte (members in the contract's order), built here from the
    rows the test made: a text with a picture, one received, one past its body period, a call
    with its recording, an outbox text, a consent event, a hold; the pool's numbers in full,
    the counterpart masked. Read in pieces of 1 and of 2 rows, as of 200."""
    from commsvc.clock import isoformat
    from commsvc.consent import service as consent_service
    from commsvc.phones import mask
    from commsvc.records import holds
    from tests.conftest import pool_and_booking_key

    pool_and_booking_key(app, clock, 2, first=16465550001)  # PROXY_A and PROXY_B
    session = rows.make_session(db, created_at=clock() - 3 * DAY, booking_id="bk_pin")
    sent = rows.make_message(db, created_at=clock() - 2 * DAY, session=session,
                             body="Café à 3h ✓", media=["https://x/1.jpg"])
    sent.media_urls = json.dumps(["https://x/1.jpg"])  # as the relay stores a media list
    received = rows.make_message(db, created_at=clock() - 2 * DAY, session=session,
                                 from_phone=PRO, to_phone=PROXY_B, forward_to=REQUESTER,
                                 body="à tout de suite")
    old = rows.make_message(db, created_at=clock() - 200 * DAY, forward_to=None, body="old")
    call = rows.make_call(db, created_at=clock() - DAY, session=session)
    outbound = rows.make_outbound(db, created_at=clock() - DAY, booking_id="bk_pin")
    event = consent_service.record_event(
        db, phone=REQUESTER, channel="sms", purpose="marketing", action="revoke",
        source="sms_keyword", evidence={"keyword": "STOP", "to": PROXY_A},
        now=clock() - 3 * DAY)
    hold = holds.place_hold(db, scope="booking", value="bk_pin", reason="dispute",
                            actor="test", now=clock())
    db.commit()
    state = consent_decisions.current_state(db, REQUESTER, marketing_requires_grant=app.extensions[
        "config"].marketing_requires_grant)

    def text(m, body, media, shown=True):
        return {"id": m.id, "session_id": m.session_id, "booking_id": m.booking_id,
                "direction": "inbound", "from": mask(m.from_phone) if m.from_phone == PRO
                else m.from_phone, "to": m.to_phone,
                "forwarded_to": None if m.forward_to is None else
                mask(PRO) if m.forward_to == PRO else m.forward_to,
                "forwarded_from": m.forward_from, "outcome": m.outcome, "status": "delivered",
                "error_code": None, "twilio_sid": m.twilio_sid, "forward_sid": m.forward_sid,
                "reply_sid": None, "media_count": m.media_count, "body": body,
                "media_urls": media, "body_removed": not shown,
                "created_at": isoformat(m.created_at), "updated_at": isoformat(m.updated_at)}

    expected = {
        "subject": {"phone": REQUESTER},
        "generated_at": isoformat(clock()),
        "sessions": [{"id": session.id, "booking_id": "bk_pin", "status": "closed",
                      "closed_reason": None, "mode": "sms_and_voice", "record_calls": False,
                      "created_at": isoformat(session.created_at),
                      "expires_at": isoformat(session.expires_at),
                      "closed_at": isoformat(session.closed_at), "role": "requester",
                      "phone": REQUESTER, "proxy_number": PROXY_A,
                      "counterpart": {"role": "pro", "phone": mask(PRO),
                                      "proxy_number": PROXY_B}}],
        "messages": [text(sent, "Café à 3h ✓", ["https://x/1.jpg"]),
                     text(received, "à tout de suite", []),
                     text(old, None, None, shown=False)],
        "calls": [{"id": call.id, "session_id": session.id, "booking_id": "bk_pin",
                   "direction": "inbound", "from": REQUESTER, "to": PROXY_A,
                   "forwarded_to": mask(PRO), "forwarded_from": PROXY_B, "outcome": "bridged",
                   "status": "completed", "twilio_sid": call.twilio_sid,
                   "dial_sid": call.dial_sid, "duration_seconds": 61,
                   "recording": {"sid": call.recording_sid, "duration": 60,
                                 "status": "completed"},
                   "created_at": isoformat(call.created_at),
                   "updated_at": isoformat(call.updated_at)}],
        "outbound_messages": [{"id": outbound.id, "to": REQUESTER, "from": PROXY_A,
                               "purpose": "transactional", "booking_id": "bk_pin",
                               "status": "delivered", "error_code": None, "last_error": None,
                               "body": "Your pro is on the way", "body_removed": False,
                               "twilio_sid": outbound.twilio_sid,
                               "created_at": isoformat(outbound.created_at),
                               "updated_at": isoformat(outbound.updated_at),
                               "sent_at": isoformat(outbound.sent_at)}],
        "consent": {"state": [{**s, "since": isoformat(s["since"])} for s in state],
                    "history": [{"id": event.id, "channel": "sms", "purpose": "marketing",
                                 "action": "revoke", "source": "sms_keyword",
                                 "evidence": {"keyword": "STOP", "to": PROXY_A},
                                 "created_at": isoformat(event.created_at)}]},
        "holds": [{"id": hold.id, "scope": "booking", "value": "bk_pin",
                   "placed_at": isoformat(hold.created_at)}],
        "counts": {"sessions": 1, "messages": 3, "calls": 1, "outbound_messages": 1,
                   "consent_events": 1, "holds": 1},
    }
    with app.app_context():
        pinned = jsonify(expected).get_data()
    for pieces, fetches in ((1, 1), (2, 2), (200, 1000)):
        monkeypatch.setattr(subject_views, "ROWS_A_WRITE", pieces)
        monkeypatch.setattr(subject_export, "FETCH_ROWS", fetches)
        response = client.get(f"/v1/subjects/{REQUESTER}/export",
                              headers={**api_key("privacy"), **REASON})
        assert response.status_code == 200
        assert response.get_data() == pinned, (pieces, fetches)


@pytest.fixture
def real_app(backend, config, clock, twilio, tmp_path, request):
    """The app on a database whose commits are real (SQLite: a migrated file of its own)."""
    if backend == "postgresql":
        yield request.getfixturevalue("committed_app")
        return
    url = f"sqlite:///{tmp_path / 'export.db'}"
    migrate.upgrade(url)
    app = create_app(dataclasses.replace(config, database_url=url), clock=clock, twilio=twilio)
    yield app
    app.extensions["db"].dispose()


def _three_texts_and_a_privacy_key(database, clock) -> str:
    with database.sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        for _ in range(3):
            rows.make_message(db, created_at=clock() - DAY)
        db.commit()
    return raw


def test_the_rows_are_read_from_one_snapshot_that_holds_no_writer_back(
        real_app, backend, clock, tmp_path, monkeypatch):
    """While the client reads (the rows read as they are written), another writer commits at
    once (SQLite: no write lock is held), and what it commits meanwhile is not in the
    document, whose counts are those of the rows it lists."""
    monkeypatch.setattr(subject_views, "ROWS_A_WRITE", 1)
    database = real_app.extensions["db"]
    raw = _three_texts_and_a_privacy_key(database, clock)
    response = real_app.test_client().get(
        f"/v1/subjects/{REQUESTER}/export",
        headers={"Authorization": f"Bearer {raw}", **REASON}, buffered=False)
    assert response.status_code == 200
    try:
        pieces = iter(response.response)
        written = []
        while b'"messages":[{' not in b"".join(written):  # up to the first text
            written.append(next(pieces))

        if backend == "sqlite":
            other = sqlite3.connect(tmp_path / "export.db", timeout=0)  # waits for no lock
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE api_keys SET name = 'renamed'")
            other.commit()
            other.close()
        with database.sessionmaker() as db:
            late = rows.make_message(db, created_at=clock())
            db.commit()
            late_id = late.id
        document = json.loads(b"".join([*written, *pieces]))
    finally:
        response.close()  # ends the snapshot's transaction, read to the end or not

    assert late_id not in [m["id"] for m in document["messages"]]
    assert len(document["messages"]) == document["counts"]["messages"] == 3


def _texts(db, clock, n: int, start: int) -> None:
    """n texts of REQUESTER's, inserted in one statement."""
    at = clock() - DAY
    db.execute(insert(Message), [
        {"direction": "inbound", "from_phone": REQUESTER, "to_phone": PROXY_A,
         "body": f"text {i}: on my way, the gate code is 4321", "media_count": 0,
         "twilio_sid": f"SM{i:032x}", "outcome": "forwarded", "forward_to": PRO,
         "forward_from": PROXY_B, "status": "delivered", "created_at": at, "updated_at": at}
        for i in range(start, start + n)])
    db.commit()


def _peak_while_read(client, api_key) -> int:
    """The most memory Python held at once (tracemalloc) while the export was written."""
    tracemalloc.start()
    try:
        response = client.get(f"/v1/subjects/{REQUESTER}/export",
                              headers={**api_key("privacy"), **REASON}, buffered=False)
        size = sum(len(piece) for piece in response.response)
        response.close()
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_the_memory_an_export_holds_does_not_grow_with_the_number_of_texts(
        client, api_key, db, clock, monkeypatch):
    """The texts are read from the database as they are written (FETCH_ROWS at a time), never
    all held at once: four times the texts, about the same peak. (Before: 200,000 texts took
    a web worker from 110 to 348 MB.)"""
    monkeypatch.setattr(subject_export, "FETCH_ROWS", 100)
    monkeypatch.setattr(subject_views, "ROWS_A_WRITE", 100)
    _texts(db, clock, 1500, 0)
    small, small_size = _peak_while_read(client, api_key)
    _texts(db, clock, 4500, 1500)
    large, large_size = _peak_while_read(client, api_key)

    assert large_size > 3.9 * small_size
    assert large < 1.5 * small, (small, large)


def test_no_writer_waits_while_the_export_reads_its_counts(
        real_app, backend, clock, tmp_path, monkeypatch):
    """On SQLite every query of the export (200,000 texts: seconds) ran in the request's
    unit of work, which the key's lookup had begun with BEGIN IMMEDIATE: every other writer
    waited for them all (8.0 s, measured). They read a snapshot now, with no write lock held."""
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    database = real_app.extensions["db"]
    with database.sessionmaker() as db:
        _, raw = keys.create_key(db, name="privacy", role="privacy", now=clock())
        rows.make_message(db, created_at=clock() - DAY)
        db.commit()
    real, wrote = subject_export.collect_subject, []

    def with_a_writer_beside(*args, **kwargs):
        other = sqlite3.connect(tmp_path / "export.db", timeout=0)  # waits for no lock
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE api_keys SET name = 'renamed'")
            other.commit()
            wrote.append(True)
        except sqlite3.OperationalError as error:
            wrote.append(str(error))
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(subject_export, "collect_subject", with_a_writer_beside)
    response = real_app.test_client().get(f"/v1/subjects/{REQUESTER}/export",
                                          headers={"Authorization": f"Bearer {raw}", **REASON})

    assert response.status_code == 200
    assert wrote == [True]
    assert response.json["counts"]["messages"] == 1


@pytest.mark.parametrize("read", ["HEAD", "first piece", "part"])
def test_the_snapshot_is_released_when_the_answer_is_closed_however_little_was_read(
        real_app, backend, clock, read, monkeypatch):
    """The snapshot's connection (PostgreSQL: a REPEATABLE READ transaction; SQLite: a read
    transaction, which stops a checkpoint from emptying the -wal file) goes back to its pool
    once the server closes the answer: after a HEAD (WSGI servers send no body and never
    read it), a client gone after the first piece (the test client reads that one), or one
    gone midway. It was ended only by the body's generator, which a HEAD never starts: the
    connection stayed checked out, in its transaction, until Python's cyclic garbage
    collector came by (kept off here)."""
    monkeypatch.setattr(subject_views, "ROWS_A_WRITE", 1)
    database = real_app.extensions["db"]
    raw = _three_texts_and_a_privacy_key(database, clock)
    client = real_app.test_client()
    headers = {"Authorization": f"Bearer {raw}", **REASON}
    gc.disable()
    try:
        if read == "HEAD":
            response = client.head(f"/v1/subjects/{REQUESTER}/export", headers=headers,
                                   buffered=False)
            assert response.status_code == 200 and response.get_data() == b""
        else:
            response = client.get(f"/v1/subjects/{REQUESTER}/export", headers=headers,
                                  buffered=False)
            assert response.status_code == 200
            if read == "part":
                pieces, written = iter(response.response), []
                while b'"messages":[{' not in b"".join(written):  # up to the first text
                    written.append(next(pieces))
        response.close()  # as a WSGI server closes what the app answered, when it is done
        del response
        assert [engine.pool.checkedout() for engine in database.engines] == [
            0 for _ in database.engines]
    finally:
        gc.enable()
