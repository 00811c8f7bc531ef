"""Lifting a hold erases what it alone kept of people erased while it was in force, in the
lift itself (found by a review: the data stayed until an operator knew to run `erasures
replay`)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from commsvc.crypto import phone_hmac
from commsvc.pool.models import ProxyNumber
from commsvc.records import holds
from commsvc.records.models import AuditEvent, Erasure
from commsvc.relay.models import Message
from commsvc.sessions.models import Participant
from tests.records.test_retention import (
    DAY,
    PRO,
    PROXY_A,
    REQUESTER,
    make_message,
    make_session,
)
from tests.records.test_subjects import OTHER, REASON


@pytest.fixture
def kept(db, clock):
    """REQUESTER talked with PRO (bk_1) and with OTHER (bk_2), one text each."""
    one = make_session(db, created_at=clock() - 3 * DAY, booking_id="bk_1")
    two = make_session(db, created_at=clock() - 2 * DAY, booking_id="bk_2", pro=OTHER)
    ids = {"with_pro": make_message(db, created_at=clock() - 3 * DAY, session=one).id,
           "with_other": make_message(db, created_at=clock() - 2 * DAY, session=two,
                                      forward_to=OTHER).id,
           "pro_alone": make_message(db, created_at=clock() - DAY, from_phone=PRO,
                                     forward_to=OTHER).id,
           "one": one.id}
    db.commit()
    return ids


def _place(client, privacy, scope, value):
    response = client.post("/v1/holds", headers=privacy,
                           json={"scope": scope, "value": value, "reason": "dispute 4"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _erase(client, privacy, phone=REQUESTER):
    response = client.post(f"/v1/subjects/{phone}/erase", headers={**privacy, **REASON})
    assert response.status_code == 200, response.json
    return response.json


def _left(db) -> set[int]:
    db.expire_all()
    return set(db.scalars(select(Message.id)))


@pytest.mark.parametrize(("scope", "value"), [("phone", PRO), ("booking", "bk_1"),
                                              ("session", None)])
def test_lifting_a_hold_erases_what_it_kept_of_a_person_erased_meanwhile(
        client, api_key, db, clock, kept, scope, value):
    privacy = api_key("privacy")
    hold_id = _place(client, privacy, scope, value or kept["one"])
    clock.advance(hours=1)
    assert _erase(client, privacy)["kept"]["held"]["messages"] == 1
    clock.advance(hours=1)

    lifted = client.delete(f"/v1/holds/{hold_id}", headers=privacy)

    assert lifted.status_code == 200, lifted.json
    assert lifted.json["active"] is False
    assert lifted.json["erased_again"] == {
        "subjects": 1, "removed": {"messages": 1, "calls": 0, "outbound_messages": 0,
                                   "sessions": 1, "lifted_holds": 0}}
    assert kept["with_pro"] not in _left(db) and kept["pro_alone"] in _left(db)
    assert REQUESTER not in set(db.scalars(select(Participant.phone)))
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "hold.lifted"))
    assert event.details == {"erased_again": lifted.json["erased_again"]}
    assert len(list(db.scalars(select(AuditEvent).where(
        AuditEvent.action == "erasure.replayed")))) == 1
    again = client.delete(f"/v1/holds/{hold_id}", headers=privacy)
    assert again.status_code == 200 and again.json == lifted.json  # a retry: the same answer


def test_a_lift_leaves_what_another_hold_in_force_keeps_and_people_never_erased(
        client, api_key, db, clock, kept):
    privacy = api_key("privacy")
    by_phone = _place(client, privacy, "phone", PRO)
    _place(client, privacy, "booking", "bk_1")
    clock.advance(hours=1)
    _erase(client, privacy)

    lifted = client.delete(f"/v1/holds/{by_phone}", headers=privacy)

    assert lifted.json["erased_again"] == {"subjects": 0, "removed": {}}
    assert kept["with_pro"] in _left(db)
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "hold.lifted"))
    assert event.details == {"erased_again": {"subjects": 0, "removed": {}}}


def test_a_lift_leaves_a_pool_number_that_was_ledgered_before_it_became_ours(
        client, api_key, db, clock, kept):
    """As `erasures replay` does (erasure_ledger.erased_among, the one rule of both): one of
    the platform's active numbers is no one's, so no subject, whatever the ledger holds."""
    privacy = api_key("privacy")
    db.add(ProxyNumber(phone_number=PROXY_A, country_code=1, area_code="646",
                       created_at=clock()))
    ours = make_message(db, created_at=clock(), from_phone=PROXY_A, forward_to=PRO).id
    db.commit()
    hold_id = _place(client, privacy, "phone", PRO)
    clock.advance(hours=1)
    db.add(Erasure(subject_hmac=phone_hmac("test-hmac-key", PROXY_A), requested_by="test",
                   reason="erased by mistake", created_at=clock(), result={}))
    db.commit()

    lifted = client.delete(f"/v1/holds/{hold_id}", headers=privacy)

    assert lifted.status_code == 200, lifted.json
    assert lifted.json["erased_again"] == {"subjects": 0, "removed": {}}
    assert ours in _left(db)


def test_a_lift_with_no_erasure_since_the_hold_was_placed_erases_nothing(
        client, api_key, db, clock, kept):
    privacy = api_key("privacy")
    _erase(client, privacy, OTHER)  # before the hold: what it kept of OTHER was never held
    clock.advance(hours=1)
    hold_id = _place(client, privacy, "phone", PRO)

    lifted = client.delete(f"/v1/holds/{hold_id}", headers=privacy)

    assert lifted.json["erased_again"] == {"subjects": 0, "removed": {}}
    assert holds.active_holds(db) == []


def test_lifting_the_last_of_overlapping_holds_erases_what_they_kept_though_placed_after(
        client, api_key, db, clock, kept):
    """A hold placed after the erasure, while another kept the person's rows, keeps them too
    once that one is lifted: lifting it last must erase them (review4: only erasures since
    the lifted hold was placed were looked for, so they stayed for good)."""
    privacy = api_key("privacy")
    first = _place(client, privacy, "booking", "bk_1")
    clock.advance(hours=1)
    assert _erase(client, privacy)["kept"]["held"]["messages"] == 1
    clock.advance(hours=1)
    second = _place(client, privacy, "phone", PRO)  # the pro's dispute, a day later
    clock.advance(hours=1)
    assert client.delete(f"/v1/holds/{first}", headers=privacy).json["erased_again"] == {
        "subjects": 0, "removed": {}}
    assert kept["with_pro"] in _left(db)  # the second hold keeps it
    clock.advance(hours=1)

    lifted = client.delete(f"/v1/holds/{second}", headers=privacy)

    assert lifted.json["erased_again"]["subjects"] == 1
    assert kept["with_pro"] not in _left(db) and kept["pro_alone"] in _left(db)
    assert REQUESTER not in set(db.scalars(select(Participant.phone)))



def test_a_lift_repeated_after_audit_retention_purged_its_event_does_nothing_again(
        client, api_key, db, clock, kept):
    """Years later the purge has taken the hold.lifted event: lifting the hold again finds
    nothing more to erase (a lift stopped before its end would still be ended), so it writes
    no second hold.lifted and answers as for any lifted hold, what the first erased unknown."""
    from commsvc.records import audit

    privacy = api_key("privacy")
    hold_id = _place(client, privacy, "booking", "bk_1")
    clock.advance(hours=1)
    _erase(client, privacy)
    clock.advance(hours=1)
    assert client.delete(f"/v1/holds/{hold_id}", headers=privacy).status_code == 200
    clock.advance(days=3000)
    while audit.purge_expired_audit(db, clock() - 2555 * DAY + DAY * 2000, clock()):
        db.commit()
    db.commit()
    assert not list(db.scalars(select(AuditEvent).where(AuditEvent.action == "hold.lifted")))
    left = _left(db)

    again = client.delete(f"/v1/holds/{hold_id}", headers=api_key("privacy"))

    assert again.status_code == 200, again.json
    assert again.json["active"] is False
    assert again.json["erased_again"] is None  # what the first lift did is no longer on record
    assert _left(db) == left
    assert not list(db.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("hold.lifted", "erasure.replayed")))))
