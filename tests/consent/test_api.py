"""The consent API: state, recording, history, check, bad input, roles and masking."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from commsvc.consent.models import ConsentEvent
from commsvc.records import audit

PHONE = "+14155550101"
MASKED = "+1******0101"
REVOKE_ALL = {"channel": "all", "purpose": "all", "action": "revoke", "source": "support",
              "evidence": {"ticket": "T-1", "form": "support_console", "version": "3"}}
GRANT_MARKETING = {"channel": "sms", "purpose": "marketing", "action": "grant",
                   "source": "signup_form", "evidence": {"form": "signup", "version": "2026-05"}}


@pytest.fixture
def booking(api_key):
    return api_key("booking")


def _events(db) -> int:
    return db.scalar(select(func.count()).select_from(ConsentEvent))


def check(client, headers, channel="sms", purpose="relay", phone=PHONE):
    return client.get("/v1/consent/check", headers=headers,
                      query_string={"phone": phone, "channel": channel, "purpose": purpose})


def test_a_new_phone_has_the_default_state_of_every_channel_and_purpose(client, booking):
    response = client.get(f"/v1/consent/{PHONE}", headers=booking)
    assert response.status_code == 200
    body = response.get_json()
    assert body["phone"] == PHONE
    state = {(r["channel"], r["purpose"]): r for r in body["state"]}
    assert len(state) == 6
    assert state[("sms", "relay")]["allowed"] is True
    assert state[("voice", "transactional")]["reason"] == "default_allowed"
    assert state[("sms", "marketing")] == {
        "channel": "sms", "purpose": "marketing", "allowed": False, "reason": "no_grant",
        "since": None, "basis": "default", "event_id": None}


def test_recording_all_answers_one_new_event_covering_every_channel_and_purpose(
        client, booking, db):
    response = client.post(f"/v1/consent/{PHONE}", json=REVOKE_ALL, headers=booking)
    assert response.status_code == 201
    event = response.get_json()
    assert (event["channel"], event["purpose"], event["action"]) == ("all", "all", "revoke")
    assert event["phone"] == PHONE and event["source"] == "support"
    assert event["created_at"] == "2026-06-01T12:00:00Z"
    assert _events(db) == 1
    state = client.get(f"/v1/consent/{PHONE}", headers=booking).get_json()["state"]
    assert len(state) == 6
    assert all(r["allowed"] is False and r["since"] == "2026-06-01T12:00:00Z"
               and r["event_id"] == event["id"] for r in state)


def test_recording_one_channel_and_purpose_answers_that_event(client, booking):
    response = client.post(f"/v1/consent/{PHONE}", json=GRANT_MARKETING, headers=booking)
    assert response.status_code == 201
    event = response.get_json()
    assert {k: event[k] for k in ("phone", "channel", "purpose", "action", "source")} == {
        "phone": PHONE, "channel": "sms", "purpose": "marketing", "action": "grant",
        "source": "signup_form"}
    assert isinstance(event["id"], int)


def test_the_callers_evidence_is_kept_as_given_and_how_it_arrived_beside_it(client, booking):
    payload = {**GRANT_MARKETING, "evidence": {"form": "signup", "ip": "203.0.113.7",
                                               "api_key_id": "whatever the caller says"}}
    event = client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking).get_json()
    evidence = event["evidence"]
    assert evidence["ip"] == "203.0.113.7" and evidence["form"] == "signup"
    assert evidence["api_key_id"] == "whatever the caller says"
    assert evidence["received"]["api_key_id"].startswith("key_")
    assert evidence["received"]["ip"]


def test_the_caller_cannot_write_the_received_evidence_itself(client, booking, db):
    payload = {**GRANT_MARKETING, "evidence": {"received": {"api_key_id": "key_forged"}}}
    response = client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)
    assert response.status_code == 422
    assert "evidence" in response.get_json()["errors"]
    assert _events(db) == 0


@pytest.mark.parametrize("evidence", [{}, "", "   ", {"a": None}, {"a": ""}, {"": " "},
                                      {"a": {}}, {"a": []}, {"a": [None, {"b": ""}]},
                                      {"a": "\u200b"}, "\u200b \u2060"])
def test_empty_evidence_is_a_422_and_nothing_is_recorded(client, booking, db, evidence):
    """Found by audits: {} and then {"a": null} recorded a grant with no evidence but
    commsvc's own."""
    payload = {**GRANT_MARKETING, "evidence": evidence}
    response = client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)
    assert response.status_code == 422
    assert "must not be empty" in response.get_json()["errors"]["evidence"][0]
    assert _events(db) == 0


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_evidence_holding_what_json_has_not_is_a_422_naming_it(client, booking, db, number):
    """Found by fuzzing: Infinity (and 1e400, read as it) was refused as "(no NaN)"."""
    body = json.dumps({**GRANT_MARKETING, "evidence": {"score": 0}}).replace(
        '"score": 0', f'"score": {number}')
    response = client.post(f"/v1/consent/{PHONE}", data=body, content_type="application/json",
                           headers=booking)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"evidence": [
        "must be plain JSON: no NaN or Infinity (a number such as 1e400 reads as one)"]}
    assert _events(db) == 0


def test_evidence_may_be_a_plain_statement(client, booking):
    payload = {**GRANT_MARKETING, "evidence": "ticked the box on signup page v3"}
    response = client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)
    assert response.status_code == 201
    assert response.get_json()["evidence"]["statement"] == "ticked the box on signup page v3"


def test_ops_sees_the_evidence_without_ips(client, booking, api_key):
    payload = {**GRANT_MARKETING, "evidence": {"form": "signup", "ip": "203.0.113.7"}}
    client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)
    events = client.get(f"/v1/consent/{PHONE}/history",
                        headers=api_key("ops")).get_json()["data"]
    assert events[0]["evidence"]["form"] == "signup"
    assert "ip" not in events[0]["evidence"]
    assert "ip" not in events[0]["evidence"]["received"]
    assert events[0]["evidence"]["received"]["api_key_id"].startswith("key_")


def test_ops_sees_no_ip_or_text_nested_anywhere_in_the_evidence(client, booking, api_key):
    """Found by an audit: only the top level's ip and text were left out."""
    payload = {**GRANT_MARKETING, "evidence": {"form": "signup", "nested": {"a": [
        {"ip": "198.51.100.4", "text": "hello", "kept": 1}]}}}
    client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)

    events = client.get(f"/v1/consent/{PHONE}/history",
                        headers=api_key("ops")).get_json()["data"]

    assert events[0]["evidence"]["nested"] == {"a": [{"kept": 1}]}
    assert events[0]["evidence"]["form"] == "signup"


def test_check_is_not_shadowed_by_the_phone_route_and_follows_the_ledger(client, booking, clock):
    assert check(client, booking).get_json() == {"allowed": True, "reason": "default_allowed"}
    assert check(client, booking, purpose="marketing").get_json() == {
        "allowed": False, "reason": "no_grant"}
    client.post(f"/v1/consent/{PHONE}", json=GRANT_MARKETING, headers=booking)
    assert check(client, booking, purpose="marketing").get_json() == {
        "allowed": True, "reason": "granted"}
    clock.advance(hours=1)
    client.post(f"/v1/consent/{PHONE}", json=REVOKE_ALL, headers=booking)
    assert check(client, booking, channel="voice").get_json() == {
        "allowed": False, "reason": "revoked"}


def test_check_costs_one_statement_the_key_lookup_carrying_the_read(client, booking,
                                                                     connection):
    """Two statements until consent2, each on a connection of its own from the pool."""
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    sa.event.listen(connection, "before_cursor_execute", before)
    try:
        assert check(client, booking).status_code == 200
    finally:
        sa.event.remove(connection, "before_cursor_execute", before)
    assert len(statements) == 1
    assert "api_keys" in statements[0] and "consent_state" in statements[0]


def test_phones_in_national_format_or_url_encoded_are_the_same_phone(client, booking):
    client.post("/v1/consent/(415)%20555-0101", json=REVOKE_ALL, headers=booking)
    assert client.get("/v1/consent/%2B14155550101", headers=booking).get_json()["phone"] == PHONE
    assert check(client, booking, phone="415-555-0101").get_json()["allowed"] is False


def test_an_unencoded_plus_in_the_check_query_is_the_plus_not_a_national_number(
        client, booking):
    """Found by an audit: `curl -G -d phone=+4792345678`, as docs/consent.md shows it, sends
    the + unencoded, read as a space: the check answered for the US number +1 479-234-5678."""
    revoke = client.post("/v1/consent/%2B4792345678", json=REVOKE_ALL, headers=booking)
    assert revoke.status_code == 201, revoke.get_json()

    unencoded = client.get("/v1/consent/check?phone=+4792345678&channel=sms&purpose=relay",
                           headers=booking)
    spaced = client.get("/v1/consent/check?phone=+47+92+34+56+78&channel=sms&purpose=relay",
                        headers=booking)

    assert unencoded.get_json() == {"allowed": False, "reason": "revoked"}
    assert spaced.get_json() == {"allowed": False, "reason": "revoked"}


def test_a_space_sent_as_percent_20_before_a_national_number_stays_national(client, booking):
    """Found by a review: the first rule read every leading space as a plus, so
    ` 6465550123` checked the New Zealand number +64 65550123, not the revoked US one."""
    client.post("/v1/consent/%2B16465550123", json=REVOKE_ALL, headers=booking)

    answer = client.get("/v1/consent/check?phone=%206465550123&channel=sms&purpose=relay",
                        headers=booking)

    assert answer.get_json() == {"allowed": False, "reason": "revoked"}


def test_history_is_oldest_first_and_cursor_paged(client, booking, clock):
    for payload in (GRANT_MARKETING, REVOKE_ALL):
        client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)
        clock.advance(minutes=1)
    client.post(f"/v1/consent/{PHONE}", json={**GRANT_MARKETING, "channel": "voice"},
                headers=booking)
    first = client.get(f"/v1/consent/{PHONE}/history?limit=2", headers=booking).get_json()
    assert [e["action"] for e in first["data"]] == ["grant", "revoke"]
    assert first["next_cursor"]
    rest = client.get(f"/v1/consent/{PHONE}/history?limit=2&cursor={first['next_cursor']}",
                      headers=booking).get_json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    ids = [e["id"] for e in first["data"] + rest["data"]]
    assert ids == sorted(ids)


def _without(field):
    return {k: v for k, v in GRANT_MARKETING.items() if k != field}


@pytest.mark.parametrize("payload,field", [
    ({**GRANT_MARKETING, "channel": "email"}, "channel"),
    ({**GRANT_MARKETING, "purpose": "sales"}, "purpose"),
    ({**GRANT_MARKETING, "action": "maybe"}, "action"),
    ({**GRANT_MARKETING, "source": "Not A Source!"}, "source"),
    ({**GRANT_MARKETING, "source": "sms_keyword"}, "source"),
    # Look-alikes of the system sources (found by an audit).
    ({**GRANT_MARKETING, "source": "sms_keyword."}, "source"),
    ({**GRANT_MARKETING, "source": "sms-keyword:v2"}, "source"),
    ({**GRANT_MARKETING, "source": "twilio.21610"}, "source"),
    ({**GRANT_MARKETING, "evidence": "  "}, "evidence"),
    ({**GRANT_MARKETING, "evidence": ["form"]}, "evidence"),
    ({**GRANT_MARKETING, "evidence": {"blob": "x" * 9000}}, "evidence"),
    ({**GRANT_MARKETING, "evidence": {"a": [[[[[[1]]]]]]}}, "evidence"),
    ({**GRANT_MARKETING, "evidence": {"a": float("nan")}}, "evidence"),
    ({**GRANT_MARKETING, "extra": 1}, "extra"),
    (_without("channel"), "channel"),
    (_without("purpose"), "purpose"),
    (_without("action"), "action"),
    (_without("source"), "source"),
    (_without("evidence"), "evidence"),
])
def test_bad_input_is_a_422_and_records_nothing(client, booking, db, payload, field):
    response = client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert _events(db) == 0


@pytest.mark.parametrize("phone", ["12345", "not-a-phone", "+1415555010199999"])
def test_an_invalid_phone_in_the_path_is_a_422_and_records_nothing(client, booking, db, phone):
    assert client.post(f"/v1/consent/{phone}", json=GRANT_MARKETING,
                       headers=booking).status_code == 422
    assert client.get(f"/v1/consent/{phone}", headers=booking).status_code == 422
    assert client.get(f"/v1/consent/{phone}/history", headers=booking).status_code == 422
    assert _events(db) == 0


@pytest.mark.parametrize("query", [
    {"phone": "12345", "channel": "sms", "purpose": "relay"},
    {"phone": PHONE, "channel": "fax", "purpose": "relay"},
    {"phone": PHONE, "channel": "sms", "purpose": "all"},
    {"phone": PHONE, "channel": "sms"},
    {"channel": "sms", "purpose": "relay"},
])
def test_check_refuses_bad_queries(client, booking, query):
    response = client.get("/v1/consent/check", query_string=query, headers=booking)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("query", ["cursor=abc", "cursor=17", "limit=0", "limit=201"])
def test_history_refuses_bad_paging(client, booking, query):
    response = client.get(f"/v1/consent/{PHONE}/history?{query}", headers=booking)
    assert response.status_code == 422
    assert query.partition("=")[0] in response.get_json()["errors"]


def test_without_a_live_key_every_consent_route_is_401(client, db):
    for headers in ({}, {"Authorization": "Bearer csk_unknown"}):
        assert client.get(f"/v1/consent/{PHONE}", headers=headers).status_code == 401
        assert check(client, headers).status_code == 401
        assert client.post(f"/v1/consent/{PHONE}", json=GRANT_MARKETING,
                           headers=headers).status_code == 401
    assert _events(db) == 0


@pytest.mark.parametrize("role,may_write", [
    ("booking", True), ("ops", False), ("privacy", False), ("admin", True)])
def test_every_role_reads_and_only_booking_and_admin_write(client, api_key, db, role, may_write):
    headers = api_key(role)
    assert client.get(f"/v1/consent/{PHONE}", headers=headers).status_code == 200
    assert client.get(f"/v1/consent/{PHONE}/history", headers=headers).status_code == 200
    assert check(client, headers).status_code == 200
    response = client.post(f"/v1/consent/{PHONE}", json=GRANT_MARKETING, headers=headers)
    assert response.status_code == (201 if may_write else 403)
    assert _events(db) == (1 if may_write else 0)


def test_ops_sees_masked_phones_and_no_message_text_or_ip(client, api_key, booking, db, clock):
    from commsvc.consent import relay

    relay.record_inbound(db, relay.inbound_decision(
        db, from_phone=PHONE, body="STOP", opt_out_type=None, now=clock()),
        from_phone=PHONE, to_phone="+16465550001", message_sid="SM1", body="STOP", now=clock())
    db.commit()
    client.post(f"/v1/consent/{PHONE}", json=GRANT_MARKETING, headers=booking)
    ops = api_key("ops")
    assert client.get(f"/v1/consent/{PHONE}", headers=ops).get_json()["phone"] == MASKED
    events = client.get(f"/v1/consent/{PHONE}/history", headers=ops).get_json()["data"]
    assert {e["phone"] for e in events} == {MASKED}
    assert all("text" not in e["evidence"] and "ip" not in e["evidence"] for e in events)
    assert events[0]["evidence"]["message_sid"] == "SM1"
    full = client.get(f"/v1/consent/{PHONE}/history", headers=booking).get_json()["data"]
    assert full[0]["evidence"]["text"] == "STOP" and full[0]["phone"] == PHONE


@pytest.mark.parametrize("role, reason, shown", [
    ("booking", None, "+16465550001"), ("admin", None, "+16465550001"),
    ("privacy", "ticket 42", "+16465550001"), ("ops", None, "+1******0001"),
    ("privacy", None, "+1******0001")])
def test_the_pool_number_a_stop_was_texted_to_follows_the_pool_rule(
        client, api_key, db, clock, role, reason, shown):
    from commsvc.consent import relay

    relay.record_inbound(db, relay.inbound_decision(
        db, from_phone=PHONE, body="STOP", opt_out_type=None, now=clock()),
        from_phone=PHONE, to_phone="+16465550001", message_sid="SM1", body="STOP", now=clock())
    db.commit()
    headers = api_key(role) | ({"X-Access-Reason": reason} if reason else {})
    events = client.get(f"/v1/consent/{PHONE}/history", headers=headers).get_json()["data"]
    assert events and {e["evidence"]["to"] for e in events} == {shown}


def test_ops_may_not_ask_for_full_numbers(client, api_key):
    headers = {**api_key("ops"), "X-Access-Reason": "curious"}
    assert client.get(f"/v1/consent/{PHONE}", headers=headers).status_code == 403


@pytest.mark.parametrize("role", ["privacy", "admin"])
def test_privacy_and_admin_see_full_numbers_only_with_a_reason_and_that_read_is_audited(
        client, api_key, monkeypatch, role):
    calls = []
    monkeypatch.setattr(audit, "record", lambda db, **kw: calls.append(kw))
    headers = api_key(role)
    assert client.get(f"/v1/consent/{PHONE}", headers=headers).get_json()["phone"] == MASKED
    assert calls == []
    reasoned = {**headers, "X-Access-Reason": "ticket 42: customer asks why texts stopped"}
    assert client.get(f"/v1/consent/{PHONE}", headers=reasoned).get_json()["phone"] == PHONE
    client.get(f"/v1/consent/{PHONE}/history", headers=reasoned)
    assert [c["action"] for c in calls] == ["pii.read", "pii.read"]
    assert calls[0]["reason"] == "ticket 42: customer asks why texts stopped"
    assert calls[0]["target"] == {"resource": "consent_state", "phone": MASKED}
    assert PHONE not in repr(calls)


def test_posting_to_the_check_is_a_405_naming_get_not_a_grant_for_a_phone_called_check(
        client, api_key):
    response = client.post("/v1/consent/check", headers=api_key("booking"), json={
        "channel": "sms", "purpose": "marketing", "action": "grant", "source": "form",
        "evidence": {"form": "x"}})

    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_no_consent_is_recorded_for_one_of_the_services_own_numbers(client, booking, api_key,
                                                                      db):
    """Sessions, sends and erasure refuse a pool number as no one's; a consent grant for one
    was a 201 (found by a black-box audit), a booking app confusing the proxy number with
    the person's."""
    added = client.post("/v1/numbers", headers=api_key("admin"),
                        json={"phone_number": "+16465550001", "capabilities": ["sms"]})
    assert added.status_code == 201

    response = client.post("/v1/consent/+16465550001", headers=booking, json=GRANT_MARKETING)

    assert response.status_code == 422
    assert "not a person's" in response.json["errors"]["phone"][0]
    assert _events(db) == 0


def test_a_revocation_without_evidence_is_recorded_with_how_it_arrived(client, booking, db):
    """A support agent's revoke without an evidence field was a 422 and nothing was recorded:
    the person went on being texted. A request to stop is honoured however it came."""
    payload = {k: v for k, v in REVOKE_ALL.items() if k != "evidence"}
    response = client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)

    assert response.status_code == 201, response.get_json()
    assert set(response.get_json()["evidence"]) == {"received"}
    assert check(client, booking).get_json() == {"allowed": False, "reason": "revoked"}


@pytest.mark.parametrize("evidence", [None, "absent"])
def test_a_grant_without_evidence_is_a_422_and_nothing_is_recorded(client, booking, db,
                                                                    evidence):
    payload = {**GRANT_MARKETING, "evidence": evidence}
    if evidence == "absent":
        del payload["evidence"]
    response = client.post(f"/v1/consent/{PHONE}", json=payload, headers=booking)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["evidence"]
    assert _events(db) == 0


def _evidence_of(size: int) -> dict:
    """Evidence whose compact JSON is `size` bytes."""
    return {"note": "x" * (size - len(json.dumps({"note": ""}, separators=(",", ":"))))}


def test_the_8_kib_evidence_limit_counts_the_callers_evidence_not_what_commsvc_adds(
        client, booking, db):
    """Found by an audit: evidence of 8,150 bytes was a 422 "at most 8192 bytes", as the limit
    was measured after commsvc added `received` (key id, IP, X-Forwarded-For): how much a
    caller could send depended on its address and proxies."""
    behind_a_proxy = {**booking, "X-Forwarded-For": "203.0.113.7, " + "10.0.0.1, " * 15}
    at_the_limit = {**GRANT_MARKETING, "evidence": _evidence_of(8192)}
    over_it = {**GRANT_MARKETING, "evidence": _evidence_of(8193)}

    accepted = client.post(f"/v1/consent/{PHONE}", json=at_the_limit, headers=behind_a_proxy)
    refused = client.post(f"/v1/consent/{PHONE}", json=over_it, headers=behind_a_proxy)

    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["evidence"]["note"] == at_the_limit["evidence"]["note"]
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["evidence"]
    assert _events(db) == 1
