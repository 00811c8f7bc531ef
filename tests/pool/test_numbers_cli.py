"""commsvc numbers add/list/retire."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.pool.models import ProxyNumber
from tests.sessions.conftest import REQUESTER


def test_add_prints_what_was_added_and_what_was_already_there(runner, db):
    first = runner.invoke(args=["numbers", "add", "+16465550001", "(646) 555-0002"])
    assert first.exit_code == 0, first.output
    assert "added +16465550001 (sms,voice)" in first.output
    assert "added +16465550002 (sms,voice)" in first.output
    again = runner.invoke(args=["numbers", "add", "+16465550001", "+16465550003",
                                "--capabilities", "sms,mms"])
    assert again.exit_code == 0, again.output
    assert "already in the pool: +16465550001" in again.output
    assert "added +16465550003 (sms,mms)" in again.output
    stored = {n.phone_number: n.capabilities for n in db.scalars(select(ProxyNumber))}
    assert stored == {"+16465550001": ["sms", "voice"], "+16465550002": ["sms", "voice"],
                      "+16465550003": ["sms", "mms"]}


def test_a_bad_capability_adds_nothing(runner, db):
    bad_capability = runner.invoke(args=["numbers", "add", "+16465550001",
                                         "--capabilities", "fax"])
    assert bad_capability.exit_code == 2
    assert db.scalars(select(ProxyNumber)).all() == []


def test_an_invalid_phone_is_refused_and_the_others_are_still_added(runner, db):
    """As docs/sessions.md says, and as a premium-rate number is refused. Found by an audit:
    one invalid number stopped the whole command (exit 2, nothing added)."""
    result = runner.invoke(args=["numbers", "add", "12", "+16465550001"])

    assert result.exit_code == 1
    assert "added +16465550001 (sms,voice)" in result.output
    assert "not added: '12': not a valid, dialable phone number" in result.output
    assert db.scalars(select(ProxyNumber.phone_number)).all() == ["+16465550001"]


def test_list_is_a_table_with_open_sessions(runner, add_numbers, create):
    add_numbers("+14155559001")
    create()
    runner.invoke(args=["numbers", "add", "+16465550001", "--capabilities", "voice"])
    runner.invoke(args=["numbers", "retire", "+16465550001"])
    result = runner.invoke(args=["numbers", "list"])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.strip().splitlines()]
    assert lines[0] == ["NUMBER", "CAPABILITIES", "STATUS", "OPEN", "SESSIONS"]
    assert lines[1:] == [["+14155559001", "sms,voice", "active", "1"],
                         ["+16465550001", "voice", "retired", "0"]]


def test_retire_unknown_number_fails(runner):
    result = runner.invoke(args=["numbers", "retire", "+16465550999"])
    assert result.exit_code != 0
    assert "no number" in result.output


def test_add_brings_a_retired_number_back_with_the_given_capabilities(runner, db):
    runner.invoke(args=["numbers", "add", "+16465550001"])
    runner.invoke(args=["numbers", "retire", "+16465550001"])
    plain = runner.invoke(args=["numbers", "add", "+16465550001"])
    # Refused, as the API's 409: the number is not in service, so `numbers add X && ...` stops.
    assert plain.exit_code == 1
    assert plain.output == ("Error: not added: +16465550001 is in the pool but retired"
                            " (--reactivate brings it back)\n")
    assert db.scalar(select(ProxyNumber.status)) == "retired"
    result = runner.invoke(args=["numbers", "add", "+16465550001", "--capabilities", "sms",
                                 "--reactivate"])
    assert result.exit_code == 0, result.output
    assert result.output == "reactivated +16465550001 (sms)\n"
    number = db.scalar(select(ProxyNumber))
    assert (number.status, number.retired_at, number.capabilities) == ("active", None, ["sms"])
    again = runner.invoke(args=["numbers", "add", "+16465550001"])
    assert again.exit_code == 0 and again.output == "already in the pool: +16465550001\n"


def test_add_refuses_the_phone_of_a_participant_in_an_open_session_and_adds_the_rest(
        runner, db, add_numbers, create):
    add_numbers("+14155559001")
    create(requester="+14155550101")
    result = runner.invoke(args=["numbers", "add", "(415) 555-0101", "+16465550002"])
    assert result.exit_code == 1
    assert "added +16465550002 (sms,voice)" in result.output
    assert ("not added: +14155550101 is the phone of a participant in an open session"
            in result.output)
    stored = set(db.scalars(select(ProxyNumber.phone_number)))
    assert stored == {"+14155559001", "+16465550002"}


def test_a_long_invalid_phone_is_repeated_cut_as_the_api_cuts_it(runner, db):
    """Found by an operator's audit: a pasted blob given as a phone came back whole, 3,000
    characters on one error line; `keys revoke` and the API's 404s cut at 64."""
    for args in (["numbers", "add", "9" * 3000], ["numbers", "retire", "x" * 3000]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(line) < 160 and "…'" in line


def test_a_number_no_session_can_be_given_adds_nothing(runner, db):
    result = runner.invoke(args=["numbers", "add", "+16465550001", "--capabilities", "mms"])
    assert result.exit_code == 2
    assert "must include sms or voice" in result.output
    assert db.scalars(select(ProxyNumber)).all() == []


def test_add_prints_the_capabilities_stored_as_list_shows_them_not_as_typed(runner, db):
    result = runner.invoke(args=["numbers", "add", "+16465550001", "--capabilities",
                                 "voice,sms,sms"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "added +16465550001 (sms,voice)"
    listed = runner.invoke(args=["numbers", "list"])
    assert "+16465550001     sms,voice" in listed.output


def test_add_leaves_a_pool_number_that_is_an_ended_sessions_phone_as_it_is(
        runner, db, clock, add_numbers, create, client, booking):
    """A number pooled before ended sessions' phones were refused: `numbers add` of it again
    failed (exit 1, 'erase that data first', which the erasure refuses for a pool number)
    where every number already in the pool is left as it is."""
    add_numbers("+14155559001", "+14155559002")
    closed = create("bk_closed").get_json()
    client.post(f"/v1/sessions/{closed['id']}/close", headers=booking)
    db.add(ProxyNumber(phone_number=REQUESTER, country_code=1, area_code="415",
                       status="active", created_at=clock(), sms=True, voice=True))
    db.commit()
    result = runner.invoke(args=["numbers", "add", REQUESTER])
    assert result.exit_code == 0 and result.output == f"already in the pool: {REQUESTER}\n"
