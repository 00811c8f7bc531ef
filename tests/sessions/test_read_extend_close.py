"""GET, list, PATCH (extend) and close of sessions."""
from __future__ import annotations

from commsvc.sessions.routing import find_route
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS, all_pages


def test_get_returns_the_session_as_created(create, add_numbers, client, booking):
    add_numbers(*SF_NUMBERS)
    created = create().get_json()
    response = client.get(f"/v1/sessions/{created['id']}", headers=booking)
    assert response.status_code == 200
    assert response.get_json() == created


def test_list_filters_by_booking_and_pages_newest_first(create, add_numbers, client, booking,
                                                        clock):
    add_numbers(*SF_NUMBERS)
    ids = []
    for n in range(5):
        ids.append(create(f"bk_{n}", requester=f"+1415555040{n}",
                          pro=f"+1415555030{n}").get_json()["id"])
        clock.advance(minutes=1)
    assert all_pages(client, "/v1/sessions?limit=2", booking) == ids[::-1]
    only = client.get("/v1/sessions?booking_id=bk_3", headers=booking).get_json()
    assert [s["id"] for s in only["data"]] == [ids[3]] and only["next_cursor"] is None


def test_list_pages_sessions_created_at_the_same_instant_without_loss(create, add_numbers,
                                                                      client, booking):
    add_numbers(*SF_NUMBERS)
    ids = {create(f"bk_{n}", requester=f"+1415555040{n}", pro=f"+1415555030{n}")
           .get_json()["id"] for n in range(5)}
    seen = all_pages(client, "/v1/sessions?limit=2", booking)
    assert sorted(seen) == sorted(ids)


def test_extend_by_ttl_counts_from_now(create, add_numbers, client, booking, clock):
    add_numbers(*SF_NUMBERS)
    session = create(ttl_seconds=3600).get_json()
    clock.advance(minutes=30)
    response = client.patch(f"/v1/sessions/{session['id']}", json={"ttl_seconds": 7200},
                            headers=booking)
    assert response.status_code == 200
    assert response.get_json()["expires_at"] == "2026-06-01T14:30:00Z"


def test_extend_to_an_explicit_time(create, add_numbers, client, booking):
    add_numbers(*SF_NUMBERS)
    session = create(ttl_seconds=3600).get_json()
    response = client.patch(f"/v1/sessions/{session['id']}",
                            json={"expires_at": "2026-06-20T08:00:00Z"}, headers=booking)
    assert response.status_code == 200
    assert response.get_json()["expires_at"] == "2026-06-20T08:00:00Z"
    again = client.get(f"/v1/sessions/{session['id']}", headers=booking).get_json()
    assert again["expires_at"] == "2026-06-20T08:00:00Z"


def test_extend_to_a_past_time_or_with_nothing_is_422(create, add_numbers, client, booking):
    add_numbers(*SF_NUMBERS)
    session = create().get_json()
    for body in ({"expires_at": "2026-06-01T11:00:00Z"}, {}, {"ttl_seconds": 0},
                 {"ttl_seconds": 60, "expires_at": "2026-06-02T00:00:00Z"}, {"status": "open"}):
        response = client.patch(f"/v1/sessions/{session['id']}", json=body, headers=booking)
        assert response.status_code == 422, body


def test_extend_earlier_than_the_current_end_is_422_and_changes_nothing(create, add_numbers,
                                                                       client, booking):
    add_numbers(*SF_NUMBERS)
    session = create().get_json()  # the default week: ends 2026-06-08T12:00:00Z
    for body, field in (({"ttl_seconds": 86400}, "ttl_seconds"),
                        ({"expires_at": "2026-06-02T12:00:00Z"}, "expires_at")):
        response = client.patch(f"/v1/sessions/{session['id']}", json=body, headers=booking)
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"
        assert "before its current end 2026-06-08T12:00:00Z" in response.get_json()[
            "errors"][field][0]
    again = client.get(f"/v1/sessions/{session['id']}", headers=booking).get_json()
    assert again["expires_at"] == session["expires_at"] == "2026-06-08T12:00:00Z"
    same = client.patch(f"/v1/sessions/{session['id']}",
                        json={"expires_at": session["expires_at"]}, headers=booking)
    assert same.status_code == 200 and same.get_json()["expires_at"] == session["expires_at"]


def test_extend_a_closed_or_expired_session_is_409(create, add_numbers, client, booking,
                                                   clock):
    add_numbers(*SF_NUMBERS)
    closed = create("bk_closed").get_json()
    client.post(f"/v1/sessions/{closed['id']}/close", headers=booking)
    expired = create("bk_expired", pro="+14155550303", ttl_seconds=60).get_json()
    clock.advance(seconds=60)
    for session in (closed, expired):
        response = client.patch(f"/v1/sessions/{session['id']}", json={"ttl_seconds": 3600},
                                headers=booking)
        assert response.status_code == 409
        assert response.content_type == "application/problem+json"


def test_close_is_idempotent_and_frees_the_numbers(create, add_numbers, client, booking, db,
                                                   clock):
    add_numbers(SF_NUMBERS[0])
    session = create().get_json()
    clock.advance(minutes=5)
    first = client.post(f"/v1/sessions/{session['id']}/close", headers=booking)
    assert first.status_code == 200
    body = first.get_json()
    assert body["status"] == "closed" and body["closed_reason"] == "closed"
    clock.advance(minutes=5)
    second = client.post(f"/v1/sessions/{session['id']}/close", headers=booking)
    assert second.status_code == 200 and second.get_json() == body
    assert find_route(db, REQUESTER, SF_NUMBERS[0], clock()) is None
    # With one number in the pool, the same requester can only get a session if it was freed.
    assert create("bk_next", pro="+14155550303").status_code == 201


def test_closing_an_expired_session_leaves_it_expired(create, add_numbers, client, booking,
                                                      clock):
    add_numbers(*SF_NUMBERS)
    session = create(ttl_seconds=60).get_json()
    clock.advance(minutes=2)
    response = client.post(f"/v1/sessions/{session['id']}/close", headers=booking)
    assert response.status_code == 200
    assert response.get_json()["status"] == "expired"


def test_list_by_status_open_and_closed(create, add_numbers, client, booking):
    add_numbers(*SF_NUMBERS)
    open_id = create("bk_open").get_json()["id"]
    closed_id = create("bk_closed", requester="+14155550404", pro=PRO).get_json()["id"]
    client.post(f"/v1/sessions/{closed_id}/close", headers=booking)
    opened = client.get("/v1/sessions?status=open", headers=booking).get_json()["data"]
    closed = client.get("/v1/sessions?status=closed", headers=booking).get_json()["data"]
    assert [s["id"] for s in opened] == [open_id]
    assert [s["id"] for s in closed] == [closed_id]


def test_a_session_past_its_retention_period_is_gone_for_every_read(
        create, add_numbers, client, booking, clock):
    """Found by an audit: export no longer counted a closed session past
    RETENTION_CLOSED_SESSIONS_DAYS (730), but GET and the list still returned it with both
    real numbers until the retention job ran."""
    add_numbers(*SF_NUMBERS)
    old = create("bk_old").get_json()
    assert client.post(f"/v1/sessions/{old['id']}/close", headers=booking).status_code == 200
    clock.advance(days=731)
    kept = create("bk_new", requester="+14155550409", pro="+14155550309").get_json()

    assert client.get(f"/v1/sessions/{old['id']}", headers=booking).status_code == 404
    assert client.post(f"/v1/sessions/{old['id']}/close", headers=booking).status_code == 404
    assert client.patch(f"/v1/sessions/{old['id']}", json={"ttl_seconds": 60},
                        headers=booking).status_code == 404
    assert all_pages(client, "/v1/sessions", booking) == [kept["id"]]
    assert client.get("/v1/sessions?booking_id=bk_old", headers=booking).json["data"] == []
