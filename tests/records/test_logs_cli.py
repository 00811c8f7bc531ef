"""`commsvc logs messages|calls`: masked table by default, JSON lines, --reason unmasks, audited."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from commsvc.records.audit import cli_actor
from commsvc.records.models import AuditEvent
from tests.records.logdata import PRO, PROXY_P, REQUESTER, add_call, add_message, add_session


@pytest.fixture
def logs(db, clock):
    add_session(db, now=clock())
    add_message(db, now=clock(), body="Is 9am ok?")
    clock.advance(minutes=1)
    add_message(db, now=clock(), from_phone=PRO, to_phone=PROXY_P, forward_to=REQUESTER,
                body="Yes")
    add_call(db, now=clock(), recording_sid="RE" + "3" * 32)
    db.commit()


def _pii_reads(db):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.read")).all()


def test_messages_table_is_masked_without_bodies(runner, logs, db):
    result = runner.invoke(args=["logs", "messages", "--phone", REQUESTER])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["ID", "CREATED", "DIR", "FROM", "TO", "STATUS", "OUTCOME",
                              "SESSION", "BOOKING", "ERROR", "MEDIA", "BODY"]
    assert len(rows) == 2
    assert "+1******0202" in rows[0] and "+1******0101" in rows[1]
    assert REQUESTER not in result.output and "9am" not in result.output
    assert _pii_reads(db) == []


def test_the_messages_table_says_why_a_text_was_not_delivered(runner, db, clock):
    """Found by an audit: a relayed text that Twilio reported undelivered with 30034 (the
    number's A2P registration missing) or 30007 (carrier filtering) read only "undelivered" in
    the table; the code, which says what to fix, was in --json alone."""
    add_session(db, now=clock())
    failed = add_message(db, now=clock(), status="undelivered")
    failed.error_code = 30034
    db.commit()

    result = runner.invoke(args=["logs", "messages"])

    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert row.split()[header.split().index("ERROR")] == "30034"


def test_json_lines_are_masked_and_follow_the_api_rows(runner, logs):
    result = runner.invoke(args=["logs", "calls", "--json"])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.output.splitlines()]
    assert row["from"] == "+1******0101"
    assert row["recording"] == {"sid": "RE" + "3" * 32, "duration": 65, "status": "completed"}


def test_a_reason_unmasks_and_is_audited_as_the_cli(runner, logs, db):
    result = runner.invoke(args=["logs", "messages", "--json", "--session-id", "ses_1",
                                 "--reason", "ticket 9"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["body"] for r in rows] == ["Yes", "Is 9am ok?"]
    assert rows[1]["from"] == REQUESTER
    [event] = _pii_reads(db)
    assert event.actor == cli_actor() and event.reason == "ticket 9"
    assert event.target == {"resource": "logs.messages", "session_id": "ses_1"}
    assert event.details == {"records": 2, "ids": [r["id"] for r in rows]}


def test_the_table_shows_bodies_with_a_reason(runner, logs):
    result = runner.invoke(args=["logs", "messages", "--reason", "ticket 9"])
    assert result.exit_code == 0
    assert "Is 9am ok?" in result.output and REQUESTER in result.output


def test_more_pages_are_announced_with_their_cursor(runner, logs):
    result = runner.invoke(args=["logs", "messages", "--limit", "1", "--json"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1
    cursor = result.stderr.split("--cursor ")[1].strip()
    rest = runner.invoke(args=["logs", "messages", "--limit", "1", "--json", "--cursor", cursor])
    assert json.loads(rest.stdout)["body"] is None and "--cursor" not in rest.stderr


@pytest.mark.parametrize("args", [
    ["--phone", "12"], ["--status", "teleported"], ["--since", "yesterday"],
    ["--direction", "sideways"], ["--limit", "0"], ["--cursor", "nope"], ["--reason", " "],
    ["--reason", "."],  # says nothing, as the API's X-Access-Reason "." (an operator's audit)
    # What the API refuses in X-Access-Reason (an audit finding): a terminal escape sequence
    # written into the audit trail, or more than 500 characters.
    ["--reason", "ticket 5\x1b[2J\x1b]0;owned\x07"], ["--reason", "ticket " + "x" * 500],
    # A filter given twice: click would keep the last alone (the API answers 422).
    ["--booking-id", "bk_1001", "--booking-id", "bk_2", "--reason", "ticket 9"],
    ["--phone", REQUESTER, "--phone", PRO], ["--limit", "5", "--limit", "7"],
    # An empty option is an unset shell variable (records-access.md): `--cursor "$NEXT"`
    # with NEXT empty listed the first page again, so a pager looped on it forever.
    ["--cursor", "", "--reason", "ticket 9"],
    # What the API's query schema refuses with a 422 (ids longer than any id) listed nothing
    # with exit 0 here: the same filter must fail the same way.
    ["--booking-id", "b" * 129], ["--session-id", "ses_" + "1" * 40], ["--cursor", "c" * 201],
    # A page size the API's ?limit= refuses (ASCII digits only): click's int read them.
    ["--limit", "1_0"], ["--limit", "+2"], ["--limit", "\u0662"],
])
def test_bad_options_are_usage_errors_and_nothing_is_recorded(runner, logs, db, args):
    result = runner.invoke(args=["logs", "messages", *args])
    assert result.exit_code == 2
    assert _pii_reads(db) == []


def test_a_bad_filter_is_explained_in_words_not_a_dict(runner, logs):
    result = runner.invoke(args=["logs", "messages", "--phone", "garbage"])
    assert result.exit_code == 2
    assert "phone: " in result.stderr and "{" not in result.stderr


def test_a_reason_whose_bytes_are_not_utf8_is_a_usage_error(runner, logs, db):
    """Found by an audit: `--reason $'caf\\xe9 ticket 1'` (Latin-1 bytes) failed with a
    UnicodeEncodeError traceback when the read was audited."""
    result = runner.invoke(args=["logs", "messages", "--reason", "caf\udce9 ticket 1"])
    assert result.exit_code == 2 and "UTF-8" in result.output + result.stderr
    assert _pii_reads(db) == []


@pytest.mark.parametrize("written", ["2000-01-01t00:00:00z", "2000-01-01T00:00:00z"])
def test_since_takes_every_time_the_api_takes(runner, logs, written):
    """Found by an audit: the API reads `t` and `z` in lower case (RFC 3339), the CLI's
    `--since` refused them (exit 2): the same filter must list the same rows in both."""
    result = runner.invoke(args=["logs", "messages", "--json", "--since", written])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2
