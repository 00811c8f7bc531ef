"""The logs table never writes a character the terminal would obey: controls, C1, bidi."""
from __future__ import annotations

import json
import unicodedata

import pytest

from tests.records.logdata import add_message, add_session

UNSAFE = {"Cc", "Cf", "Zl", "Zp"}


@pytest.fixture
def hostile(db, clock):
    add_session(db, now=clock())
    add_message(db, now=clock(), body="\r\u2028\u009b31mRED\u202eevil\t\x1b[2J",
                booking_id="bk\u202e1")
    db.commit()


def _unsafe(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) in UNSAFE and c != "\n"}


def test_the_table_escapes_controls_bidi_overrides_and_separators_in_every_cell(
        runner, hostile):
    result = runner.invoke(args=["logs", "messages", "--reason", "ticket 9"])

    assert result.exit_code == 0, result.output
    assert _unsafe(result.output) == set()
    [row] = result.output.splitlines()[1:]
    assert row.endswith("  \\r\\u2028\\x9b31mRED\\u202eevil\\t\\x1b[2J")
    assert "bk\\u202e1" in row


def test_a_long_body_is_cut_in_the_table_but_never_inside_an_escape(runner, db, clock):
    add_session(db, now=clock())
    add_message(db, now=clock(), body="x" * 38 + "\x1b[2J and the rest of a long message")
    db.commit()

    result = runner.invoke(args=["logs", "messages", "--reason", "ticket 9"])

    assert result.exit_code == 0, result.output
    [row] = result.output.splitlines()[1:]
    assert row.endswith("x" * 38 + "\\x1b…")


def test_the_table_keeps_emoji_joiners_and_plain_text(runner, db, clock):
    add_session(db, now=clock())
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    add_message(db, now=clock(), body=f"line one\nline two {family} café")
    db.commit()

    result = runner.invoke(args=["logs", "messages", "--reason", "ticket 9"])

    assert result.exit_code == 0, result.output
    assert f"line one line two {family} café" in result.output


def test_json_lines_escape_them_too_and_still_parse_to_the_body_as_sent(runner, hostile):
    result = runner.invoke(args=["logs", "messages", "--json", "--reason", "ticket 9"])

    assert result.exit_code == 0, result.output
    assert _unsafe(result.output) == set()
    [row] = [json.loads(line) for line in result.output.splitlines()]
    assert row["body"] == "\r\u2028\u009b31mRED\u202eevil\t\x1b[2J"
    assert row["booking_id"] == "bk\u202e1"


def test_json_lines_keep_ordinary_non_ascii_text_as_it_is(runner, db, clock):
    add_session(db, now=clock())
    add_message(db, now=clock(), body="café \U0001f468\u200d\U0001f469 \U000e0041")
    db.commit()

    result = runner.invoke(args=["logs", "messages", "--json", "--reason", "ticket 9"])

    assert result.exit_code == 0, result.output
    assert "café \U0001f468\u200d\U0001f469 \\udb40\\udc41" in result.output
    assert json.loads(result.output)["body"] == "café \U0001f468\u200d\U0001f469 \U000e0041"
