"""POST /v1/sessions costs the fewest statements the guarantees allow: no read-back, no
SAVEPOINTs of its own (the test harness wraps each request's transaction in one)."""
from __future__ import annotations

import re

import pytest

from tests.conftest import StatementRecording
from tests.sessions.conftest import PRO, REQUESTER, SF_NUMBERS


def _label(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper()
    if verb == "SELECT":
        return f"SELECT {words[words.index('FROM') + 1]}"
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    if verb == "WITH":  # INSERTs in WITH: one statement, named by what it inserts
        return " + ".join(f"INSERT {table}"
                          for table in re.findall(r"INSERT INTO (\w+)", statement))
    return verb


@pytest.fixture
def statements(engine):
    """The statements sent while the `with` block runs, each as verb and table."""
    return StatementRecording(engine, lambda statement, _parameters: _label(statement))


def test_a_new_session_costs_the_key_lookup_and_its_inserts(create, add_numbers, statements,
                                                           engine):
    add_numbers(*SF_NUMBERS)
    with statements as seen:
        response = create()
    assert response.status_code == 201
    body = response.get_json()
    assert body["requester"]["phone"] == REQUESTER and body["pro"]["phone"] == PRO
    assert {body["requester"]["proxy_number"], body["pro"]["proxy_number"]} <= set(SF_NUMBERS)
    # The key, then the session (which checks that neither phone is ours, that the booking has
    # no open session and neither phone an overdue one) and each participant (choice and
    # insert in one statement); the answer is built from them. PostgreSQL makes the three
    # INSERTs one statement.
    inserts = ["INSERT sessions", "INSERT session_participants", "INSERT session_participants"]
    if engine.dialect.name == "postgresql":
        inserts = [" + ".join(inserts)]
    assert [s for s in seen if s not in ("SAVEPOINT", "RELEASE")] == [
        "SELECT api_keys", *inserts]
    assert seen.count("SAVEPOINT") <= 1  # the harness's, none of the creation's own


@pytest.mark.pg_only
@pytest.mark.parametrize("mode", ["sms", "voice", "sms_and_voice"])
def test_psycopg_keeps_every_statement_of_a_new_session_parsed(create, add_numbers, mode,
                                                               reparsed_statements):
    # The INSERTs in WITH choose a number for each participant: past psycopg's 4 kB it parsed
    # that statement again on every session (0.2 ms of CPU each).
    add_numbers(*SF_NUMBERS)
    with reparsed_statements as seen:
        response = create(mode=mode)
    assert response.status_code == 201, response.get_json()
    assert seen == []


def test_a_retry_costs_the_insert_that_finds_the_open_session_and_its_reads(
        create, add_numbers, statements, engine):
    add_numbers(*SF_NUMBERS)
    first = create().get_json()
    with statements as seen:
        again = create()
    assert again.status_code == 200 and again.get_json() == first
    # The first INSERT inserts nothing (the booking has an open session); only then is the
    # session read, with its participants.
    inserted = ("INSERT sessions + INSERT session_participants + INSERT session_participants"
                if engine.dialect.name == "postgresql" else "INSERT sessions")
    assert [s for s in seen if s not in ("SAVEPOINT", "RELEASE")] == [
        "SELECT api_keys", inserted, "SELECT sessions", "SELECT session_participants"]
