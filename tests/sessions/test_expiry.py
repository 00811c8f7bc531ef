"""A session ends the instant expires_at passes: no sweep is needed for routing or allocation."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from commsvc.sessions.ending import sweep_expired
from commsvc.sessions.models import Participant, Session
from commsvc.sessions.routing import find_route
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS


def test_expiry_is_honoured_at_the_instant_it_passes_without_a_sweep(
        create, add_numbers, client, booking, db, clock):
    add_numbers(SF_NUMBERS[0])
    session = create(ttl_seconds=60).get_json()
    proxy = session["requester"]["proxy_number"]
    clock.advance(seconds=59)
    assert find_route(db, REQUESTER, proxy, clock()) is not None
    assert client.get(f"/v1/sessions/{session['id']}", headers=booking).get_json()[
        "status"] == "open"

    clock.advance(seconds=1)
    assert find_route(db, REQUESTER, proxy, clock()) is None
    got = client.get(f"/v1/sessions/{session['id']}", headers=booking).get_json()
    assert got["status"] == "expired"
    expired = client.get("/v1/sessions?status=expired", headers=booking).get_json()["data"]
    assert [s["id"] for s in expired] == [session["id"]]
    assert client.get("/v1/sessions?status=open", headers=booking).get_json()["data"] == []


def test_allocation_frees_the_numbers_of_overdue_sessions_in_the_same_transaction(
        create, add_numbers, db, clock):
    add_numbers(SF_NUMBERS[0])
    old = create("bk_old", ttl_seconds=60).get_json()
    clock.advance(minutes=1)
    new = create("bk_new", pro="+14155550303")
    assert new.status_code == 201
    assert new.get_json()["requester"]["proxy_number"] == SF_NUMBERS[0]
    db.expire_all()
    stored = db.get(Session, old["id"])
    assert stored.status == "expired"
    ended = db.scalars(select(Participant).where(Participant.session_id == old["id"])).all()
    assert all(not p.active for p in ended)
    assert {p.ended_at for p in ended} == {dt.datetime(2026, 6, 1, 12, 1, tzinfo=dt.UTC)}


def test_an_expired_booking_session_does_not_block_a_new_one_for_the_booking(
        create, add_numbers, clock):
    add_numbers(*SF_NUMBERS)
    first = create(ttl_seconds=60).get_json()
    clock.advance(minutes=1)
    again = create(pro="+14155550303")
    assert again.status_code == 201
    assert again.get_json()["id"] != first["id"]


def test_sweep_marks_overdue_sessions_expired_in_batches(create, add_numbers, db, clock):
    add_numbers(*SF_NUMBERS)
    for n in range(3):
        create(f"bk_{n}", requester=f"+1415555040{n}", pro=PRO, ttl_seconds=60 + n)
    create("bk_live", requester="+14155550499", pro="+14155550303", ttl_seconds=3600)
    clock.advance(minutes=5)
    assert sweep_expired(db, clock(), batch_size=2) == 2
    assert sweep_expired(db, clock(), batch_size=2) == 1
    assert sweep_expired(db, clock(), batch_size=2) == 0
    db.commit()
    statuses = dict(db.execute(select(Session.booking_id, Session.status)).all())
    assert statuses == {"bk_0": "expired", "bk_1": "expired", "bk_2": "expired",
                        "bk_live": "open"}
    active = db.scalars(select(Participant.phone).where(Participant.active.is_(True))).all()
    assert sorted(active) == ["+14155550303", "+14155550499"]
