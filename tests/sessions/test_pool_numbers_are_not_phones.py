"""A pool number is never a participant's phone, and no participant is given a proxy number
that is their own phone or the other side's (even where such rows already exist)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, true

from commsvc.pool import service as pool_service
from commsvc.sessions import store as session_store
from commsvc.sessions.allocation import choose_proxy
from commsvc.sessions.models import Participant, Session
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS

POOL_NUMBER = "+16465550001"
NYC = "+16465559001"
WEEK = 7 * 86400


def _stored(db) -> tuple[int, int]:
    return (db.scalar(select(func.count()).select_from(Session)),
            db.scalar(select(func.count()).select_from(Participant)))


@pytest.mark.parametrize("retired", [False, True], ids=["active", "retired"])
@pytest.mark.parametrize("role", ["requester", "pro"])
def test_a_pool_number_as_a_participants_phone_is_422_naming_the_field_and_stores_nothing(
        create, add_numbers, client, db, clock, role, retired):
    add_numbers(*SF_NUMBERS, POOL_NUMBER)
    if retired:
        pool_service.retire_number(db, POOL_NUMBER, actor="test", now=clock())
        db.commit()
    phones = {"requester": REQUESTER, "pro": PRO, role: "(646) 555-0001"}
    response = create(**phones)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "validation-error"
    assert problem["errors"] == {f"{role}.phone": [
        "is one of the service's own numbers, not a person's"]}
    assert _stored(db) == (0, 0)


def test_both_phones_in_the_pool_name_both_fields(create, add_numbers, db):
    add_numbers(*SF_NUMBERS)
    response = create(requester=SF_NUMBERS[0], pro=SF_NUMBERS[1])
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"requester.phone", "pro.phone"}
    assert _stored(db) == (0, 0)


@pytest.mark.parametrize(("phone", "counterpart"), [
    (SF_NUMBERS[0], "+14155550303"),  # their own phone
    (REQUESTER, SF_NUMBERS[0]),  # the other side's real phone
], ids=["own", "counterpart"])
def test_choose_proxy_never_gives_a_participants_own_phone_or_the_other_sides(
        add_numbers, db, clock, phone, counterpart):
    # SF_NUMBERS[0] shares the 415 area code with both phones, so it would be preferred.
    add_numbers(SF_NUMBERS[0])
    assert choose_proxy(db, phone=phone, counterpart=counterpart, mode="sms_and_voice",
                        now=clock(), cooloff_seconds=WEEK) is None
    add_numbers(NYC)
    chosen = {choose_proxy(db, phone=phone, counterpart=counterpart, mode="sms_and_voice",
                           now=clock(), cooloff_seconds=WEEK) for _ in range(10)}
    assert chosen == {NYC}


def test_allocation_skips_the_participants_phones_when_the_pool_check_missed_them(
        create, add_numbers, db, monkeypatch):
    # As when a number is added to the pool while a session for that phone is being created:
    # neither transaction sees the other's row, so the allocation query is the last guard.
    add_numbers(REQUESTER, PRO, NYC)  # the two phones share their area code: preferred
    # The session INSERT without its pool check, as if the numbers arrived just after it.
    monkeypatch.setattr(session_store, "_INSERTS", session_store.session_inserts(true()))
    body = create(requester=REQUESTER, pro=PRO).get_json()
    assert body["requester"]["proxy_number"] == body["pro"]["proxy_number"] == NYC
