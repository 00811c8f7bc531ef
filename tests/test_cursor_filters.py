"""A cursor continues the query that gave it out: with other filters it is a 422 on `cursor`
telling the client to start again, on every list, never a page that silently misses rows; the
same filters written another way, and another limit, page on."""
from __future__ import annotations

import base64
import json

import pytest

from tests.records.logdata import REQUESTER, add_call, add_message, add_session

OTHER_QUERY = ("given out for a query with other filters: start again without a cursor (only"
               " limit may change between pages)")
UNBOUND = "given out before cursors were bound to their filters: start again without a cursor"
START_AGAIN = ("This cursor continues another query. Ask for the first page again, without a"
               " cursor, with the filters you want.")


@pytest.fixture
def admin(api_key):
    return api_key("admin")


@pytest.fixture
def two_of_everything(client, admin, db, clock):
    """Two rows in every list (and more audit events): each first page of one gives a cursor."""
    for n in range(2):
        clock.advance(seconds=1)
        add_session(db, now=clock(), session_id=f"ses_{n}", booking_id=f"bk_{n}",
                    status="closed")
        add_message(db, now=clock(), session_id=f"ses_{n}", booking_id=f"bk_{n}")
        add_call(db, now=clock(), session_id=f"ses_{n}", booking_id=f"bk_{n}")
        db.commit()
        assert client.post("/v1/numbers", json={"phone_number": f"+1646555010{n}",
                                                 "capabilities": ["sms"]},
                           headers=admin).status_code == 201
        assert client.post("/v1/holds", json={"scope": "booking", "value": f"bk_{n}",
                                               "reason": "case 7"},
                           headers=admin).status_code == 201


# (list, the filters its first page was asked with, other filters the cursor is reused with)
CHANGED = [
    ("/v1/logs/messages", {"direction": "inbound"}, {}),
    ("/v1/logs/messages", {}, {"phone": REQUESTER}),
    ("/v1/logs/messages", {"status": "delivered"}, {"booking_id": "bk_0"}),
    ("/v1/logs/calls", {}, {"session_id": "ses_0"}),
    ("/v1/logs/calls", {"since": "2000-01-01T00:00:00Z"}, {}),
    ("/v1/sessions", {}, {"status": "closed"}),
    ("/v1/sessions", {"status": "closed"}, {"booking_id": "bk_0"}),
    ("/v1/numbers", {"status": "active"}, {}),
    ("/v1/audit", {}, {"action": "hold.placed"}),
    ("/v1/holds", {}, {"include_lifted": "true"}),
]


@pytest.mark.parametrize(("path", "first", "then"), CHANGED)
def test_a_cursor_reused_with_other_filters_is_422_saying_to_start_again(
        client, admin, two_of_everything, path, first, then):
    """Found by the ops-logs audit: a messages cursor of direction=inbound reused without the
    filter listed no platform send at all; every list paged on from the other query's
    position, silently leaving out rows."""
    page = client.get(path, query_string={**first, "limit": 1}, headers=admin).json
    assert page["next_cursor"], page
    response = client.get(path, query_string={**then, "cursor": page["next_cursor"]},
                          headers=admin)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {"cursor": [OTHER_QUERY]}
    assert response.json["detail"] == START_AGAIN


def _every_row(client, headers, path, pages: list[dict]) -> list:
    """The ids of every row, each page asked with its own query (the cursor added)."""
    ids, cursor = [], None
    for query in pages:
        answer = client.get(path, query_string={**query, **({"cursor": cursor} if cursor else {})},
                            headers=headers)
        assert answer.status_code == 200, answer.json
        ids += [row["id"] for row in answer.json["data"]]
        cursor = answer.json["next_cursor"]
    assert cursor is None
    return ids


def test_the_same_query_written_another_way_and_another_limit_page_on(client, admin, db, clock):
    add_session(db, now=clock())
    for _ in range(5):
        clock.advance(seconds=1)
        add_message(db, now=clock())
    db.commit()
    e164 = {"phone": "+14155550101", "since": "2000-01-01T05:00:00+05:00"}
    national = {"phone": "(415) 555-0101", "since": "2000-01-01T00:00:00Z"}
    ids = _every_row(client, admin, "/v1/logs/messages",
                     [{**e164, "limit": 2}, {**national, "limit": 1}, {**e164, "limit": 3}])
    assert len(ids) == len(set(ids)) == 5


def test_an_audit_actor_given_bare_or_with_its_prefix_is_the_same_query(client, admin):
    for n in range(3):
        assert client.post("/v1/holds", json={"scope": "booking", "value": f"bk_{n}",
                                               "reason": "case 7"},
                           headers=admin).status_code == 201
    actor = client.get("/v1/audit?limit=1", headers=admin).json["data"][0]["actor"]
    ids = _every_row(client, admin, "/v1/audit", [
        {"actor": actor, "action": "hold.placed", "limit": 1},
        {"actor": actor.removeprefix("key:"), "action": "hold.placed", "limit": 5}])
    assert len(ids) == 3


def test_holds_asked_with_include_lifted_false_or_without_it_are_the_same_query(client, admin):
    for n in range(3):
        client.post("/v1/holds", json={"scope": "phone", "value": f"+1415555010{n}",
                                        "reason": "case 7"}, headers=admin)
    ids = _every_row(client, admin, "/v1/holds",
                     [{"limit": 1}, {"include_lifted": "false", "limit": 1}, {"limit": 5}])
    assert len(ids) == len(set(ids)) == 3


def test_a_cursor_given_out_before_cursors_were_bound_to_their_filters_is_422(client, admin):
    """Cursors of version 2, in flight at the deploy: which filters they were given out for
    cannot be known, so they are refused like a cursor of other filters."""
    raw = json.dumps([2, "calls", 812]).encode()
    unbound = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = client.get("/v1/logs/calls", query_string={"cursor": unbound}, headers=admin)
    assert response.status_code == 422
    assert response.json["errors"] == {"cursor": [UNBOUND]}
    assert response.json["detail"] == START_AGAIN


def test_the_cli_refuses_a_cursor_of_other_filters_and_pages_on_with_the_same_ones(
        runner, db, clock):
    add_session(db, now=clock())
    for _ in range(3):
        clock.advance(seconds=1)
        add_message(db, now=clock())
    db.commit()
    first = runner.invoke(args=["logs", "messages", "--direction", "inbound", "--limit", "1"])
    cursor = first.stderr.split("more: --cursor ")[1].strip()
    other = runner.invoke(args=["logs", "messages", "--cursor", cursor])
    assert other.exit_code == 2
    assert "start again without a cursor" in other.stderr
    assert other.stdout == ""
    same = runner.invoke(args=["logs", "messages", "--direction", "inbound", "--limit", "5",
                               "--cursor", cursor])
    assert same.exit_code == 0, same.output
    assert len(same.stdout.splitlines()) == 1 + 2  # the header and the two older rows
