"""The database goes away under a running app: 503 fast, not ready, then serving again."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from commsvc.auth import service
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.faults import app_on
from tests.faults.tcp_proxy import CuttableProxy
from tests.twilio_signing import TwilioPoster

STRANGER_SMS = {
    "From": "+14155550999", "To": "+16465550777", "Body": "hello?", "NumMedia": "0",
    "MessageSid": "SM" + "d" * 32,
}


@pytest.fixture
def proxied_app(engine, config, clock, twilio):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    url = engine.url
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    port = proxy.start()
    with app_on(engine, url.set(port=port), config, clock, twilio) as app:
        yield app, proxy
        proxy.cut()


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.pg_only
def test_database_outage_answers_503_fast_and_recovers_without_restart(proxied_app):
    app, proxy = proxied_app
    client = app.test_client()
    post = TwilioPoster(client, AUTH_TOKEN, BASE_URL)
    with app.extensions["db"].sessionmaker() as db:
        _, raw = service.create_key(db, name="outage", role="ops",
                                    now=app.extensions["clock"]())
        db.commit()
    headers = {"Authorization": f"Bearer {raw}"}

    assert client.get("/readyz").status_code == 200
    assert client.get("/v1/numbers", headers=headers).status_code == 200

    proxy.cut()
    for call in (
        lambda: client.get("/readyz"),
        lambda: client.get("/v1/numbers", headers=headers),
        lambda: post("/webhooks/twilio/sms", STRANGER_SMS),
    ):
        response, elapsed = _timed(call)
        assert response.status_code == 503
        assert elapsed < 2.0, f"took {elapsed:.2f}s to give up"
    assert client.get("/readyz").get_json()["status"] == "unavailable"
    assert client.get("/healthz").status_code == 200  # the process itself is fine

    proxy.restore()
    assert client.get("/readyz").status_code == 200
    assert client.get("/v1/numbers", headers=headers).status_code == 200
    response = post("/webhooks/twilio/sms", STRANGER_SMS)
    assert response.status_code == 200
    # Read on a fresh connection: the transactional pool's may date from before the cut when
    # nothing transactional ran since (the checks above read in autocommit), and the first
    # request to use it would find it broken (a 503) and have the pool replaced.
    app.extensions["db"].engine.dispose()
    with app.extensions["db"].engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT count(*) FROM messages WHERE twilio_sid = :s"),
                             {"s": STRANGER_SMS["MessageSid"]})
    assert stored == 1
