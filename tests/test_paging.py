"""Cursors: an edited cursor is a 422 on `cursor` on every list, never a 500, on both databases."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from commsvc.crypto import phone_hmac
from commsvc.errors import ValidationFailed
from commsvc.paging import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor, filters_digest
from commsvc.records.logs_service import LogFilter
from tests.records.logdata import add_message, add_session

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Lists keyed by one integer id, and lists keyed by (created_at, string id).
ID_LISTS = ["/v1/logs/calls", "/v1/audit", "/v1/numbers", "/v1/consent/+14155550101/history"]
TIME_LISTS = ["/v1/sessions", "/v1/holds"]
NAME_OF = {"/v1/logs/calls": "calls", "/v1/audit": "audit", "/v1/numbers": "numbers",
           "/v1/consent/+14155550101/history": "consent_history:"
           + phone_hmac("test-hmac-key", "+14155550101")[:12], "/v1/sessions": "sessions",
           "/v1/holds": "holds", "/v1/logs/messages": "messages"}
# The filters each list is asked with when none is given (a cursor is bound to them).
FILTERS_OF = {"/v1/holds": {"include_lifted": False}}
FIRST_DAY = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
LAST_MICROSECOND = dt.datetime.max.replace(tzinfo=dt.UTC)
MICROSECONDS_BEFORE_EPOCH = -62135596800 * 10**6  # FIRST_DAY


def _edited(*key, of: str) -> str:
    """A cursor as a client could forge one for a query without filters: versioned JSON in
    unpadded URL-safe base64."""
    raw = json.dumps([3, of, filters_digest({}), *key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_IDS = [2**63, INT64_MIN - 1, 99999999999999999999999, -(10**40)]
BAD_TIME_KEYS = [
    (2**63, "ses_1"), (10**22, "ses_1"),  # past what a 64-bit column holds
    (2**62, "ses_1"), (MICROSECONDS_BEFORE_EPOCH - 1, "ses_1"),  # past year 9999 / before 1
    (0, "ses\x001"),  # PostgreSQL text cannot hold NUL
    (0, "ses\ud8001"),  # a lone surrogate is not text any database can store
]


@pytest.mark.parametrize("key", BAD_IDS)
@pytest.mark.parametrize("path", ID_LISTS)
def test_an_id_cursor_outside_the_64_bit_range_is_422_on_cursor(client, api_key, path, key):
    response = client.get(path, query_string={"cursor": _edited(key, of=NAME_OF[path])},
                          headers=api_key("admin"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {"cursor": ["not a cursor this list gave out"]}


def test_the_messages_log_cursor_edited_past_64_bits_is_422_on_cursor(client, api_key, db,
                                                                      clock):
    add_session(db, now=clock())
    add_message(db, now=clock())
    add_message(db, now=clock())
    db.commit()
    headers = api_key("admin")
    cursor = client.get("/v1/logs/messages?limit=1", headers=headers).json["next_cursor"]
    _version, _name, _filters, *key = json.loads(
        base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    int_positions = [i for i, value in enumerate(key) if type(value) is int]
    assert int_positions

    for i in int_positions:  # each integer of the key alone past 64 bits
        edited = _edited(*key[:i], 2**63, *key[i + 1:], of="messages")
        response = client.get("/v1/logs/messages", query_string={"cursor": edited},
                              headers=headers)
        assert response.status_code == 422, key
        assert response.json["errors"] == {"cursor": ["not a cursor this list gave out"]}


@pytest.mark.parametrize("key", BAD_TIME_KEYS)
@pytest.mark.parametrize("path", TIME_LISTS)
def test_a_time_cursor_no_database_can_compare_is_422_on_cursor(client, api_key, path, key):
    response = client.get(path, query_string={"cursor": _edited(*key, of=NAME_OF[path])},
                          headers=api_key("admin"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {"cursor": ["not a cursor this list gave out"]}


@pytest.mark.parametrize("key", [INT64_MIN, INT64_MAX])
@pytest.mark.parametrize("path", ID_LISTS)
def test_an_id_cursor_at_the_edge_of_the_64_bit_range_is_still_a_cursor(client, api_key, path,
                                                                       key):
    response = client.get(path, query_string={"cursor": _edited(key, of=NAME_OF[path])},
                          headers=api_key("admin"))
    assert response.status_code == 200
    assert response.json["next_cursor"] is None


@pytest.mark.parametrize("moment", [FIRST_DAY, LAST_MICROSECOND])
@pytest.mark.parametrize("path", TIME_LISTS)
def test_a_time_cursor_at_the_edge_of_the_datetime_range_is_still_a_cursor(client, api_key,
                                                                           path, moment):
    cursor = encode_cursor(moment, "ses_1", of=NAME_OF[path], filters=FILTERS_OF.get(path, {}))
    response = client.get(path, query_string={"cursor": cursor}, headers=api_key("admin"))
    assert response.status_code == 200
    assert response.json["next_cursor"] is None


@pytest.mark.parametrize(("key", "types"), [
    ((2**63,), (int,)),
    ((INT64_MIN - 1,), (int,)),
    ((2**70, "ses_1"), (dt.datetime, str)),
    ((0, "a\x00"), (dt.datetime, str)),
    ((0, "\udfff"), (dt.datetime, str)),
])
def test_decode_cursor_refuses_keys_a_database_column_cannot_hold(key, types):
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(_edited(*key, of="x"), *types, of="x", filters={})
    assert caught.value.errors == {"cursor": ["not a cursor this list gave out"]}


def test_decode_cursor_round_trips_the_keys_it_encodes():
    key = (LAST_MICROSECOND, "ses_\u00e9")
    assert decode_cursor(encode_cursor(*key, of="x", filters={}), dt.datetime, str, of="x",
                         filters={}) == key
    assert decode_cursor(encode_cursor(INT64_MIN, of="x", filters={}), int, of="x",
                         filters={}) == (INT64_MIN,)


@pytest.mark.parametrize("path", ID_LISTS)
def test_another_lists_cursor_of_the_same_shape_is_422_on_cursor(client, api_key, path):
    """Found by an audit: a numbers cursor given to the calls log (and back) read as one of
    its own, an empty or wrong page instead of an error."""
    other = next(p for p in ID_LISTS if p != path)
    cursor = encode_cursor(1, of=NAME_OF[other], filters={})
    response = client.get(path, query_string={"cursor": cursor}, headers=api_key("admin"))
    assert response.status_code == 422
    assert response.json["errors"] == {"cursor": ["not a cursor this list gave out"]}


def test_another_phones_consent_history_cursor_is_422_on_cursor(client, api_key):
    """Found by an audit: one phone's cursor gave another phone's history an empty page."""
    headers = api_key("admin")
    grant = {"channel": "sms", "purpose": "marketing", "action": "grant", "source": "api",
             "evidence": {"form": "signup"}}
    for phone in ("+14155550101", "+14155550202"):
        for _ in range(2):
            assert client.post(f"/v1/consent/{phone}", json=grant,
                               headers=headers).status_code == 201
    cursor = client.get("/v1/consent/+14155550202/history?limit=1",
                        headers=headers).json["next_cursor"]
    mine = client.get("/v1/consent/+14155550202/history", query_string={"cursor": cursor},
                      headers=headers)
    assert mine.status_code == 200 and len(mine.json["data"]) == 1
    other = client.get("/v1/consent/+14155550101/history", query_string={"cursor": cursor},
                       headers=headers)
    assert other.status_code == 422
    assert other.json["errors"] == {"cursor": ["not a cursor this list gave out"]}
    assert "4155550202" not in cursor and "+1415" not in base64.urlsafe_b64decode(
        cursor + "=" * (-len(cursor) % 4)).decode()


ALL_LISTS = [*ID_LISTS, *TIME_LISTS, "/v1/logs/messages"]
# int() reads each of these as a number the client did not write.
NOT_DIGITS = ["1_0", "\u0665", "\uff15", " 5", "5 ", "+5"]


@pytest.mark.parametrize("written", NOT_DIGITS)
@pytest.mark.parametrize("path", ALL_LISTS)
def test_a_limit_that_is_not_plain_ascii_digits_is_422_on_limit(client, api_key, path,
                                                                written):
    response = client.get(path, query_string={"limit": written}, headers=api_key("admin"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {"limit": ["Not a valid integer."]}


@pytest.mark.parametrize("written", ["-1", "-200", "0", "201"])
@pytest.mark.parametrize("path", ALL_LISTS)
def test_a_limit_out_of_range_is_422_saying_the_range(client, api_key, path, written):
    """A negative limit is a whole number: "Not a valid integer." sent the client looking for
    a typo; it is out of range like 0 and 201."""
    response = client.get(path, query_string={"limit": written}, headers=api_key("admin"))
    assert response.status_code == 422
    [message] = response.json["errors"]["limit"]
    assert message.startswith("Must be greater than or equal to 1 and less than or equal to")


@pytest.mark.parametrize("path", ALL_LISTS)
def test_a_limit_of_plain_digits_is_still_read(client, api_key, path):
    response = client.get(path, query_string={"limit": "007"}, headers=api_key("admin"))
    assert response.status_code == 200


def test_the_cursors_the_guides_show_are_ones_the_lists_give_out_now():
    """Found by a time audit: docs/records-access.md showed the messages log answering
    "next_cursor": "WzEsODEyXQ", a cursor of the first version ([1, 812]), which the log
    answers with a 422 since it lists platform sends."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    shown = {name: re.findall(r'"next_cursor": "([A-Za-z0-9_-]+)"', (docs / name).read_text())
             for name in ("records-access.md", "sessions.md")}
    assert shown["records-access.md"] and shown["sessions.md"]
    # The guide's query is phone=+14155550101, its cursor made with the tests' HMAC_KEY.
    shown_filter = LogFilter(phone="+14155550101").for_cursor("test-hmac-key")
    assert decode_cursor(shown["records-access.md"][0], int, dt.datetime, str, of="messages",
                         filters=shown_filter)
    assert decode_cursor(shown["sessions.md"][0], int, of="numbers", filters={"status": "active"})


def test_the_cursor_names_no_phone_of_its_filter():
    """A cursor sits in URLs and logs beside the masked number: its digest is of the number's
    keyed hash, which the last four digits do not undo."""
    phone = "+14155550101"
    filters = LogFilter(phone=phone).for_cursor("test-hmac-key")
    assert filters["phone"] != phone
    cursor = encode_cursor(1, of="calls", filters=filters)
    plain = [filters_digest({"phone": f"+1415555{n:04d}"}) for n in range(10_000)]
    padded = cursor + "=" * (-len(cursor) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded))[2] not in plain


def test_filters_digest_leaves_out_unset_filters_and_their_order():
    assert filters_digest({"a": "x", "b": None}) == filters_digest({"a": "x"})
    assert filters_digest({"a": "x", "b": 1}) == filters_digest({"b": 1, "a": "x"})
    assert filters_digest({"a": "x"}) != filters_digest({"a": "y"}) != filters_digest({})
    moment = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    assert filters_digest({"since": moment}) == filters_digest(
        {"since": moment.astimezone(dt.timezone(dt.timedelta(hours=5)))})


def test_the_longest_cursor_any_list_gives_out_fits_max_cursor_length():
    filters = {"phone": "f" * 64, "booking_id": "b" * 128, "since": LAST_MICROSECOND}
    longest = encode_cursor(INT64_MAX, LAST_MICROSECOND, "m" * 40,
                            of="messages", filters=filters)
    assert len(longest) <= MAX_CURSOR_LENGTH
    assert decode_cursor(longest, int, dt.datetime, str, of="messages", filters=filters)
