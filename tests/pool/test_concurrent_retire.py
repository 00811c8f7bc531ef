"""Two admins retire one number at once (PostgreSQL, real commits): it is retired once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commsvc.auth import service as key_service
from commsvc.config.settings import Retention
from commsvc.pool import service as pool_service
from commsvc.pool.models import ProxyNumber
from commsvc.records.models import AuditEvent
from tests.concurrency import all_at_once

pytestmark = pytest.mark.pg_only

NUMBER = "+16465550001"


def test_concurrent_retires_of_a_number_retire_it_once_and_answer_one_retired_at(
        committed_app, clock):
    with committed_app.extensions["db"].sessionmaker() as db:
        pool_service.add_number(db, phone_number=NUMBER, capabilities=("sms",), actor="test",
                                now=clock(), retention=Retention())
        _, raw = key_service.create_key(db, name="admin", role="admin", now=clock())
        db.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    clock.advance(seconds=1)

    def delete():
        answer = committed_app.test_client().delete(f"/v1/numbers/{NUMBER}", headers=headers)
        return answer.status_code, answer.get_json()["retired_at"]

    answers = all_at_once(8, delete)
    assert [status for status, _ in answers] == [200] * 8
    with committed_app.extensions["db"].sessionmaker() as db:
        retired = db.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "number.retired"))
        number = db.scalar(select(ProxyNumber))
    assert retired == 1  # docs/sessions.md: "Retiring is idempotent (200 again, audited once)"
    assert number.status == "retired"
    assert {retired_at for _, retired_at in answers} == {
        number.retired_at.isoformat().replace("+00:00", "Z")}
