"""Which units of work run without a transaction on PostgreSQL, and that nothing else does.

An ordinary relayed text or call writes one row with one statement, and a read-only /v1 view
only reads: both run in autocommit (no BEGIN, no COMMIT round trip). A consent keyword writes
its row and consent events together, and a reasoned read writes its audit event with the
read: those keep their transaction. Checked on the DBAPI connection each statement runs on.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from commsvc.auth import service as key_service
from commsvc.records import audit
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.transactions import session_begins, statement_modes
from tests.twilio_signing import TwilioPoster
from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, REQUESTER, REQUESTER_PROXY

pytestmark = pytest.mark.pg_only


@pytest.fixture
def statements(committed_app):
    """(first word of each statement, whether its connection was in autocommit), as run."""
    with committed_app.extensions["db"].sessionmaker() as db:
        f.open_session(db, _now(committed_app))
    with statement_modes(committed_app) as seen:
        yield seen


def _now(app):
    return app.extensions["clock"]()


def _sms(app, body: str):
    poster = TwilioPoster(app.test_client(), AUTH_TOKEN, BASE_URL)
    return poster("/webhooks/twilio/sms", {
        "From": REQUESTER, "To": REQUESTER_PROXY, "Body": body, "MessageSid": f.sid("SM"),
        "NumMedia": "0"})


def _count(app, sql: str) -> int:
    with app.extensions["db"].engine.connect() as conn:
        return conn.scalar(sa.text(sql))


def test_an_ordinary_relayed_text_runs_without_a_transaction(committed_app, statements):
    response = _sms(committed_app, "running 10 minutes late")

    assert response.status_code == 200 and f'to="{PRO}"'.encode() in response.data
    assert statements == [("INSERT", True)]
    assert _count(committed_app, "SELECT count(*) FROM messages") == 1


def test_an_ordinary_relayed_text_runs_outside_the_orm_session(committed_app, statements):
    """Its one statement runs on a pooled connection of its own (commsvc.db.driver): the ORM
    Session's begin/commit bookkeeping was a sixth of a relayed text's CPU."""
    with session_begins() as begun:
        response = _sms(committed_app, "parking out front")

    assert response.status_code == 200 and f'to="{PRO}"'.encode() in response.data
    assert statements == [("INSERT", True)]
    assert begun == []


def test_a_relayed_call_runs_without_a_transaction(committed_app, statements):
    poster = TwilioPoster(committed_app.test_client(), AUTH_TOKEN, BASE_URL)
    response = poster("/webhooks/twilio/voice", {
        "From": REQUESTER, "To": REQUESTER_PROXY, "CallSid": f.sid("CA"),
        "CallStatus": "ringing"})

    assert response.status_code == 200 and b"<Dial" in response.data
    assert statements == [("SELECT", True), ("INSERT", True)]


def test_a_stop_keeps_its_transaction_and_stores_row_and_events_together(
        committed_app, statements):
    response = _sms(committed_app, "STOP")

    assert response.status_code == 200
    assert statements and all(not autocommit for _, autocommit in statements)
    assert _count(committed_app, "SELECT count(*) FROM messages") == 1
    assert _count(committed_app, "SELECT count(*) FROM consent_events") == 3


def _key(app, role: str) -> dict[str, str]:
    with app.extensions["db"].sessionmaker() as db:
        _, raw = key_service.create_key(db, name=f"t-{role}", role=role, now=_now(app))
        db.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_a_consent_check_reads_without_a_transaction(committed_app, statements):
    headers = _key(committed_app, "booking")
    before = len(statements)
    response = committed_app.test_client().get(
        "/v1/consent/check", query_string={"phone": PRO, "channel": "sms", "purpose": "relay"},
        headers=headers)

    assert response.status_code == 200 and response.json["allowed"] is True
    assert statements[before:] == [("SELECT", True)]  # the API key carrying the consent state


def test_a_consent_check_reads_outside_the_orm_session(committed_app, statements):
    """Its one read (the key carrying the state, 10120af) runs on a pooled connection of its
    own (commsvc.db.driver), without the ORM Session's bookkeeping."""
    headers = _key(committed_app, "booking")
    before = len(statements)
    with session_begins() as begun:
        response = committed_app.test_client().get(
            "/v1/consent/check", headers=headers,
            query_string={"phone": PRO, "channel": "sms", "purpose": "relay"})

    assert response.status_code == 200 and response.json["allowed"] is True
    assert statements[before:] == [("SELECT", True)]
    assert begun == []


def test_a_consent_check_makes_no_orm_session_and_a_revoked_key_is_refused_at_once(
        committed_app, statements, monkeypatch):
    """Its one read needs only the autocommit engine (session.autocommit_engine): making and
    closing the request's ORM Session was 3% of a check's instructions (consent3). Nothing is
    kept that a revocation would miss: the next check with the key is a 401."""
    made = []
    init = Session.__init__
    monkeypatch.setattr(Session, "__init__",
                        lambda self, *a, **k: made.append(1) or init(self, *a, **k))
    headers = _key(committed_app, "booking")
    query = {"phone": PRO, "channel": "sms", "purpose": "relay"}
    made.clear()
    before = len(statements)

    response = committed_app.test_client().get("/v1/consent/check", query_string=query,
                                               headers=headers)

    assert response.status_code == 200 and response.json["allowed"] is True
    assert statements[before:] == [("SELECT", True)]
    assert made == []
    with committed_app.extensions["db"].sessionmaker() as db:
        key_service.revoke_key(db, key_service.list_keys(db)[0].id, now=_now(committed_app))
        db.commit()
    response = committed_app.test_client().get("/v1/consent/check", query_string=query,
                                               headers=headers)
    assert response.status_code == 401


def test_a_reasoned_read_keeps_its_transaction_and_is_audited(committed_app, statements):
    headers = {**_key(committed_app, "privacy"), "X-Access-Reason": "ticket 4411"}
    response = committed_app.test_client().get(f"/v1/consent/{PRO}", headers=headers)

    assert response.status_code == 200
    assert all(not autocommit for _, autocommit in statements[-3:])
    assert _count(committed_app,
                  "SELECT count(*) FROM audit_events WHERE action = 'pii.read'") == 1


def test_an_audit_append_refuses_an_autocommit_unit_of_work(committed_app):
    database = committed_app.extensions["db"]
    with database.autocommit_sessionmaker() as db, pytest.raises(RuntimeError):
        audit.record(db, actor="test", action="pii.read", now=_now(committed_app),
                     reason="x", target={}, details={})
    assert _count(committed_app, "SELECT count(*) FROM audit_events") == 0


def _reads_only_rules(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        # flask-smorest wraps the guard; functools.wraps carried its attributes outwards.
        if getattr(view, "reads_only", False) and "GET" in rule.methods:
            yield rule


def test_every_reads_only_view_answers_without_a_transaction(committed_app, statements):
    """Each view marked reads_only runs on an autocommit connection and never errs for it."""
    client, headers = committed_app.test_client(), _key(committed_app, "admin")
    rules = list(_reads_only_rules(committed_app))
    assert len(rules) >= 10

    for rule in rules:
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", PRO if "phone" in argument else "x_1")
        del statements[:]
        response = client.get(path, headers=headers)

        assert response.status_code in (200, 404, 422), (path, response.status_code)
        assert statements and all(autocommit for _, autocommit in statements), path


def test_a_connection_back_from_autocommit_serves_the_next_transaction(
        committed_app, statements):
    _sms(committed_app, "on my way")  # autocommit: the pool gets this connection back
    del statements[:]

    _sms(committed_app, "STOP")

    assert statements and all(not autocommit for _, autocommit in statements)
    assert _count(committed_app, "SELECT count(*) FROM consent_events") == 3
