"""Two admins bring one retired number back at once (PostgreSQL, real commits): one wins."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from commsvc.auth import service as key_service
from commsvc.config.settings import Retention
from commsvc.pool import service as pool_service
from commsvc.pool.models import ProxyNumber
from commsvc.records.models import AuditEvent

pytestmark = pytest.mark.pg_only

NUMBER = "+16465550001"


def test_concurrent_re_adds_of_a_retired_number_bring_it_back_once(committed_app, clock):
    with committed_app.extensions["db"].sessionmaker() as db:
        pool_service.add_number(db, phone_number=NUMBER, capabilities=("sms",), actor="test",
                                now=clock(), retention=Retention())
        pool_service.retire_number(db, NUMBER, actor="test", now=clock())
        _, raw = key_service.create_key(db, name="admin", role="admin", now=clock())
        db.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    start = threading.Barrier(8)

    def post(_):
        client = committed_app.test_client()
        start.wait()
        return client.post("/v1/numbers", json={"phone_number": NUMBER, "reactivate": True},
                           headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(post, range(8)))
    assert statuses == [201] + [409] * 7
    with committed_app.extensions["db"].sessionmaker() as db:
        added = db.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "number.added"))
        assert added == 2  # the first add and the one re-add
        number = db.scalar(select(ProxyNumber))
        assert (number.status, number.capabilities) == ("active", ["sms", "voice"])
