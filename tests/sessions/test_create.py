"""POST /v1/sessions: the contract's shape, idempotent retries, conflicts, exhaustion."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from commsvc.sessions.models import Participant, Session
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_create_answers_201_with_exactly_the_contract_shape(create, add_numbers, clock):
    add_numbers(*SF_NUMBERS)
    response = create(mode="sms_and_voice", ttl_seconds=604800, record_calls=False)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "booking_id", "status", "closed_reason", "mode", "record_calls",
                         "created_at", "expires_at", "requester", "pro"}
    assert body["booking_id"] == "bk_1001"
    assert body["status"] == "open" and body["closed_reason"] is None
    assert body["mode"] == "sms_and_voice" and body["record_calls"] is False
    assert body["created_at"] == "2026-06-01T12:00:00Z"
    assert body["expires_at"] == "2026-06-08T12:00:00Z"
    assert body["requester"]["phone"] == REQUESTER and body["pro"]["phone"] == PRO
    assert set(body["requester"]) == {"phone", "proxy_number"}
    assert body["requester"]["proxy_number"] in SF_NUMBERS
    assert body["pro"]["proxy_number"] in SF_NUMBERS


def test_defaults_are_sms_and_voice_no_recording_and_the_configured_ttl(create, add_numbers,
                                                                          config):
    add_numbers(*SF_NUMBERS)
    body = create().get_json()
    assert body["mode"] == "sms_and_voice" and body["record_calls"] is False
    expected = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC) + dt.timedelta(
        seconds=config.session_ttl_seconds)
    assert body["expires_at"] == expected.isoformat().replace("+00:00", "Z")


def test_expires_at_may_be_given_instead_of_a_ttl(create, add_numbers):
    add_numbers(*SF_NUMBERS)
    body = create(expires_at="2026-06-02T09:30:00+02:00").get_json()
    assert body["expires_at"] == "2026-06-02T07:30:00Z"


def test_national_format_phones_are_stored_and_answered_in_e164(create, add_numbers):
    add_numbers(*SF_NUMBERS)
    body = create(requester="(415) 555-0101", pro="415.555.0202").get_json()
    assert body["requester"]["phone"] == REQUESTER and body["pro"]["phone"] == PRO


def test_retry_with_the_same_booking_and_phones_answers_200_with_the_same_session(
        create, add_numbers, db):
    add_numbers(*SF_NUMBERS)
    first = create()
    again = create(requester="(415) 555-0101")
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert _count(db, Session) == 1 and _count(db, Participant) == 2


def test_same_booking_with_other_phones_while_open_is_409(create, add_numbers, db):
    add_numbers(*SF_NUMBERS)
    create()
    response = create(pro="+14155550303")
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    swapped = create(requester=PRO, pro=REQUESTER)
    assert swapped.status_code == 409
    assert _count(db, Session) == 1


def test_same_booking_gets_a_new_session_once_the_old_one_is_closed(create, add_numbers,
                                                                      client, booking):
    add_numbers(*SF_NUMBERS)
    first = create().get_json()
    client.post(f"/v1/sessions/{first['id']}/close", headers=booking)
    second = create(pro="+14155550303")
    assert second.status_code == 201
    assert second.get_json()["id"] != first["id"]


def test_requester_and_pro_with_the_same_number_is_422(create, add_numbers, db):
    add_numbers(*SF_NUMBERS)
    response = create(requester=REQUESTER, pro="(415) 555-0101")
    assert response.status_code == 422
    assert "pro.phone" in response.get_json()["errors"]
    assert _count(db, Session) == 0


def test_empty_pool_is_503_pool_exhausted_and_nothing_is_stored(create, db):
    response = create()
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.get_json()["type"] == "pool-exhausted"
    assert _count(db, Session) == 0 and _count(db, Participant) == 0


def test_pool_exhausted_for_one_participant_stores_nothing_of_that_session(create, add_numbers,
                                                                           db):
    add_numbers(SF_NUMBERS[0])
    assert create("bk_1", pro="+14155550202").status_code == 201
    # The requester's only possible number is already paired with them in bk_1.
    response = create("bk_2", pro="+14155550303")
    assert response.status_code == 503
    assert response.get_json()["type"] == "pool-exhausted"
    assert db.scalars(select(Session.booking_id)).all() == ["bk_1"]
    assert _count(db, Participant) == 2


def test_both_participants_may_share_one_proxy_number(create, add_numbers):
    add_numbers(SF_NUMBERS[0])
    body = create().get_json()
    assert body["requester"]["proxy_number"] == body["pro"]["proxy_number"] == SF_NUMBERS[0]


def test_ttl_seconds_may_be_any_positive_number_fractions_too(create, add_numbers, clock):
    add_numbers(*SF_NUMBERS)
    response = create(ttl_seconds=90.5)
    assert response.status_code == 201
    expected = clock() + dt.timedelta(seconds=90.5)
    assert response.get_json()["expires_at"] == expected.isoformat().replace("+00:00", "Z")


def test_a_new_session_and_its_retry_give_the_session_url_in_location(client, create,
                                                                       add_numbers, booking):
    add_numbers(*SF_NUMBERS)
    created, retried = create(), create()
    assert (created.status_code, retried.status_code) == (201, 200)
    location = created.headers["Location"]
    assert location == f"/v1/sessions/{created.get_json()['id']}"
    assert retried.headers["Location"] == location
    assert client.get(location, headers=booking).get_json() == created.get_json()
