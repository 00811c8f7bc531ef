"""POST/GET/DELETE /v1/numbers: the proxy number pool."""
from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from commsvc.pool.models import ProxyNumber
from commsvc.records import audit
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS, all_pages

NUMBER = "+16465550001"


@pytest.fixture
def admin(api_key):
    return api_key("admin")


@pytest.fixture
def audited(monkeypatch):
    events = []
    monkeypatch.setattr(audit, "record", lambda db, **event: events.append(event))
    return events


def test_add_answers_201_with_the_number(client, admin, audited):
    response = client.post("/v1/numbers", json={"phone_number": NUMBER,
                                                "capabilities": ["sms", "voice"]}, headers=admin)
    assert response.status_code == 201
    assert response.get_json() == {
        "phone_number": NUMBER, "capabilities": ["sms", "voice"], "status": "active",
        "country_code": 1, "area_code": "646", "open_sessions": 0,
        "created_at": "2026-06-01T12:00:00Z", "retired_at": None,
    }
    assert [e["action"] for e in audited] == ["number.added"]
    assert audited[0]["actor"].startswith("key:")
    assert audited[0]["target"] == {"phone_number": NUMBER}


def test_add_accepts_national_format_and_defaults_to_sms_and_voice(client, admin):
    body = client.post("/v1/numbers", json={"phone_number": "(646) 555-0001"},
                       headers=admin).get_json()
    assert body["phone_number"] == NUMBER and body["capabilities"] == ["sms", "voice"]


def test_the_same_number_again_is_409(client, admin):
    client.post("/v1/numbers", json={"phone_number": NUMBER}, headers=admin)
    response = client.post("/v1/numbers", json={"phone_number": "646-555-0001"}, headers=admin)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(("body", "field"), [
    ({"phone_number": "+1646555"}, "phone_number"),
    ({"phone_number": "call me"}, "phone_number"),
    ({}, "phone_number"),
    ({"phone_number": NUMBER, "capabilities": ["sms", "fax"]}, "capabilities.1"),
    ({"phone_number": NUMBER, "capabilities": []}, "capabilities"),
    ({"phone_number": NUMBER, "capabilities": "sms"}, "capabilities"),
    ({"phone_number": NUMBER, "reactivate": "yes"}, "reactivate"),  # JSON booleans only
    ({"phone_number": NUMBER, "reactivate": 1}, "reactivate"),
    ({"phone_number": NUMBER, "friendly_name": "x"}, "friendly_name"),
])
def test_invalid_number_or_capability_is_422(client, admin, body, field):
    response = client.post("/v1/numbers", json=body, headers=admin)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_list_counts_open_unexpired_sessions_per_number(client, admin, add_numbers, create,
                                                       clock):
    add_numbers(NUMBER)
    create("bk_1", ttl_seconds=60)
    create("bk_2", requester="+14155550303", pro="+14155550404", ttl_seconds=3600)
    add_numbers("+16465550002")
    listed = client.get("/v1/numbers", headers=admin).get_json()
    counts = {n["phone_number"]: n["open_sessions"] for n in listed["data"]}
    assert counts == {NUMBER: 2, "+16465550002": 0}
    assert listed["next_cursor"] is None
    clock.advance(seconds=60)
    listed = client.get("/v1/numbers", headers=admin).get_json()
    assert {n["phone_number"]: n["open_sessions"] for n in listed["data"]}[NUMBER] == 1


def test_list_pages_with_a_cursor_and_filters_by_status(client, admin, add_numbers):
    numbers = [f"+1646555000{n}" for n in range(1, 6)]
    add_numbers(*numbers)
    client.delete(f"/v1/numbers/{numbers[0]}", headers=admin)
    assert all_pages(client, "/v1/numbers?limit=2", admin, key="phone_number") == numbers
    retired = client.get("/v1/numbers?status=retired", headers=admin).get_json()["data"]
    active = client.get("/v1/numbers?status=active", headers=admin).get_json()["data"]
    assert [n["phone_number"] for n in retired] == numbers[:1]
    assert [n["phone_number"] for n in active] == numbers[1:]


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "status=gone", "colour=red",
                                   "cursor=%2B16465550001", "cursor=16465550001",
                                   "cursor=bm9wZQ"])
def test_invalid_list_query_is_422(client, admin, query):
    response = client.get(f"/v1/numbers?{query}", headers=admin)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert query.partition("=")[0] in response.get_json()["errors"]


def test_pages_follow_the_order_numbers_were_added_and_cursors_carry_no_number(
        client, admin, add_numbers):
    numbers = ["+16465550005", "+16465550001", "+16465550004", "+16465550002", "+16465550003"]
    add_numbers(*numbers)
    assert all_pages(client, "/v1/numbers?limit=2", admin, key="phone_number") == numbers
    cursor = client.get("/v1/numbers?limit=2", headers=admin).get_json()["next_cursor"]
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    assert "6465550001" not in decoded


def test_retire_is_idempotent_and_audited_once(client, admin, add_numbers, audited, clock):
    add_numbers(NUMBER)
    first = client.delete(f"/v1/numbers/{NUMBER}", headers=admin)
    assert first.status_code == 200
    body = first.get_json()
    assert body["status"] == "retired" and body["retired_at"] == "2026-06-01T12:00:00Z"
    clock.advance(hours=1)
    second = client.delete("/v1/numbers/%2B16465550001", headers=admin)
    assert second.status_code == 200 and second.get_json() == body
    assert [e["action"] for e in audited] == ["number.added", "number.retired"]


def test_retire_an_unknown_number_is_404(client, admin):
    response = client.delete("/v1/numbers/+16465550999", headers=admin)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_retire_something_that_is_not_a_phone_number_is_422(client, admin):
    for path in ("/v1/numbers/garbage", "/v1/numbers/%2B1%00", "/v1/numbers/+1415"):
        response = client.delete(path, headers=admin)
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert response.get_json()["errors"]


def test_retired_number_keeps_its_open_sessions(client, admin, add_numbers, create):
    add_numbers(NUMBER)
    session = create().get_json()
    body = client.delete(f"/v1/numbers/{NUMBER}", headers=admin).get_json()
    assert body["open_sessions"] == 1
    assert create("bk_other", requester="+14155550303", pro="+14155550404").status_code == 503
    assert session["requester"]["proxy_number"] == NUMBER


REASON = {"X-Access-Reason": "ticket 4411: which number texted the customer"}


@pytest.mark.parametrize("role, shown", [("booking", NUMBER), ("admin", NUMBER),
                                         ("ops", "+1******0001"), ("privacy", "+1******0001")])
def test_pool_numbers_are_full_for_booking_and_admin_and_masked_for_ops_and_privacy(
        client, api_key, add_numbers, audited, role, shown):
    add_numbers(NUMBER)
    response = client.get("/v1/numbers", headers=api_key(role))
    assert response.status_code == 200
    assert [n["phone_number"] for n in response.get_json()["data"]] == [shown]
    assert ("6465550001" in response.get_data(as_text=True)) == (shown == NUMBER)
    assert [e for e in audited if e["action"] == "pii.read"] == []


def test_privacy_with_a_reason_sees_pool_numbers_in_full_and_the_read_is_audited(
        client, api_key, add_numbers, audited):
    add_numbers(NUMBER, "+16465550002")
    response = client.get("/v1/numbers?status=active", headers=api_key("privacy") | REASON)
    assert [n["phone_number"] for n in response.get_json()["data"]] == [NUMBER, "+16465550002"]
    [event] = [e for e in audited if e["action"] == "pii.read"]
    assert event["reason"] == REASON["X-Access-Reason"] and event["actor"].startswith("key:")
    assert event["target"] == {"resource": "numbers", "status": "active"}
    assert event["details"] == {"records": 2}


@pytest.mark.parametrize("role", ["booking", "ops", "privacy"])
def test_only_admin_changes_the_pool(client, api_key, add_numbers, role):
    add_numbers(NUMBER)
    headers = api_key(role)
    assert client.post("/v1/numbers", json={"phone_number": "+16465550002"},
                       headers=headers).status_code == 403
    assert client.delete(f"/v1/numbers/{NUMBER}", headers=headers).status_code == 403


def test_no_key_is_401_on_every_pool_endpoint(client):
    assert client.get("/v1/numbers").status_code == 401
    assert client.post("/v1/numbers", json={"phone_number": NUMBER}).status_code == 401
    assert client.delete(f"/v1/numbers/{NUMBER}").status_code == 401



def _numbers(db) -> dict[str, tuple[str, list[str]]]:
    return {n.phone_number: (n.status, n.capabilities) for n in db.scalars(select(ProxyNumber))}


@pytest.mark.parametrize("role", ["requester", "pro"])
def test_the_phone_of_a_participant_in_an_open_session_is_refused_409_and_nothing_stored(
        client, admin, add_numbers, create, db, audited, role):
    add_numbers(*SF_NUMBERS)
    create()
    before = _numbers(db)
    phone = {"requester": REQUESTER, "pro": PRO}[role]
    response = client.post("/v1/numbers", json={"phone_number": phone}, headers=admin)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"] == (
        f"{phone} is the phone of a participant in an open session, so it cannot be a proxy"
        " number.")
    assert _numbers(db) == before
    assert [e["action"] for e in audited if e["action"] == "number.added"] == [
        "number.added"] * len(SF_NUMBERS)


def test_the_phone_of_an_ended_session_on_record_is_refused_409_and_nothing_stored(
        client, admin, add_numbers, create, booking, clock, db, api_key):
    """A closed or expired session's participant was accepted as a pool number: the person's
    data on record (that session, its texts and calls) then could no longer be exported or
    erased, nor their consent recorded (each refuses one of the service's own numbers), though
    the person most likely still has the phone."""
    add_numbers(*SF_NUMBERS)
    closed = create("bk_closed").get_json()
    client.post(f"/v1/sessions/{closed['id']}/close", headers=booking)
    create("bk_expired", requester="+14155550303", ttl_seconds=60)
    clock.advance(seconds=60)  # expired, though no sweep has marked it yet
    before = _numbers(db)
    for phone in (REQUESTER, "+14155550303"):
        response = client.post("/v1/numbers", json={"phone_number": phone}, headers=admin)
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["detail"].startswith(
            f"{phone} is the phone of a participant in a session on record")
    assert _numbers(db) == before
    export = client.get(f"/v1/subjects/{REQUESTER}/export",
                        headers=api_key("privacy") | {"X-Access-Reason": "ticket 7"})
    assert export.status_code == 200


def _export(client, api_key, phone: str):
    return client.get(f"/v1/subjects/{phone}/export",
                      headers=api_key("privacy") | {"X-Access-Reason": "ticket 7"})


def test_a_number_the_platform_texted_outside_any_session_is_refused_409_and_keeps_its_export(
        client, admin, add_numbers, booking, db, api_key):
    """Found by a review: only a session's participant was refused, so the number of a person
    whose only data is the platform's texts to it (POST /v1/messages) joined the pool, and
    from then on its export and erasure were refused (422: one of the service's own
    numbers), the texts still on record."""
    add_numbers(*SF_NUMBERS)
    person = "+14155550404"
    sent = client.post("/v1/messages", headers=booking, json={
        "to": person, "body": "Your pro arrives at 3pm.", "purpose": "transactional"})
    assert sent.status_code == 202, sent.get_json()
    before = _numbers(db)
    response = client.post("/v1/numbers", json={"phone_number": person}, headers=admin)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["detail"] == (
        f"{person} is a person's, with texts or calls on record, whose data as a proxy number"
        " could no longer be exported or erased: if the number changed hands, erase that data"
        f" first (POST /v1/subjects/{person}/erase).")
    assert _numbers(db) == before
    export = _export(client, api_key, person)
    assert export.status_code == 200
    assert len(export.get_json()["outbound_messages"]) == 1


def test_the_phone_of_a_session_past_retention_may_join_the_pool(
        client, admin, add_numbers, create, booking, clock, api_key):
    """A session past RETENTION_CLOSED_SESSIONS_DAYS is absent from the export and every
    read already, only not yet deleted by the retention job: it counted for the refusal
    all the same, so the pool's answer depended on when the job last ran."""
    add_numbers(*SF_NUMBERS)
    closed = create("bk_closed").get_json()
    client.post(f"/v1/sessions/{closed['id']}/close", headers=booking)
    clock.advance(days=731)  # past the 730 days of closed sessions (and of metadata)
    assert _export(client, api_key, REQUESTER).get_json()["sessions"] == []
    response = client.post("/v1/numbers", json={"phone_number": REQUESTER}, headers=admin)
    assert response.status_code == 201, response.get_json()


def _pooled_before_the_refusal(db, clock, phone: str) -> None:
    """A number added to the pool while it was an ended session's participant, as a release
    before the refusal of such numbers allowed: still a pool number after the upgrade."""
    db.add(ProxyNumber(phone_number=phone, country_code=1, area_code=phone[2:5],
                       status="active", created_at=clock(), sms=True, voice=True))
    db.commit()


def test_a_pool_number_that_is_an_ended_sessions_phone_added_again_is_already_in_the_pool(
        client, admin, add_numbers, create, booking, db, clock):
    """API.md: the same number again is a 409, and the CLI leaves a number in the pool as it
    is. Such a number, pooled before the refusal of an ended session's phone, was told 'erase
    that data first', which the erasure refuses (422: one of the service's own numbers)."""
    add_numbers(*SF_NUMBERS)
    closed = create("bk_closed").get_json()
    client.post(f"/v1/sessions/{closed['id']}/close", headers=booking)
    _pooled_before_the_refusal(db, clock, REQUESTER)
    response = client.post("/v1/numbers", json={"phone_number": REQUESTER}, headers=admin)
    assert response.status_code == 409
    assert response.get_json()["detail"] == f"{REQUESTER} is already in the pool"


def test_a_participants_phone_may_join_the_pool_once_their_data_is_erased(
        client, admin, add_numbers, create, booking, api_key):
    """A number that changed hands: the former owner's data erased, it may be a proxy number."""
    add_numbers(*SF_NUMBERS)
    closed = create("bk_closed").get_json()
    client.post(f"/v1/sessions/{closed['id']}/close", headers=booking)
    erased = client.post(f"/v1/subjects/{REQUESTER}/erase",
                         headers=api_key("privacy") | {"X-Access-Reason": "number reassigned"})
    assert erased.status_code == 200, erased.get_json()
    response = client.post("/v1/numbers", json={"phone_number": REQUESTER}, headers=admin)
    assert response.status_code == 201, response.get_json()


def test_re_adding_a_retired_number_brings_it_back_with_the_given_capabilities(
        client, admin, add_numbers, audited, clock, create):
    add_numbers(NUMBER, capabilities=("sms",))
    client.delete(f"/v1/numbers/{NUMBER}", headers=admin)
    clock.advance(hours=1)
    # API.md: "the same number again → 409", retired or not, unless asked to bring it back.
    plain = client.post("/v1/numbers", json={"phone_number": NUMBER}, headers=admin)
    assert plain.status_code == 409 and plain.get_json()["detail"] == (
        f'{NUMBER} is already in the pool, retired since 2026-06-01T12:00:00Z: send'
        ' "reactivate": true to bring it back')
    response = client.post("/v1/numbers", json={"phone_number": "(646) 555-0001",
                                                "capabilities": ["voice", "mms"],
                                                "reactivate": True},
                           headers=admin)
    assert response.status_code == 201
    assert response.get_json() == {
        "phone_number": NUMBER, "capabilities": ["mms", "voice"], "status": "active",
        "country_code": 1, "area_code": "646", "open_sessions": 0,
        "created_at": "2026-06-01T12:00:00Z", "retired_at": None,
    }
    assert [e["action"] for e in audited] == ["number.added", "number.retired", "number.added"]
    assert audited[-1]["actor"].startswith("key:")
    assert audited[-1]["target"] == {"phone_number": NUMBER}
    assert audited[-1]["details"] == {"capabilities": ["mms", "voice"], "reactivated": True}
    listed = client.get("/v1/numbers?status=active", headers=admin).get_json()["data"]
    assert [n["phone_number"] for n in listed] == [NUMBER]
    body = create(mode="voice").get_json()
    assert body["requester"]["proxy_number"] == body["pro"]["proxy_number"] == NUMBER
    again = client.post("/v1/numbers", json={"phone_number": NUMBER}, headers=admin)
    assert again.status_code == 409 and again.get_json()["detail"] == (
        f"{NUMBER} is already in the pool")
    assert len(audited) == 3


def test_a_number_brought_back_counts_the_sessions_that_kept_it(client, admin, add_numbers,
                                                               create):
    add_numbers(NUMBER)
    create()
    client.delete(f"/v1/numbers/{NUMBER}", headers=admin)
    response = client.post("/v1/numbers", json={"phone_number": NUMBER, "reactivate": True},
                           headers=admin)
    assert response.status_code == 201 and response.get_json()["open_sessions"] == 1


def test_a_retired_number_that_is_a_participants_phone_is_not_brought_back(
        client, admin, add_numbers, create, db, clock):
    add_numbers(*SF_NUMBERS)
    assert create(pro=NUMBER).status_code == 201
    # A retired row for the pro's phone, as if it predated the check on participants' phones.
    db.add(ProxyNumber(phone_number=NUMBER, country_code=1, area_code="646", sms=True,
                       voice=True, mms=False, status="retired", created_at=clock(),
                       retired_at=clock()))
    db.commit()
    response = client.post("/v1/numbers", json={"phone_number": NUMBER}, headers=admin)
    assert response.status_code == 409
    assert "open session" in response.get_json()["detail"]
    assert _numbers(db)[NUMBER][0] == "retired"


def test_a_premium_rate_number_is_never_added_to_the_pool(client, api_key, runner, db):
    """Customers would text and call it at premium rates."""
    response = client.post("/v1/numbers", json={"phone_number": "+19005550123"},
                           headers=api_key("admin"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"phone_number": [
        "is a premium-rate or global-network number, which the service does not call or text"]}

    result = runner.invoke(args=["numbers", "add", "+19005550123"])

    assert result.exit_code == 1
    assert "not added: +19005550123 is a premium-rate" in result.output
    assert db.scalars(select(ProxyNumber)).all() == []


def test_a_number_no_session_can_be_given_is_422_and_not_stored(client, admin, db):
    """Found by an audit: an mms-only number was added (201) and counted as active, but
    allocation never gives it out (a session needs sms or voice)."""
    response = client.post("/v1/numbers", json={"phone_number": NUMBER, "capabilities": ["mms"]},
                           headers=admin)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "capabilities": ["must include sms or voice: a number with mms alone serves no session"]}
    assert db.scalars(select(ProxyNumber)).all() == []


def test_an_admins_stated_reason_is_the_pool_changes_why_in_the_audit_log(client, admin):
    """API.md: every privileged act is audited with who, when, why and what; the reason an
    admin states with a pool change was dropped (found by a privacy audit)."""
    client.post("/v1/numbers", json={"phone_number": NUMBER},
                headers={**admin, "X-Access-Reason": "Miami launch, ticket 77"})
    client.delete(f"/v1/numbers/{NUMBER}",
                  headers={**admin, "X-Access-Reason": "carrier complaint, call (305) 555-0123"})
    client.post("/v1/numbers", json={"phone_number": "+16465550002"}, headers=admin)

    events = client.get("/v1/audit?action=number.added", headers=admin).get_json()["data"]
    events += client.get("/v1/audit?action=number.retired", headers=admin).get_json()["data"]

    assert [(e["action"], e["target"]["phone_number"], e["reason"]) for e in events] == [
        ("number.added", "+1******0002", None),
        ("number.added", "+1******0001", "Miami launch, ticket 77"),
        ("number.retired", "+1******0001", "carrier complaint, call ******0123"),
    ]


def test_adding_a_number_the_pool_has_sends_no_statement_the_database_refuses(
        client, admin, engine):
    """A number already in the pool, added again (a deploy script's `commsvc numbers add`
    run twice, an admin's retry), was an INSERT the unique index refused: answered 409 (or
    brought back) all the same, but each one wrote an ERROR line ("duplicate key value
    violates unique constraint") in PostgreSQL's own log, which alerting on ERROR reads as a
    fault. The same answers; nothing refused."""
    refused = []

    def note(context):
        refused.append(str(context.original_exception).splitlines()[0])

    sa.event.listen(engine, "handle_error", note)
    try:
        assert client.post("/v1/numbers", json={"phone_number": NUMBER},
                           headers=admin).status_code == 201
        assert client.post("/v1/numbers", json={"phone_number": NUMBER},
                           headers=admin).status_code == 409
        client.delete(f"/v1/numbers/{NUMBER}", headers=admin)
        assert client.post("/v1/numbers", json={"phone_number": NUMBER},
                           headers=admin).status_code == 409
        assert client.post("/v1/numbers", json={"phone_number": NUMBER, "reactivate": True},
                           headers=admin).status_code == 201
    finally:
        sa.event.remove(engine, "handle_error", note)
    assert refused == []
