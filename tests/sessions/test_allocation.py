"""Which proxy number a participant gets: routing rule, locality, cool-off, capability, retired."""
from __future__ import annotations

import pytest

from commsvc.pool import service as pool_service
from commsvc.sessions.allocation import choose_proxy
from commsvc.sessions.routing import find_route
from tests.sessions.conftest import PRO, REQUESTER

SF = "+14155559001"
SF_2 = "+14155559002"
NYC = "+16465559001"
LONDON = "+442079460001"
LONDON_CALLER = "+442079460123"
MANCHESTER_CALLER = "+441619460123"


def _proxies(response) -> tuple[str, str]:
    body = response.get_json()
    return body["requester"]["proxy_number"], body["pro"]["proxy_number"]


def _close(client, booking, response) -> None:
    client.post(f"/v1/sessions/{response.get_json()['id']}/close", headers=booking)


def test_same_country_is_preferred_over_a_foreign_number(create, add_numbers):
    add_numbers(NYC, LONDON)
    for n in range(3):
        response = create(f"bk_{n}", requester=f"+1415555040{n}", pro=LONDON_CALLER if n == 0
                          else f"+4420794601{n}0")
        assert _proxies(response) == (NYC, LONDON)


def test_own_area_code_is_preferred_within_the_country(create, add_numbers):
    add_numbers(NYC, SF, LONDON)
    response = create(requester=REQUESTER, pro="+16465550202")
    assert _proxies(response) == (SF, NYC)


def test_another_country_is_used_when_the_own_has_no_free_number(create, add_numbers):
    add_numbers(NYC)
    assert create("bk_1", requester=LONDON_CALLER, pro="+16465550202").status_code == 201
    add_numbers(LONDON)
    # NYC is paired with the London caller already; LONDON fits best for them now.
    assert _proxies(create("bk_2", requester=LONDON_CALLER, pro="+16465550303"))[0] == LONDON
    # Manchester shares the country, not the area code, with LONDON: still preferred to NYC.
    assert _proxies(create("bk_3", requester=MANCHESTER_CALLER, pro="+16465550404"))[0] == LONDON


def test_cooloff_avoids_a_number_used_with_a_different_counterpart(create, add_numbers, client,
                                                                   booking, clock, db):
    add_numbers(SF)
    first = create("bk_1", pro=PRO)
    _close(client, booking, first)
    add_numbers(SF_2)
    clock.advance(days=1)
    chosen = {choose_proxy(db, phone=REQUESTER, counterpart="+14155550303", mode="sms",
                           now=clock(), cooloff_seconds=30 * 86400) for _ in range(40)}
    assert chosen == {SF_2}
    assert _proxies(create("bk_2", pro="+14155550303"))[0] == SF_2


def test_cooloff_falls_back_when_only_cooling_numbers_remain(create, add_numbers, client,
                                                             booking, clock):
    add_numbers(SF)
    _close(client, booking, create("bk_1", pro=PRO))
    clock.advance(days=1)
    response = create("bk_2", pro="+14155550303")
    assert response.status_code == 201
    assert _proxies(response)[0] == SF


def test_the_same_counterpart_again_is_not_cooling(create, add_numbers, client, booking, clock,
                                                    db):
    add_numbers(SF, SF_2)
    response = create("bk_1", pro=PRO)
    used = _proxies(response)[0]
    _close(client, booking, response)
    clock.advance(days=1)
    seen = {choose_proxy(db, phone=REQUESTER, counterpart=PRO, mode="sms", now=clock(),
                         cooloff_seconds=30 * 86400) for _ in range(40)}
    assert used in seen
    other = {choose_proxy(db, phone=REQUESTER, counterpart="+14155550303", mode="sms",
                          now=clock(), cooloff_seconds=30 * 86400) for _ in range(40)}
    assert other == {({SF, SF_2} - {used}).pop()}


def test_cooloff_ends_after_the_configured_period(db, add_numbers, create, client, booking,
                                                  clock):
    add_numbers(SF, SF_2)
    response = create("bk_1", pro=PRO)
    used = _proxies(response)[0]
    _close(client, booking, response)
    clock.advance(days=31)
    seen = {choose_proxy(db, phone=REQUESTER, counterpart="+14155550303", mode="sms",
                         now=clock(), cooloff_seconds=30 * 86400) for _ in range(40)}
    assert used in seen


def test_area_code_outranks_cooloff(create, add_numbers, client, booking, clock):
    add_numbers(SF)
    _close(client, booking, create("bk_1", pro=PRO))
    add_numbers(NYC)
    clock.advance(days=1)
    # The preference order is country, area code, then cool-off.
    assert _proxies(create("bk_2", pro="+14155550303"))[0] == SF


@pytest.mark.parametrize(("mode", "expected"), [
    ("sms", {"+14155559001", "+14155559003"}),
    ("voice", {"+14155559002", "+14155559003"}),
    ("sms_and_voice", {"+14155559003"}),
])
def test_capabilities_fit_the_mode(create, add_numbers, mode, expected):
    add_numbers("+14155559001", capabilities=("sms",))
    add_numbers("+14155559002", capabilities=("voice",))
    add_numbers("+14155559003", capabilities=("sms", "mms", "voice"))
    for n in range(6):
        response = create(f"bk_{n}", requester=f"+1415555040{n}", pro=f"+1415555030{n}",
                          mode=mode)
        assert set(_proxies(response)) <= expected


def test_texting_sessions_leave_the_numbers_that_also_call_to_the_sessions_that_need_them(
        create, add_numbers):
    """Found by an audit: the pick among fitting numbers was random, so a busy pro's sms
    sessions took numbers that also call, and their next sms_and_voice session was a 503
    though the pool could have served every one of them."""
    texting = [f"+1415559{n:04d}" for n in range(6)]
    both = [f"+1415558{n:04d}" for n in range(6)]
    add_numbers(*texting, capabilities=("sms",))
    add_numbers(*both)
    for n in range(6):
        response = create(f"bk_sms_{n}", requester=f"+1415555{n:04d}", mode="sms")
        assert response.status_code == 201
        assert set(_proxies(response)) <= set(texting)
    for n in range(6):
        response = create(f"bk_both_{n}", requester=f"+1415556{n:04d}")
        assert response.status_code == 201, response.get_json()
        assert set(_proxies(response)) <= set(both)
    voice_only = "+14155570001"
    add_numbers(voice_only, capabilities=("voice",))
    response = create("bk_voice", requester="+14155570101", pro="+14155570202", mode="voice")
    assert _proxies(response) == (voice_only, voice_only)


def test_a_number_without_the_capability_is_never_given(create, add_numbers):
    add_numbers(SF, capabilities=("sms",))
    response = create(mode="voice")
    assert response.status_code == 503
    assert response.get_json()["type"] == "pool-exhausted"


def test_retired_number_is_never_given_but_open_sessions_keep_it(create, add_numbers, db, clock,
                                                                 client, booking):
    add_numbers(SF)
    kept = create("bk_kept").get_json()
    pool_service.retire_number(db, SF, actor="test", now=clock())
    db.commit()
    add_numbers(SF_2)
    for n in range(4):
        response = create(f"bk_{n}", requester=f"+1415555040{n}", pro=f"+1415555030{n}")
        assert set(_proxies(response)) == {SF_2}
    assert client.get(f"/v1/sessions/{kept['id']}", headers=booking).get_json()[
        "requester"]["proxy_number"] == SF
    route = find_route(db, REQUESTER, SF, clock())
    assert route is not None and route.session_id == kept["id"] and route.other_phone == PRO


def test_only_retired_numbers_left_is_pool_exhausted(create, add_numbers, db, clock):
    add_numbers(SF)
    pool_service.retire_number(db, SF, actor="test", now=clock())
    db.commit()
    assert create().status_code == 503


def test_each_participant_routes_to_the_other(create, add_numbers, db, clock):
    add_numbers(SF, SF_2, NYC)
    body = create().get_json()
    mine = find_route(db, REQUESTER, body["requester"]["proxy_number"], clock())
    theirs = find_route(db, PRO, body["pro"]["proxy_number"], clock())
    assert mine.other_phone == PRO and mine.other_proxy == body["pro"]["proxy_number"]
    assert theirs.other_phone == REQUESTER
    assert theirs.other_proxy == body["requester"]["proxy_number"]
    assert mine.session_id == theirs.session_id == body["id"]
