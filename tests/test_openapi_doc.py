"""What /openapi.json tells clients beyond the views' own schemas."""
from __future__ import annotations

import json
import re


def _reason_parameter(operation: dict) -> dict | None:
    return next((p for p in operation.get("parameters", [])
                 if p["in"] == "header" and p["name"] == "X-Access-Reason"), None)


def test_export_and_erase_document_x_access_reason_as_required(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path, method in (("/v1/subjects/{phone}/export", "get"),
                         ("/v1/subjects/{phone}/erase", "post")):
        parameter = _reason_parameter(paths[path][method])
        assert parameter is not None and parameter["required"] is True


def test_every_guarded_operation_documents_x_access_reason_beside_its_own_parameters(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    operations = [(path, method, op) for path, ops in paths.items() if path.startswith("/v1/")
                  for method, op in ops.items() if isinstance(op, dict)]
    assert len(operations) >= 20
    for path, method, operation in operations:
        parameter = _reason_parameter(operation)
        assert parameter is not None, (method, path)
    logs = paths["/v1/logs/messages"]["get"]
    assert _reason_parameter(logs)["required"] is False
    assert {"phone", "direction", "cursor"} <= {p["name"] for p in logs["parameters"]
                                               if p["in"] == "query"}


def test_export_without_a_reason_is_a_422_naming_the_header(client, api_key):
    response = client.get("/v1/subjects/+14155550101/export", headers=api_key("privacy"))
    assert response.status_code == 422
    assert "X-Access-Reason" in response.get_json()["errors"]


def test_every_route_the_app_serves_is_in_the_document(app, client):
    """Webhooks and probes too (API.md names them), with the methods the app answers."""
    paths = client.get("/openapi.json").get_json()["paths"]
    served = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}
              if rule.endpoint not in ("static", "api-docs.openapi_json",
                                       "api-docs.openapi_swagger_ui",
                                       "docs_assets.swagger_ui_asset")}
    documented = {(path, method) for path, operations in paths.items()
                  for method in operations if method != "parameters"}
    as_openapi = {(re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule), method)
                  for rule, method in served}
    assert as_openapi == documented


def test_webhooks_are_documented_as_signed_form_posts_answered_with_twiml(client):
    sms = client.get("/openapi.json").get_json()["paths"]["/webhooks/twilio/sms"]["post"]
    assert sms["security"] == []
    assert {"in": "header", "name": "X-Twilio-Signature"}.items() <= sms["parameters"][0].items()
    form = sms["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"MessageSid", "From", "To"} <= set(form["required"])
    assert "text/xml" in sms["responses"]["200"]["content"]
    assert "application/problem+json" in sms["responses"]["403"]["content"]


def test_the_call_status_form_documents_every_field_of_a_dial_action(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/webhooks/twilio/call-status"]
    form = operation["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    # What a recorded <Dial>'s action posts and webhooks/forms.py reads.
    assert {"CallSid", "CallStatus", "DialCallSid", "DialCallStatus", "DialCallDuration",
            "RecordingSid"} <= set(form["schema"]["properties"])


def test_a_webhooks_503_is_not_documented_as_retried_by_twilio(client):
    """Twilio does not retry a 5xx answer by default (docs/twilio.md): the document said it
    did, which told operators that an outage loses nothing."""
    paths = client.get("/openapi.json").get_json()["paths"]
    for name in ("sms", "voice", "message-status", "call-status", "recording-status"):
        described = paths[f"/webhooks/twilio/{name}"]["post"]["responses"]["503"]["description"]
        assert "does not retry" in described
        assert "Twilio retries" not in described


def test_a_recordings_status_is_documented_as_null_while_only_the_dial_named_it(client):
    """The Dial action stores a recording's SID without a status (its own callback brings
    that): the call log shows "status": null, which the document did not allow for."""
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    status = schemas["Recording"]["properties"]["status"]
    assert status.get("nullable") is True
    assert "null while only the Dial's action has named the recording" in status["description"]


def test_the_recording_notice_whisper_is_documented_as_a_signed_webhook(client):
    """A <Number url> Twilio requests (signed) when the called party of a recorded call answers:
    an addition to API.md's five webhooks."""
    paths = client.get("/openapi.json").get_json()["paths"]
    operation = paths["/webhooks/twilio/recording-notice"]["post"]
    assert operation["parameters"][0]["name"] == "X-Twilio-Signature"
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"c", "s"}
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"CallSid", "ParentCallSid"} <= set(form["properties"])
    assert "text/xml" in operation["responses"]["200"]["content"]
    # Nothing read from the database: it cannot be a 503. The form is read (the signature
    # covers it), so a malformed chunked body is a 400, as on every webhook.
    assert set(operation["responses"]) == {"200", "400", "403", "413"}


def test_no_operation_lists_a_parameter_twice(client):
    """OpenAPI 3.0: parameters are unique by name and location (the logs listed
    X-Access-Reason twice, from their own schema and from the guard's documentation)."""
    paths = client.get("/openapi.json").get_json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method == "parameters":  # path-level ones, which an operation may override
                continue
            keys = [(p["in"], p["name"].lower()) for p in operation.get("parameters", [])]
            assert len(keys) == len(set(keys)), (method, path, keys)


def test_every_v1_operation_documents_what_the_edge_checks_answer(client):
    """A body or an argument sent to any operation meets the edge checks (input_guard): a body
    that is not JSON (400, 415), too large (413), an argument it does not take (422)."""
    paths = client.get("/openapi.json").get_json()["paths"]
    for path, method in (("/v1/sessions", "post"), ("/v1/consent/{phone}", "post"),
                         ("/v1/holds", "post"), ("/v1/sessions/{session_id}", "get"),
                         ("/v1/sessions/{session_id}/close", "post"),
                         ("/v1/messages/{message_id}", "get")):
        responses = paths[path][method]["responses"]
        assert {"400", "413", "415", "422"} <= set(responses), (method, path)
        assert "application/problem+json" in responses["415"]["content"]


def test_every_v1_operation_documents_the_503_of_a_database_not_answering(client):
    """Every /v1 operation reads its API key from the database (an audit found 503 documented
    on three of them)."""
    paths = client.get("/openapi.json").get_json()["paths"]
    operations = [(path, method, op) for path, ops in paths.items() if path.startswith("/v1/")
                  for method, op in ops.items() if isinstance(op, dict) and "responses" in op]
    assert len(operations) > 20
    for path, method, operation in operations:
        assert "503" in operation["responses"], (method, path)
        assert "application/problem+json" in operation["responses"]["503"]["content"]


def test_the_document_states_the_rule_a_consent_source_must_follow(client):
    """A client generated from the document must not meet a 422 it could not foresee."""
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    source = schemas["ConsentWrite"]["properties"]["source"]

    assert source["pattern"] == "^[a-z0-9][a-z0-9_.:-]{0,31}$"
    assert (source["minLength"], source["maxLength"]) == (1, 32)
    assert set(source["not"]["enum"]) == {"sms_keyword", "twilio_opt_out", "twilio_21610",
                                           "erasure"}


def test_the_cli_prints_the_same_document_as_get_openapi_json(client, runner):
    """Found by an audit: `commsvc openapi print` was flask-smorest's bare spec, 17 paths of
    25, with no webhooks, probes, problem responses or X-Access-Reason."""
    result = runner.invoke(args=["openapi", "print"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == client.get("/openapi.json").json


def test_the_cli_prints_the_documents_members_in_the_order_get_openapi_json_gives_them(
        client, runner):
    """The two differed in order once answers kept their members in the order they are built
    (Flask no longer sorting them): the CLI still sorted its keys, so a diff of a printed
    document against the served one showed every line moved."""
    printed = json.loads(runner.invoke(args=["openapi", "print"]).output)
    served = json.loads(client.get("/openapi.json").get_data(as_text=True))

    assert json.dumps(printed) == json.dumps(served)


def test_the_docs_page_loads_swagger_ui_from_the_service_itself(client):
    """Found by two audits: /docs loaded Swagger UI from a CDN, a blank page offline."""
    from commsvc.api_docs import SWAGGER_UI_ASSETS

    page = client.get("/docs").get_data(as_text=True)
    assert "cdn." not in page and "https://" not in page
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"{SWAGGER_UI_ASSETS}{name}" in page
        asset = client.get(f"{SWAGGER_UI_ASSETS}{name}")
        assert asset.status_code == 200 and len(asset.data) > 1000
    for other in ("index.html", "swagger-ui.js.map", "../../pyproject.toml"):
        refused = client.get(f"{SWAGGER_UI_ASSETS}{other}")
        assert refused.status_code == 404 and refused.mimetype == "application/problem+json"


def test_every_period_filter_documents_which_of_its_bounds_it_includes(client):
    """Found by a time audit: GET /v1/audit's since and until said nothing of their bounds
    (the logs' said since inclusive, until exclusive, which the audit filter is too)."""
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/v1/audit", "/v1/logs/messages", "/v1/logs/calls"):
        described = {p["name"]: p.get("description") for p in paths[path]["get"]["parameters"]}
        assert described["since"] == "created at or after (inclusive)", path
        assert described["until"] == "created before (exclusive)", path


def test_x_access_reason_says_which_acts_record_it(client, api_key):
    """The text said an act whose answer shows full numbers records the reason and nothing else
    does: placing a hold answers the number in full and records none of the header, and a pool
    change records it (number.added) though it shows nobody's number."""
    admin = api_key("admin")
    reasoned = {**admin, "X-Access-Reason": "ticket 77"}
    hold = client.post("/v1/holds", headers=reasoned, json={
        "scope": "phone", "value": "+14155550101", "reason": "litigation"})
    assert (hold.status_code, hold.get_json()["value"]) == (201, "+14155550101")
    assert client.post("/v1/numbers", json={"phone_number": "+16465550001"},
                       headers=reasoned).status_code == 201
    events = client.get("/v1/audit", headers=admin).get_json()["data"]
    assert {e["action"] for e in events if e["reason"] == "ticket 77"} == {"number.added"}

    paths = client.get("/openapi.json").get_json()["paths"]
    pool = _reason_parameter(paths["/v1/numbers"]["post"])["description"]
    assert _reason_parameter(paths["/v1/holds"]["post"])["description"] == pool
    assert "change to the pool" in pool and "placing a hold" in pool


def test_a_range_past_a_docs_assets_end_is_a_416_that_says_its_length(client):
    """Found by an audit: the problem+json 416 dropped Werkzeug's Content-Range (RFC 9110:
    a 416 names the representation's length as `bytes */LENGTH`)."""
    from commsvc.api_docs import SWAGGER_UI_ASSETS

    whole = client.get(f"{SWAGGER_UI_ASSETS}swagger-ui.css")
    response = client.get(f"{SWAGGER_UI_ASSETS}swagger-ui.css",
                          headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416
    assert response.content_type == "application/problem+json"
    assert response.headers["Content-Range"] == f"bytes */{len(whole.data)}"


# API.md's table of roles, operation by operation.
_READERS = ["booking", "ops", "privacy", "admin"]
ROLES_BY_API_MD = {
    ("post", "/v1/sessions"): ["booking", "admin"],
    ("get", "/v1/sessions"): _READERS,
    ("get", "/v1/sessions/{session_id}"): _READERS,
    ("patch", "/v1/sessions/{session_id}"): ["booking", "admin"],
    ("post", "/v1/sessions/{session_id}/close"): ["booking", "admin"],
    ("get", "/v1/numbers"): _READERS,
    ("post", "/v1/numbers"): ["admin"],
    ("delete", "/v1/numbers/{phone_number}"): ["admin"],
    ("get", "/v1/consent/{phone}"): _READERS,
    ("post", "/v1/consent/{phone}"): ["booking", "admin"],
    ("get", "/v1/consent/{phone}/history"): _READERS,
    ("get", "/v1/consent/check"): _READERS,
    ("post", "/v1/messages"): ["booking", "admin"],
    # A platform text is a row of the communication logs (GET /v1/logs/messages): ops reads it.
    ("get", "/v1/messages/{message_id}"): _READERS,
    ("get", "/v1/logs/messages"): ["ops", "privacy", "admin"],
    ("get", "/v1/logs/calls"): ["ops", "privacy", "admin"],
    ("get", "/v1/audit"): ["privacy", "admin"],
    ("post", "/v1/holds"): ["privacy", "admin"],
    ("get", "/v1/holds"): ["privacy", "admin"],
    ("delete", "/v1/holds/{hold_id}"): ["privacy", "admin"],
    ("get", "/v1/subjects/{phone}/export"): ["privacy", "admin"],
    ("post", "/v1/subjects/{phone}/erase"): ["privacy", "admin"],
}


def test_every_v1_operation_documents_the_roles_api_md_gives_it(client):
    """Found by a contract walk: the document said only that a role "may not do this" (403),
    never which roles may, so a reader of /docs could not tell which key an operation takes."""
    paths = client.get("/openapi.json").get_json()["paths"]
    documented = {(method, path): operation for path, ops in paths.items()
                  if path.startswith("/v1/") for method, operation in ops.items()
                  if isinstance(operation, dict)}
    assert set(documented) == set(ROLES_BY_API_MD)
    for key, roles in ROLES_BY_API_MD.items():
        assert documented[key]["x-roles"] == roles, key
        assert documented[key]["description"].startswith(
            f"Roles: {', '.join(roles)} (any other key: 403)."), key


def test_a_recording_status_documented_is_one_the_service_can_store(client):
    """Found in review: the Recording schema said a status may be in-progress, which the Dial
    never asks Twilio to report (RECORDING_EVENTS); docs/records-access.md says so (5a5e00b)."""
    from commsvc.relay.statuses import RECORDING_STATUS_RANK
    from webhooks.twiml import RECORDING_EVENTS

    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    description = schemas["Recording"]["properties"]["status"]["description"]
    named = {word for word in re.findall(r"[a-z]+(?:-[a-z]+)*", description)
             if word in RECORDING_STATUS_RANK}
    # Twilio reports what the Dial asks for, and failed always.
    assert {"completed", "failed"} <= named <= set(RECORDING_EVENTS.split()) | {"failed"}


def test_the_answers_that_make_a_resource_document_its_location(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    answers = [paths["/v1/sessions"]["post"]["responses"]["201"],
               paths["/v1/sessions"]["post"]["responses"]["200"],
               paths["/v1/messages"]["post"]["responses"]["202"]]
    for answer in answers:
        assert answer["headers"]["Location"]["required"] is True
