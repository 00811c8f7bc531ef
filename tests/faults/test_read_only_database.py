"""A PostgreSQL that only reads (a failover in progress): writes answer 503, reads still serve."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from commsvc.auth import service
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.faults import app_on
from tests.twilio_signing import TwilioPoster

STRANGER_SMS = {
    "From": "+14155550999", "To": "+16465550777", "Body": "hello?", "NumMedia": "0",
    "MessageSid": "SM" + "e" * 32,
}


@pytest.fixture
def read_only_app(engine, config, clock, twilio):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    url = engine.url.update_query_dict({"options": "-c default_transaction_read_only=on"})
    with app_on(engine, url, config, clock, twilio) as app:
        with engine.begin() as conn:
            _, raw = service.create_key(sa.orm.Session(conn), name="ro", role="admin",
                                        now=clock())
        yield app, {"Authorization": f"Bearer {raw}"}


@pytest.mark.pg_only
def test_a_read_only_database_answers_writes_503_and_still_serves_reads(read_only_app, engine):
    app, headers = read_only_app
    client = app.test_client()
    post = TwilioPoster(client, AUTH_TOKEN, BASE_URL)
    grant = client.post("/v1/consent/+14155550101", headers=headers, json={
        "channel": "sms", "purpose": "marketing", "action": "grant", "source": "signup_form",
        "evidence": {"form": "signup", "version": "2026-05"}})
    webhook = post("/webhooks/twilio/sms", STRANGER_SMS)
    for response in (grant, webhook):
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.content_type == "application/problem+json"
        assert response.headers["Retry-After"] == "2"
    assert client.get("/v1/consent/check?phone=%2B14155550101&channel=sms&purpose=relay",
                      headers=headers).status_code == 200
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM messages")) == 0
        assert conn.scalar(sa.text("SELECT count(*) FROM consent_events")) == 0
