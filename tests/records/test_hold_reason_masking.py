"""A number written in a hold's free-text reason is masked when the hold is placed, as the audit
trail stores reasons: no erasure would find it there (an audit found one surviving the
erasure of the number it named). The held phone itself is shown by its rule."""
from __future__ import annotations

import pytest

from commsvc.records.models import LegalHold
from tests.records.logdata import REQUESTER

WRITTEN = "call me at 415-555-0101 about ticket 4321"
MASKED = "call me at ******0101 about ticket 4321"
ACCESS = {"X-Access-Reason": "legal request 77"}


def _place(client, headers, scope="booking", value="bk_1001"):
    response = client.post("/v1/holds", headers=headers,
                           json={"scope": scope, "value": value, "reason": WRITTEN})
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("role", ["privacy", "admin"])
@pytest.mark.parametrize("scope, value", [("booking", "bk_1001"), ("phone", REQUESTER)])
def test_a_number_in_a_hold_reason_is_masked_in_the_list_without_an_access_reason(
        client, api_key, role, scope, value):
    headers = api_key(role)
    _place(client, headers, scope, value)
    [listed] = client.get("/v1/holds", headers=headers).json["data"]
    assert listed["reason"] == MASKED
    if scope == "phone":
        assert listed["value"] == "+1******0101"  # the held phone: the same rule


@pytest.mark.parametrize("role", ["privacy", "admin"])
def test_with_an_access_reason_the_held_phone_reads_in_full_and_the_reason_as_stored(
        client, api_key, role):
    headers = api_key(role)
    _place(client, headers, "phone", REQUESTER)
    [listed] = client.get("/v1/holds", headers=headers | ACCESS).json["data"]
    assert (listed["reason"], listed["value"]) == (MASKED, REQUESTER)


def test_the_held_phone_written_in_e164_stays_in_its_own_holds_reason(client, api_key, db):
    headers = api_key("privacy")
    placed = client.post("/v1/holds", headers=headers, json={
        "scope": "phone", "value": REQUESTER,
        "reason": f"dispute of {REQUESTER}, spouse at +14155550199"}).json
    assert db.get(LegalHold, placed["id"]).reason == (
        f"dispute of {REQUESTER}, spouse at +1******0199")


@pytest.mark.parametrize("written", ["call me at 415\u2013555\u20130177",
                                     "call me at 415_555_0177", "call me at 415 555 01 77"])
def test_a_number_written_unusually_in_a_hold_reason_is_masked_in_the_list_and_the_audit(
        client, api_key, db, written):
    """Found by an audit: en dashes, "_" and pairs of digits were shown and audited in full."""
    headers = api_key("admin")
    placed = client.post("/v1/holds", headers=headers,
                         json={"scope": "booking", "value": "bk_1001", "reason": written})
    assert placed.status_code == 201 and placed.json["reason"] == "call me at ******0177"
    [listed] = client.get("/v1/holds", headers=headers).json["data"]
    assert listed["reason"] == "call me at ******0177"
    [event] = client.get("/v1/audit?action=hold.placed", headers=headers).json["data"]
    assert event["reason"] == "call me at ******0177"


def test_placing_and_lifting_answer_with_the_reason_masked_too(client, api_key, db):
    headers = api_key("privacy")
    placed = _place(client, headers)
    assert placed["reason"] == MASKED
    lifted = client.delete(f"/v1/holds/{placed['id']}", headers=headers)
    assert lifted.status_code == 200 and lifted.json["reason"] == MASKED
    assert db.get(LegalHold, placed["id"]).reason == MASKED  # stored masked


@pytest.mark.parametrize(("written", "stored"), [
    ("caller ph4155550177 sued", "caller ph******0177 sued"),
    ("for 4155550177x, see ses_0123456789abcdef", "for ******0177x, see ses_0123456789abcdef"),
])
def test_a_number_glued_to_letters_in_a_hold_reason_is_stored_masked(client, api_key, db,
                                                                      written, stored):
    """Found by a sweep of a running service: a number the API reads through the letters glued
    to it was stored in the reason in full, where no erasure would find it."""
    placed = client.post("/v1/holds", headers=api_key("privacy"), json={
        "scope": "phone", "value": REQUESTER, "reason": written}).json
    assert db.get(LegalHold, placed["id"]).reason == stored


def test_the_held_phone_in_e164_stays_in_a_reason_masked_for_glued_numbers_too(client, api_key,
                                                                             db):
    placed = client.post("/v1/holds", headers=api_key("privacy"), json={
        "scope": "phone", "value": REQUESTER,
        "reason": f"dispute of {REQUESTER}, spouse ph4155550199"}).json
    assert db.get(LegalHold, placed["id"]).reason == (
        f"dispute of {REQUESTER}, spouse ph******0199")
