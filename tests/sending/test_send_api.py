"""POST/GET /v1/messages: the consent gate, quiet hours, bad input and roles."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commsvc.phones import locality
from commsvc.pool.models import ProxyNumber
from commsvc.records.models import AuditEvent
from commsvc.sending.models import OutboundMessage
from tests.sending.conftest import CALIFORNIA, FLORIDA, NEW_YORK, SENDER, utc


def test_transactional_text_is_queued_at_once(send, outbox, clock):
    response = send(to="(212) 555-0123", body="Your pro arrives at 3pm.", booking_id="bk_1")
    assert response.status_code == 202
    assert response.json == {"id": response.json["id"], "status": "queued"}
    [row] = outbox()
    assert (row.id, row.to_phone, row.from_phone, row.body, row.booking_id) == (
        response.json["id"], NEW_YORK, SENDER, "Your pro arrives at 3pm.", "bk_1")
    assert row.status == "queued" and row.next_attempt_at == clock()


def test_marketing_without_a_recorded_grant_is_refused_and_nothing_stored(send, outbox):
    response = send(to=NEW_YORK, purpose="marketing", body="20% off gutters")
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "consent-required"
    assert response.json["reason"] == "no_grant"
    assert "no recorded grant" in response.json["detail"]
    assert outbox() == []


def test_marketing_after_a_grant_is_accepted(send, grant, outbox):
    grant(NEW_YORK)
    response = send(to=NEW_YORK, purpose="marketing", body="20% off gutters")
    assert response.status_code == 202
    assert response.json["status"] == "queued"
    assert [r.purpose for r in outbox()] == ["marketing"]


def test_transactional_to_a_number_that_revoked_sms_is_refused(send, grant, outbox):
    grant(NEW_YORK, action="revoke", purpose="all")
    response = send(to=NEW_YORK, purpose="transactional")
    assert response.status_code == 409
    assert response.json["type"] == "consent-required"
    assert response.json["reason"] == "revoked"
    assert outbox() == []


def test_marketing_grant_later_revoked_is_refused(send, grant, outbox):
    grant(NEW_YORK)
    grant(NEW_YORK, action="revoke")
    assert send(to=NEW_YORK, purpose="marketing").status_code == 409
    assert outbox() == []


def test_marketing_to_florida_at_2030_local_waits_until_8_next_morning(send, grant, clock,
                                                                       outbox):
    clock.set(utc(2026, 6, 2, 0, 30))  # 20:30 EDT in Miami: past Florida's 20:00 limit
    grant(FLORIDA)
    response = send(to=FLORIDA, purpose="marketing", body="Spring tune-up deals")
    assert response.status_code == 202
    assert response.json["status"] == "scheduled"
    assert response.json["scheduled_for"] == "2026-06-02T12:00:00Z"  # 08:00 EDT
    [row] = outbox()
    assert row.next_attempt_at == utc(2026, 6, 2, 12, 0)


def test_marketing_to_california_at_2030_local_goes_at_once(send, grant, clock):
    clock.set(utc(2026, 6, 2, 3, 30))  # 20:30 PDT in San Francisco, inside 8-21
    grant(CALIFORNIA)
    response = send(to=CALIFORNIA, purpose="marketing")
    assert response.status_code == 202
    assert response.json == {"id": response.json["id"], "status": "queued"}


def test_marketing_at_2100_local_is_held_to_the_default_window(send, grant, clock):
    clock.set(utc(2026, 6, 2, 4, 0))  # 21:00 PDT: the window is [8:00, 21:00)
    grant(CALIFORNIA)
    response = send(to=CALIFORNIA, purpose="marketing")
    assert response.json["status"] == "scheduled"
    assert response.json["scheduled_for"] == "2026-06-02T15:00:00Z"  # 08:00 PDT


def test_marketing_before_8_local_waits_for_8_the_same_day(send, grant, clock):
    clock.set(utc(2026, 6, 2, 10, 0))  # 06:00 EDT
    grant(NEW_YORK)
    response = send(to=NEW_YORK, purpose="marketing")
    assert response.json["scheduled_for"] == "2026-06-02T12:00:00Z"


def test_transactional_is_never_held_by_quiet_hours(send, clock):
    clock.set(utc(2026, 6, 2, 7, 0))  # 03:00 in Miami
    response = send(to=FLORIDA, purpose="transactional")
    assert response.status_code == 202
    assert response.json == {"id": response.json["id"], "status": "queued"}


def test_sender_falls_back_to_the_first_active_pool_number_of_the_country(
        app, client, booking, db, clock, outbox):
    app.extensions["config"] = app.extensions["config"].with_overrides(sender_number=None)
    for number, status in (("+16465550009", "retired"), ("+442079460123", "active"),
                           ("+16465550002", "active"), ("+16465550003", "active")):
        place = locality(number)
        db.add(ProxyNumber(phone_number=number, country_code=place.country_code,
                           area_code=place.area_code, status=status, created_at=clock()))
        db.commit()
    response = client.post("/v1/messages", headers=booking,
                           json={"to": NEW_YORK, "body": "hi", "purpose": "transactional"})
    assert response.status_code == 202
    assert [r.from_phone for r in outbox()] == ["+16465550002"]


def test_sender_is_never_the_recipients_own_masked_line(app, client, booking, db, clock, outbox):
    """A reply to a platform text from the recipient's session proxy would be relayed to the
    other participant: the sender is a pool number the recipient is not paired with."""
    from tests.webhooks import factories as f

    app.extensions["config"] = app.extensions["config"].with_overrides(sender_number=None)
    for number in ("+16465550002", "+16465550003"):  # the oldest first
        f.proxy_number(db, number, clock())
    f.open_session(db, clock(), requester=NEW_YORK, requester_proxy="+16465550002",
                   pro="+14155550202", pro_proxy="+16465550003")
    response = client.post("/v1/messages", headers=booking,
                           json={"to": NEW_YORK, "body": "hi", "purpose": "transactional"})
    assert response.status_code == 202
    assert [r.from_phone for r in outbox()] == ["+16465550003"]


@pytest.mark.parametrize("other_sender", [True, False])
def test_a_sender_that_became_the_recipients_masked_line_before_the_send_is_not_used(
        app, client, booking, db, clock, outbox, twilio, other_sender):
    """Found by an audit: the rule was checked only when the text was accepted; a session
    opened before the worker ran made the sender the recipient's masked line, and their reply
    "YES" to the platform's text was relayed to the pro."""
    from commsvc.sending.worker import NO_SENDER, run_once
    from tests.webhooks import factories as f

    app.extensions["config"] = app.extensions["config"].with_overrides(sender_number=None)
    f.proxy_number(db, "+16465550002", clock())
    if other_sender:
        f.proxy_number(db, "+16465550003", clock())
    db.commit()
    response = client.post("/v1/messages", headers=booking,
                           json={"to": NEW_YORK, "body": "hi", "purpose": "transactional"})
    assert [r.from_phone for r in outbox()] == ["+16465550002"]
    f.open_session(db, clock(), requester=NEW_YORK, requester_proxy="+16465550002",
                   pro="+14155550202", pro_proxy="+16465550004")
    db.get(ProxyNumber, db.scalar(select(ProxyNumber.id).where(
        ProxyNumber.phone_number == "+16465550004"))).status = "retired"  # sends from none
    db.commit()

    run_once(app)

    [row] = outbox()
    if other_sender:
        assert (row.status, row.from_phone) == ("simulated", "+16465550003")
        assert [m["from"] for m in twilio.sent] == ["+16465550003"]
    else:  # no other number: waits for one, as for any passing failure
        assert (row.status, row.last_error, twilio.sent) == ("queued", NO_SENDER, [])
    assert response.status_code == 202


def test_a_text_whose_sender_was_retired_before_the_send_goes_from_an_active_number(
        app, client, booking, api_key, db, clock, outbox, twilio):
    """Found by an audit: a text accepted before its sender was retired (to be released at
    Twilio) still went out from it, scheduled marketing hours later too."""
    from commsvc.sending.worker import run_once
    from tests.webhooks import factories as f

    app.extensions["config"] = app.extensions["config"].with_overrides(sender_number=None)
    for number in ("+16465550002", "+16465550003"):
        f.proxy_number(db, number, clock())
    db.commit()
    client.post("/v1/messages", headers=booking,
                json={"to": NEW_YORK, "body": "hi", "purpose": "transactional"})
    assert [r.from_phone for r in outbox()] == ["+16465550002"]
    assert client.delete("/v1/numbers/+16465550002", headers=api_key("admin")).status_code == 200

    run_once(app)

    [row] = outbox()
    assert (row.status, row.from_phone) == ("simulated", "+16465550003")
    assert [m["from"] for m in twilio.sent] == ["+16465550003"]


@pytest.mark.parametrize("to", ["+16465550002", SENDER])
def test_a_text_to_one_of_the_services_own_numbers_is_a_422(app, send, db, clock, outbox, to):
    from tests.webhooks import factories as f

    f.proxy_number(db, "+16465550002", clock())
    db.commit()
    response = send(to=to)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["to"]
    assert outbox() == []


def test_no_sender_number_at_all_is_a_503_pool_exhausted_and_nothing_stored(
        app, client, booking, outbox):
    app.extensions["config"] = app.extensions["config"].with_overrides(sender_number=None)
    response = client.post("/v1/messages", headers=booking,
                           json={"to": NEW_YORK, "body": "hi", "purpose": "transactional"})
    assert response.status_code == 503
    assert response.json["type"] == "pool-exhausted"
    assert outbox() == []


def test_a_pool_whose_only_numbers_are_the_recipients_masked_lines_is_a_503_pool_exhausted(
        app, client, booking, db, clock, outbox):
    """API.md answers a pool that cannot give a session a number without breaking the routing
    rule with 503 `pool-exhausted`; a text no pool number may send is the same state of the
    pool, not of the request (a 409 or 422 the booking app could correct): it was the generic
    `service-unavailable` a database outage is, which the caller could not tell apart."""
    from tests.webhooks import factories as f

    app.extensions["config"] = app.extensions["config"].with_overrides(sender_number=None)
    for number in ("+16465550002", "+16465550003"):
        f.proxy_number(db, number, clock())
    f.open_session(db, clock(), requester=NEW_YORK, requester_proxy="+16465550002",
                   pro="+14155550202", pro_proxy="+16465550003")
    f.open_session(db, clock(), booking_id="bk_2", requester=NEW_YORK,
                   requester_proxy="+16465550003", pro="+14155550303", pro_proxy="+16465550002")
    response = client.post("/v1/messages", headers=booking,
                           json={"to": NEW_YORK, "body": "hi", "purpose": "transactional"})
    assert response.status_code == 503
    assert (response.json["type"], response.json["title"]) == (
        "pool-exhausted", "No number can send this text")
    assert "masked line" in response.json["detail"]
    assert outbox() == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"to": None}, "to"),
        ({"body": None}, "body"),
        ({"purpose": None}, "purpose"),
        ({"to": "not a phone"}, "to"),
        ({"to": "+1555"}, "to"),
        ({"to": "+12125550"}, "to"),
        ({"purpose": "relay"}, "purpose"),
        ({"purpose": "promo"}, "purpose"),
        ({"body": ""}, "body"),
        ({"body": "   \n"}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"body": "\N{GRINNING FACE}" * 801}, "body"),  # 1,602 UTF-16 units
        ({"body": 42}, "body"),
        ({"booking_id": ""}, "booking_id"),
        ({"booking_id": "b" * 129}, "booking_id"),
        ({"booking_id": " bk_1"}, "booking_id"),
        ({"booking_id": "bk_1\n"}, "booking_id"),
        ({"channel": "sms"}, "channel"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_stored(client, booking, outbox,
                                                                   payload, field):
    body = {"to": NEW_YORK, "body": "hello", "purpose": "transactional", **payload}
    body = {k: v for k, v in body.items() if v is not None}  # None: the field is left out
    response = client.post("/v1/messages", json=body, headers=booking)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]
    assert outbox() == []


def test_null_fields_are_a_422(client, booking, outbox):
    response = client.post("/v1/messages", headers=booking,
                           json={"to": None, "body": None, "purpose": None})
    assert response.status_code == 422
    assert {"to", "body", "purpose"} <= set(response.json["errors"])
    assert outbox() == []


def test_a_body_that_is_not_json_is_a_4xx_and_nothing_stored(client, booking, outbox):
    response = client.post("/v1/messages", headers={**booking, "Content-Type": "application/json"},
                           data="{not json")
    assert response.status_code in (400, 422)
    assert outbox() == []


@pytest.mark.parametrize("body", ["\u200b", "\ufeff", "\u200b \u200d\n", "\u2800\u3164",
                                  "\ufe0f", "\u202e\u2066"])
def test_a_body_that_shows_nothing_is_a_422_and_nothing_is_stored(send, outbox, body):
    response = send(body=body)
    assert response.status_code == 422
    assert response.json["errors"] == {"body": ["must not be empty"]}
    assert outbox() == []


@pytest.mark.parametrize("body", ["\N{THUMBS UP SIGN}\ufe0f", "\u200bok",
                                  "\u05e9\u05dc\u05d5\u05dd"])
def test_a_body_with_something_to_show_is_accepted(send, body):
    assert send(body=body).status_code == 202


def test_a_body_of_exactly_1600_characters_is_accepted(send):
    assert send(body="x" * 1600).status_code == 202


@pytest.mark.parametrize(("role", "status"),
                         [("booking", 202), ("admin", 202), ("ops", 403), ("privacy", 403)])
def test_who_may_send(send, api_key, outbox, role, status):
    response = send(headers=api_key(role))
    assert response.status_code == status
    assert len(outbox()) == (1 if status == 202 else 0)


def test_sending_without_a_key_is_a_401(client, outbox):
    response = client.post("/v1/messages",
                           json={"to": NEW_YORK, "body": "hi", "purpose": "transactional"})
    assert response.status_code == 401
    assert outbox() == []


def test_booking_reads_status_full_number_and_body(send, client, booking):
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    response = client.get(f"/v1/messages/{message_id}", headers=booking)
    assert response.status_code == 200
    data = response.json
    assert (data["id"], data["status"], data["to"], data["from"], data["body"]) == (
        message_id, "queued", NEW_YORK, SENDER, "Your pro arrives at 3pm.")
    assert data["created_at"].endswith("Z")


def test_a_text_past_its_retention_reads_as_the_logs_show_it(send, client, booking, db, clock):
    """Found by an audit: the logs hid a body past its retention period, GET /v1/messages/{id}
    still showed it until the retention job ran."""
    import sqlalchemy as sa

    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    db.execute(sa.text("UPDATE outbound_messages SET status = 'delivered' WHERE id = :id"),
               {"id": message_id})
    db.commit()

    clock.advance(days=91)  # past RETENTION_BODIES_DAYS (90)
    response = client.get(f"/v1/messages/{message_id}", headers=booking)
    assert response.status_code == 200
    assert (response.json["status"], response.json["body"]) == ("delivered", None)

    clock.advance(days=640)  # past RETENTION_METADATA_DAYS (730)
    assert client.get(f"/v1/messages/{message_id}", headers=booking).status_code == 404


def test_admin_without_a_reason_sees_a_masked_number_and_no_body(send, client, api_key):
    message_id = send().json["id"]
    response = client.get(f"/v1/messages/{message_id}", headers=api_key("admin"))
    assert response.status_code == 200
    assert response.json["to"] == "+1******0123"
    assert response.json["body"] is None


def test_admin_sees_the_pool_number_a_text_is_sent_from_in_full(send, client, api_key):
    message_id = send().json["id"]
    response = client.get(f"/v1/messages/{message_id}", headers=api_key("admin"))
    assert response.json["from"] == SENDER


def test_admin_with_a_reason_sees_the_number_and_body(send, client, api_key):
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    headers = {**api_key("admin"), "X-Access-Reason": "ticket 42"}
    response = client.get(f"/v1/messages/{message_id}", headers=headers)
    assert (response.json["to"], response.json["body"]) == (NEW_YORK, "Your pro arrives at 3pm.")


@pytest.mark.parametrize("role", ["ops", "privacy"])
def test_ops_and_privacy_read_a_text_masked_and_without_its_body(send, client, api_key, role):
    """API.md: ops reads the communication logs masked and without bodies, and privacy all that
    ops may; a platform text is a row of the messages log, so reading it by id was a 403."""
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    response = client.get(f"/v1/messages/{message_id}", headers=api_key(role))
    assert response.status_code == 200
    assert (response.json["id"], response.json["status"]) == (message_id, "queued")
    assert (response.json["to"], response.json["from"]) == ("+1******0123", "+1******0000")
    assert response.json["body"] is None


def test_privacy_with_a_reason_reads_a_text_in_full_and_the_read_is_audited(
        send, client, api_key, db):
    message_id = send(body="Your pro arrives at 3pm.").json["id"]
    headers = {**api_key("privacy"), "X-Access-Reason": "ticket 42"}
    response = client.get(f"/v1/messages/{message_id}", headers=headers)
    assert (response.json["to"], response.json["from"], response.json["body"]) == (
        NEW_YORK, SENDER, "Your pro arrives at 3pm.")
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read"))
    assert (event.reason, event.target) == ("ticket 42", {"resource": "outbound_message",
                                                           "id": message_id})


def test_ops_may_not_send_a_reason_to_read_a_text_in_full(send, client, api_key):
    message_id = send().json["id"]
    headers = {**api_key("ops"), "X-Access-Reason": "ticket 42"}
    assert client.get(f"/v1/messages/{message_id}", headers=headers).status_code == 403


def test_unknown_message_is_a_404(client, booking):
    response = client.get("/v1/messages/msg_nope", headers=booking)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_the_openapi_document_describes_the_send_gate(client):
    spec = client.get("/openapi.json").get_json()
    post = spec["paths"]["/v1/messages"]["post"]
    assert {"202", "409", "422"} <= set(post["responses"])
    assert "application/problem+json" in post["responses"]["409"]["content"]
    assert "/v1/messages/{message_id}" in spec["paths"]


@pytest.mark.parametrize("to", ["+19005550123", "+8821612345678"])
def test_a_premium_rate_or_global_network_number_is_never_texted(send, db, to):
    response = send(to=to)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"to": [
        "is a premium-rate or global-network number, which the service does not call or text"]}
    assert db.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_a_text_whose_commit_fails_is_never_logged_as_accepted(send, app, outbox, caplog):
    """Found by an audit: "accepted ... (queued)" was logged before the commit, so a commit
    that failed (disk full, connection lost) left a log line for a text never stored."""
    import sqlalchemy as sa

    def fail_commit(session):  # the commit that would store the text, not the key's check
        if any(isinstance(row, OutboundMessage) for row in session.identity_map.values()):
            raise sa.exc.OperationalError("COMMIT", {}, Exception("connection lost"))

    caplog.set_level("INFO", logger="commsvc")
    sa.event.listen(app.extensions["db"].sessionmaker, "before_commit", fail_commit)
    try:
        response = send(to=NEW_YORK, body="Your pro arrives at 3pm.")
    finally:
        sa.event.remove(app.extensions["db"].sessionmaker, "before_commit", fail_commit)
    assert response.status_code == 503
    assert outbox() == [] and "accepted" not in caplog.text

    response = send(to=NEW_YORK, body="Your pro arrives at 3pm.")
    assert response.status_code == 202
    assert f"accepted {response.json['id']} transactional to +1******0123 (queued)" in caplog.text


def test_an_accepted_text_gives_its_status_url_in_location(send, client, booking):
    accepted = send()
    assert accepted.status_code == 202
    location = accepted.headers["Location"]
    assert location == f"/v1/messages/{accepted.json['id']}"
    assert client.get(location, headers=booking).json["id"] == accepted.json["id"]
