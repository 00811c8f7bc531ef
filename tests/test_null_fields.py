"""JSON null in a request body: an optional field given as null is one not given (its default
applies), as many JSON libraries write every unset optional member; a required field given as
null is refused, named. The OpenAPI document says which may be null."""
from __future__ import annotations

import pytest

from commsvc.sessions.schemas import CreateSession
from tests.conftest import pool_and_booking_key

PHONES = {"requester": {"phone": "+14155550101"}, "pro": {"phone": "+14155550202"}}


def _without_times(session: dict) -> dict:
    return {k: v for k, v in session.items()
            if k not in ("id", "booking_id", "created_at")} | {
        "requester": session["requester"]["phone"], "pro": session["pro"]["phone"]}


@pytest.mark.parametrize("field", ["mode", "ttl_seconds", "expires_at", "record_calls"])
def test_an_optional_session_field_given_as_null_takes_its_default(app, clock, field):
    booking = pool_and_booking_key(app, clock, 4, first=16465550001)
    client = app.test_client()
    left_out = client.post("/v1/sessions", headers=booking,
                           json={"booking_id": "bk_out", **PHONES})
    # Another pair of phones: the same pair may not open two sessions on one proxy pair.
    phones = {"requester": {"phone": "+14155550101"}, "pro": {"phone": "+14155550303"}}
    null = client.post("/v1/sessions", headers=booking,
                       json={"booking_id": "bk_null", **phones, field: None})

    assert null.status_code == 201, null.json
    assert {k: v for k, v in _without_times(null.json).items() if k != "pro"} == {
        k: v for k, v in _without_times(left_out.json).items() if k != "pro"}
    assert null.json["mode"] == "sms_and_voice" and null.json["record_calls"] is False


def test_optional_pool_fields_given_as_null_take_their_defaults(client, api_key):
    response = client.post("/v1/numbers", headers=api_key("admin"), json={
        "phone_number": "+16465550001", "capabilities": None, "reactivate": None})

    assert response.status_code == 201, response.json
    assert response.json["capabilities"] == ["sms", "voice"]


@pytest.mark.parametrize(("role", "path", "body", "field"), [
    ("booking", "/v1/sessions", {"booking_id": None, **PHONES}, "booking_id"),
    ("booking", "/v1/sessions", {"booking_id": "bk_1", "requester": None,
                                 "pro": PHONES["pro"]}, "requester"),
    ("booking", "/v1/sessions", {"booking_id": "bk_1", "requester": {"phone": None},
                                 "pro": PHONES["pro"]}, "requester.phone"),
    ("booking", "/v1/messages", {"to": None, "body": "hi", "purpose": "transactional"}, "to"),
    ("admin", "/v1/numbers", {"phone_number": None}, "phone_number"),
    ("privacy", "/v1/holds", {"scope": None, "value": "bk_1", "reason": "litigation"},
     "scope"),
])
def test_a_required_field_given_as_null_is_refused_naming_it(client, api_key, role, path,
                                                             body, field):
    response = client.post(path, headers=api_key(role), json=body)

    assert response.status_code == 422, response.json
    assert response.json["errors"] == {field: ["Field may not be null."]}


def test_extending_with_only_a_null_time_is_extending_with_nothing(app, clock):
    booking = pool_and_booking_key(app, clock, 2, first=16465550001)
    client = app.test_client()
    session = client.post("/v1/sessions", headers=booking,
                          json={"booking_id": "bk_1", **PHONES}).json

    nothing = client.patch(f"/v1/sessions/{session['id']}", headers=booking,
                           json={"expires_at": None})
    extended = client.patch(f"/v1/sessions/{session['id']}", headers=booking,
                            json={"ttl_seconds": 10 * 86400, "expires_at": None})

    assert nothing.status_code == 422
    assert nothing.json["errors"] == {"ttl_seconds": ["give ttl_seconds or expires_at"]}
    assert extended.status_code == 200, extended.json
    assert extended.json["expires_at"] > session["expires_at"]


def test_the_openapi_document_shows_optional_body_fields_nullable_and_required_ones_not(
        client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    create = schemas["CreateSession"]["properties"]

    assert all(create[name].get("nullable") for name in
               ("mode", "ttl_seconds", "expires_at", "record_calls"))
    assert not any(create[name].get("nullable") for name in CreateSession().fields
                   if name in schemas["CreateSession"]["required"])
    assert schemas["AddNumber"]["properties"]["reactivate"]["nullable"] is True


@pytest.mark.parametrize("path", ["/v1/sessions", "/v1/numbers"])
def test_a_query_argument_is_not_documented_nullable(client, path):
    """A query string cannot carry null: only request bodies' optional fields are nullable."""
    parameters = client.get("/openapi.json").json["paths"][path]["get"]["parameters"]

    assert [p["name"] for p in parameters if p["schema"].get("nullable")] == []


def test_every_nullable_body_field_takes_null_as_openapi_3_0_reads_it(client):
    """OpenAPI 3.0.3: `nullable` adds null only to a `type` in the same object, so a nullable
    `oneOf` without one (consent's evidence) still refused null: one of its alternatives
    must be nullable itself (review4)."""
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.0")
    bodies = {operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
              .rsplit("/", 1)[-1]
              for path, operations in document["paths"].items() if path.startswith("/v1/")
              for operation in operations.values()
              if isinstance(operation, dict) and "requestBody" in operation}
    schemas = document["components"]["schemas"]
    null_refused = [
        f"{body}.{name}" for body in sorted(bodies)
        for name, field in schemas[body]["properties"].items()
        if field.get("nullable") and "type" not in field and not any(
            alternative.get("nullable") for alternative in field.get("oneOf", []))]

    assert len(bodies) >= 6
    assert null_refused == []


def test_no_query_argument_or_header_of_any_operation_is_documented_nullable(client):
    """A query string or a header cannot carry null (review4: consent history's cursor and
    the Idempotency-Key header were nullable, from a load_default of None)."""
    paths = client.get("/openapi.json").json["paths"]
    nullable = [f"{method} {path} {parameter['name']}"
                for path, operations in paths.items() for method, operation in operations.items()
                if isinstance(operation, dict)
                for parameter in operation.get("parameters", [])
                if parameter.get("schema", {}).get("nullable")]

    assert nullable == []
