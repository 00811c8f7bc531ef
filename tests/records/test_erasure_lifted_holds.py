"""A lifted phone hold keeps nothing, so it must not keep an erased person's number (found by a
privacy audit: after an erasure the lifted hold's value and reason still held it in full, and
GET /v1/holds?include_lifted=true showed it to a reasoned read)."""
from __future__ import annotations

from sqlalchemy import update

from commsvc.records.models import LegalHold

PERSON = "+14155550101"
READ = {"X-Access-Reason": "hold review 7"}


def _place(client, privacy, value=PERSON):
    response = client.post("/v1/holds", headers=privacy, json={
        "scope": "phone", "value": value, "reason": f"case 9: {PERSON}, or 415-555-0101"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _erase(client, privacy):
    response = client.post(f"/v1/subjects/{PERSON}/erase",
                           headers={**privacy, "X-Access-Reason": "erasure request 12"})
    assert response.status_code == 200, response.json
    return response.json


def _stored(db, hold_id) -> LegalHold:
    db.expire_all()
    return db.get(LegalHold, hold_id)


def _listed(client, privacy) -> dict:
    response = client.get("/v1/holds?include_lifted=true", headers={**privacy, **READ})
    [hold] = response.json["data"]
    return hold


def test_an_erasure_removes_the_number_from_a_hold_lifted_before_it(client, api_key, db):
    privacy = api_key("privacy")
    hold_id = _place(client, privacy)
    client.delete(f"/v1/holds/{hold_id}", headers=privacy)

    result = _erase(client, privacy)

    assert result["removed"]["lifted_holds"] == 1
    stored = _stored(db, hold_id)
    assert stored.value.startswith("erased:")
    assert "0101" not in stored.reason.replace("******0101", "")
    listed = _listed(client, privacy)
    assert listed["value"] is None
    assert PERSON not in listed["reason"] and "415-555-0101" not in listed["reason"]
    assert _erase(client, privacy)["removed"]["lifted_holds"] == 0  # idempotent


def test_lifting_a_hold_after_the_erasure_removes_the_number_it_kept(client, api_key, db):
    privacy = api_key("privacy")
    hold_id = _place(client, privacy)
    assert _erase(client, privacy)["removed"]["lifted_holds"] == 0
    assert _stored(db, hold_id).value == PERSON  # in force: a hold outlives erasure

    lifted = client.delete(f"/v1/holds/{hold_id}", headers={**privacy, **READ})

    assert lifted.status_code == 200 and lifted.json["value"] is None
    assert _stored(db, hold_id).value.startswith("erased:")
    assert PERSON not in _listed(client, privacy)["reason"]


def test_a_lifted_hold_of_a_number_never_erased_keeps_its_number(client, api_key, db):
    privacy = api_key("privacy")
    hold_id = _place(client, privacy)
    client.delete(f"/v1/holds/{hold_id}", headers=privacy)

    assert _stored(db, hold_id).value == PERSON
    assert _listed(client, privacy)["value"] == PERSON


def test_a_replay_removes_the_number_from_a_lifted_hold_a_restore_brought_back(
        client, api_key, db, runner):
    privacy = api_key("privacy")
    hold_id = _place(client, privacy)
    client.delete(f"/v1/holds/{hold_id}", headers=privacy)
    _erase(client, privacy)
    # The backup restored: the hold as it was before the erasure.
    db.execute(update(LegalHold).where(LegalHold.id == hold_id).values(value=PERSON))
    db.commit()

    replay = runner.invoke(args=["erasures", "replay"])

    assert replay.exit_code == 0, replay.output
    assert "1 found again and erased" in replay.output
    assert _stored(db, hold_id).value.startswith("erased:")


def test_a_hold_placed_on_a_customer_who_came_back_after_the_erasure_keeps_its_number(
        client, api_key, db, clock, runner):
    """Found by a review of 188d5d0: the lift (and a replay) took the number out of every
    lifted hold on a number the ledger ever had, also one placed on a returning customer after
    their erasure, about what they made since: theirs, which the erasure and the replay keep."""
    privacy = api_key("privacy")
    _erase(client, privacy)
    clock.advance(seconds=86400)  # the customer books again; a dispute, a hold
    hold_id = _place(client, privacy)

    lifted = client.delete(f"/v1/holds/{hold_id}", headers={**privacy, **READ})

    assert lifted.status_code == 200 and lifted.json["value"] == PERSON
    assert _stored(db, hold_id).value == PERSON
    replay = runner.invoke(args=["erasures", "replay"])
    assert replay.exit_code == 0, replay.output
    assert _stored(db, hold_id).value == PERSON


def test_lifting_a_hold_from_before_the_erasure_leaves_a_later_hold_on_the_returning_customer(
        client, api_key, db, clock):
    """Found by an audit: lifting a hold in force through the erasure took the number out of
    every lifted hold on it, also one placed (and lifted) on the customer who came back since,
    about what they made after their erasure, which keeps its number when lifted itself."""
    privacy = api_key("privacy")
    before = _place(client, privacy)  # in force through the erasure: it keeps their data
    clock.advance(seconds=60)
    _erase(client, privacy)
    clock.advance(seconds=86400)  # the customer books again; a dispute, a hold, settled
    after = _place(client, privacy)
    assert client.delete(f"/v1/holds/{after}", headers=privacy).status_code == 200
    clock.advance(seconds=60)

    lifted = client.delete(f"/v1/holds/{before}", headers={**privacy, **READ})

    assert lifted.status_code == 200 and lifted.json["value"] is None
    assert _stored(db, before).value.startswith("erased:")
    assert _stored(db, after).value == PERSON
