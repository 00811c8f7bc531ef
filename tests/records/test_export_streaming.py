"""The export is written in pieces once its queries and audit are done: the same bytes as
jsonify wrote of the whole document, and a failure before the first byte still a problem."""
from __future__ import annotations

import json

from flask import jsonify
from sqlalchemy.exc import OperationalError

from commsvc.consent import decisions as consent_decisions
from commsvc.records import subject_views
from tests.conftest import StatementRecording
from tests.records import test_retention as rows
from tests.records.test_retention import DAY, PRO, PROXY_B, REQUESTER
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
    # Written with no database work: nothing opens a transaction (SQLite: the write lock)
    # that would last as long as the client takes to read.
    with StatementRecording(engine, lambda statement, _parameters: statement) as sent:
        raw = response.get_data()
    assert sent == []
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
