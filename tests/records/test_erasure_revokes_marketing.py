"""An erasure ends a marketing grant in force (one appended revocation, source erasure), and
leaves relay and transactional as they were."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.records.models import AuditEvent
from tests.consent.test_api import check
from tests.records.test_subjects import REASON

PHONE = "+14155550707"
GRANT = {"channel": "all", "purpose": "marketing", "action": "grant", "source": "web_form",
         "evidence": {"form": "signup"}}


def _erase(client, headers):
    return client.post(f"/v1/subjects/{PHONE}/erase", headers={**headers, **REASON})


def test_erasure_revokes_a_marketing_grant_and_marketing_texts_are_refused(client, api_key):
    booking, privacy = api_key("booking"), api_key("privacy")
    assert client.post(f"/v1/consent/{PHONE}", json=GRANT, headers=booking).status_code == 201
    assert check(client, booking, purpose="marketing", phone=PHONE).get_json() == {
        "allowed": True, "reason": "granted"}

    answer = _erase(client, privacy)

    assert answer.status_code == 200, answer.get_json()
    revoked = answer.get_json()["consent_revoked"]
    assert revoked["channel"] == "all" and revoked["purpose"] == "marketing"
    assert any(reason.startswith("revoked marketing on every channel")
               for reason in answer.get_json()["reasons"])
    for channel in ("sms", "voice"):
        assert check(client, booking, channel, "marketing", PHONE).get_json() == {
            "allowed": False, "reason": "revoked"}
        for purpose in ("relay", "transactional"):
            assert check(client, booking, channel, purpose, PHONE).get_json() == {
                "allowed": True, "reason": "default_allowed"}
    history = client.get(f"/v1/consent/{PHONE}/history", headers=booking).get_json()["data"]
    assert [(e["action"], e["channel"], e["purpose"], e["source"]) for e in history] == [
        ("grant", "all", "marketing", "web_form"), ("revoke", "all", "marketing", "erasure")]
    assert history[-1]["id"] == revoked["event_id"]
    assert answer.get_json()["kept"]["consent_events"] == 2
    sent = client.post("/v1/messages", headers=booking, json={
        "to": PHONE, "body": "20% off this week", "purpose": "marketing"})
    assert sent.status_code == 409
    assert sent.get_json()["type"].endswith("consent-required")


def test_erasure_appends_nothing_without_a_marketing_grant_nor_when_repeated(client, api_key):
    booking, privacy = api_key("booking"), api_key("privacy")

    first = _erase(client, privacy).get_json()
    assert first["consent_revoked"] is None
    assert client.get(f"/v1/consent/{PHONE}/history",
                      headers=booking).get_json()["data"] == []

    client.post(f"/v1/consent/{PHONE}", json=GRANT, headers=booking)
    assert _erase(client, privacy).get_json()["consent_revoked"] is not None
    again = _erase(client, privacy).get_json()
    assert again["consent_revoked"] is None and again["kept"]["consent_events"] == 2


def test_an_api_caller_may_not_claim_the_erasure_source(client, api_key):
    response = client.post(f"/v1/consent/{PHONE}", headers=api_key("booking"),
                           json={**GRANT, "action": "revoke", "source": "erasure"})

    assert response.status_code == 422
    assert "source" in response.get_json()["errors"]


def test_the_erasures_audit_event_says_it_revoked_marketing(client, api_key, db):
    """review4: the subject.erased event said what was removed and kept, not that the erasure
    ended a marketing grant; a reader of the trail could not tell why marketing stopped."""
    booking, privacy = api_key("booking"), api_key("privacy")
    client.post(f"/v1/consent/{PHONE}", json=GRANT, headers=booking)

    revoked = _erase(client, privacy).get_json()["consent_revoked"]
    again = _erase(client, privacy).get_json()["consent_revoked"]

    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "subject.erased")
                        .order_by(AuditEvent.id))
    assert [event.details.get("consent_revoked") for event in events] == [revoked, again]
    assert revoked is not None and again is None
