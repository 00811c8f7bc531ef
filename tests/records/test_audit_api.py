"""GET /v1/audit: privacy and admin only, newest first, filters and cursor paging."""
from __future__ import annotations

import pytest

from commsvc.records import audit


@pytest.fixture
def events(db, clock):
    made = []
    for actor, action in [("cli", "key.created"), ("key:key_a", "pii.read"),
                          ("key:key_b", "hold.placed"), ("key:key_a", "hold.lifted")]:
        made.append(audit.record(db, actor=actor, action=action, now=clock(),
                                 target={"phone": "+14155550101"}))
        clock.advance(hours=1)
    db.commit()
    return made


def _ids(client, headers, query=""):
    response = client.get("/v1/audit" + query, headers=headers)
    assert response.status_code == 200, response.json
    return [e["id"] for e in response.json["data"]]


@pytest.mark.parametrize("role", ["privacy", "admin"])
def test_audit_log_lists_events_newest_first_with_their_hashes(client, api_key, events, role):
    response = client.get("/v1/audit?action=pii.read", headers=api_key(role))
    assert response.status_code == 200
    [event] = response.json["data"]
    assert event["id"] == events[1].id and event["actor"] == "key:key_a"
    assert event["target"] == {"phone": "+1******0101"}
    assert event["hash"] == events[1].hash and event["prev_hash"] == events[0].hash
    assert event["created_at"] == "2026-06-01T13:00:00Z"


@pytest.mark.parametrize("role", ["ops", "booking"])
def test_other_roles_may_not_read_the_audit_log(client, api_key, events, role):
    assert client.get("/v1/audit", headers=api_key(role)).status_code == 403


def test_audit_filters_by_actor_action_and_time(client, api_key, events):
    headers = api_key("privacy")
    by = {e.action: e.id for e in events}
    assert _ids(client, headers, "?actor=key:key_a") == [by["hold.lifted"], by["pii.read"]]
    # The key's id as `keys list` prints it names the same actor (an ops audit read it so).
    assert _ids(client, headers, "?actor=key_a") == [by["hold.lifted"], by["pii.read"]]
    assert _ids(client, headers, "?action=hold.placed") == [by["hold.placed"]]
    window = "?since=2026-06-01T13:00:00Z&until=2026-06-01T15:00:00Z"
    assert _ids(client, headers, window) == [by["hold.placed"], by["pii.read"]]
    assert _ids(client, headers) == [e.id for e in reversed(events)]


def test_audit_pages_with_a_cursor(client, api_key, events):
    headers = api_key("admin")
    page = client.get("/v1/audit?limit=1&actor=key:key_a", headers=headers).json
    rest = client.get(f"/v1/audit?limit=1&actor=key:key_a&cursor={page['next_cursor']}",
                      headers=headers).json
    assert [e["id"] for e in page["data"] + rest["data"]] == [events[3].id, events[1].id]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("query", ["?limit=0", "?limit=500", "?cursor=xyz", "?since=soon",
                                   "?since=2026-06-02T00:00:00Z&until=2026-06-01T00:00:00Z"])
def test_bad_audit_queries_are_422(client, api_key, query):
    response = client.get("/v1/audit" + query, headers=api_key("privacy"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_an_action_the_service_never_records_is_a_422_naming_the_actions(client, api_key, events):
    response = client.get("/v1/audit?action=pii.raed", headers=api_key("privacy"))

    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["action"]
    assert all(action in message for action in audit.ACTIONS)
    # A known action that was never recorded is still an empty page, not an error.
    assert _ids(client, api_key("privacy"), "?action=subject.erased") == []


def _recorded_actions() -> set[str]:
    """Every action name the code passes to the audit log: `action=` string literals (either
    branch of a conditional) and the `*_ACTION` constants."""
    import ast
    import pathlib

    import commsvc

    found: set[str] = set()
    for path in pathlib.Path(commsvc.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "action":
                values = [node.value.body, node.value.orelse] if isinstance(
                    node.value, ast.IfExp) else [node.value]
                found |= {v.value for v in values
                          if isinstance(v, ast.Constant) and "." in str(v.value)}
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and any(
                    isinstance(t, ast.Name) and t.id.endswith("_ACTION") for t in node.targets):
                found.add(node.value.value)
    return found


def test_the_audit_filter_knows_every_action_the_code_records():
    recorded = _recorded_actions()
    assert "retention.stopped" in recorded and "erasure.replayed" in recorded  # the scan sees
    assert recorded <= set(audit.ACTIONS)
