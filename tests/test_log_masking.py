"""The app's log filter: any phone number a log line carries is masked as phones.mask masks it."""
from __future__ import annotations

import logging
import re
import sys
import time

import pytest
import sqlalchemy as sa

from commsvc.log_masking.phone_numbers import mask_phones
from commsvc.logging_setup import JsonFormatter, MaskPhones, TextFormatter


@pytest.mark.parametrize(("text", "masked"), [
    ("to +14155550101 as SM1", "to +1******0101 as SM1"),
    ("to +447700900123", "to +44******0123"),  # the calling code kept whole, as phones.mask
    ("GET /v1/consent/check?phone=%2B14155550101", "GET /v1/consent/check?phone=%2B1******0101"),
    ("national 4155550101.", "national ******0101."),
    ("msg_123456789012345678901234 and SM0123456789abcdef0123456789abcdef",
     "msg_123456789012345678901234 and SM0123456789abcdef0123456789abcdef"),
    ("session 8c1f0c3e-5b7e-4d0a-9c3e-000000000001",
     "session 8c1f0c3e-5b7e-4d0a-9c3e-000000000001"),
    ("retry 3 at 2026-11-22 06:53:19", "retry 3 at 2026-11-22 06:53:19"),
    # Numbers as people write them, which the API accepts (and a request line then carries).
    ("GET /v1/consent/check?phone=415-555-0101&channel=sms",
     "GET /v1/consent/check?phone=******0101&channel=sms"),
    ("phone=%28415%29%20555-0101&x", "phone=******0101&x"),
    ("phone=%2B1+415+555+0101 HTTP/1.1", "phone=%2B1******0101 HTTP/1.1"),
    ("phone=%2B1%20415%20555%200101 HTTP/1.1", "phone=%2B1******0101 HTTP/1.1"),
    ("call (415) 555-0101.", "call ******0101."),
    ("1.415.555.0101 or 1 415 555 0101", "*******0101 or *******0101"),
    ("to +44 7700 900123", "to +44******0123"),
    # and what only looks like one: an IP, a decimal, a date and time, too many digits.
    ("from 192.168.100.200 in 0.1234567890123 s at 2026-11-22T09:07:46",
     "from 192.168.100.200 in 0.1234567890123 s at 2026-11-22T09:07:46"),
    ("x(415)555-0101 415-555-01012", "x(415)555-0101 415-555-01012"),
    # A 3-digit area code then the 7-digit number, and the French way in pairs.
    ("call 415 5550101 now", "call ******0101 now"),
    ("1 415 5550101, 415-5550101", "*******0101, ******0101"),
    ("phone=415%205550101&x", "phone=******0101&x"),
    ("phone=415%2D555%2D0101&x", "phone=******0101&x"),
    ("phone=%2B1%2D415%2D555%2D0101 HTTP", "phone=%2B1******0101 HTTP"),
    ("phone=415%2f555%2F0101&x", "phone=******0101&x"),
    ("portable 06 12 34 56 78.", "portable ******5678."),
    ("06.12.34.56.78 or 06-12-34-56-78", "******5678 or ******5678"),
    ("+33 6 12 34 56 78", "+33*****5678"),
    # Numbers written with a trunk 0 or an international prefix (00, 011) in groups.
    ("UK caller 020 7946 0958 / 0044 20 7946 0958 / 011 44 20 7946 0958",
     "UK caller *******0958 / **********0958 / ***********0958"),
    ("order 0123 4567, build 010 20 30, v0.12.3", "order 0123 4567, build 010 20 30, v0.12.3"),
    ("UK mobile 07700 900123.", "UK mobile *******0123."),
    # A query string's "+" is a space; German, Dutch and French after 00 as people write them.
    ("phone=020+7946+0958 HTTP/1.1", "phone=*******0958 HTTP/1.1"),
    ("030/1234 5678, 030 12345678, 0170-1234567, 06-12345678",
     "*******5678, *******5678, *******4567, ******5678"),
    ("0033 6 12 34 56 78", "*********5678"),
    # A short start is never taken alone, leaving the rest of the number readable.
    ("001 415 5550101 or 0049 171 1234567", "*********0101 or **********4567"),
    # Two run together, or a count after one, are masked whole rather than left readable.
    ("numbers 020 7946 0958 020 7946 0959", "numbers *******************959"),
    ("from 0044 20 7946 0958 12 times", "from ************5812 times"),
    # and dates with a time, paths and status codes beside them are not numbers.
    ("complaint of 05/06/2026 10:30, on 01.02.2026 12:30, on 05 06 2026 10:30",
     "complaint of 05/06/2026 10:30, on 01.02.2026 12:30, on 05 06 2026 10:30"),
    # A path of 0-led digit groups reads as one number written with "/": masked (a wrong
    # mask costs nothing), the status code beside it kept.
    ("GET /v1/items/0123/4567/8901 200", "GET /v1/items/********8901 200"),
    # Bracketed area codes, one separator all through, a space or "+" between digits.
    ("caller (020) 7946 0958, 020.7946.0958, 020/7946/0958, phone=020%2F7946%2F0958&x",
     "caller *******0958, *******0958, *******0958, phone=*******0958&x"),
    ("phone=(020)+7946+0958&x", "phone=*******0958&x"),
    ("phone=1%204155550101&x, phone=44+20+7946+0958&x",
     "phone=1%20******0101&x, phone=44+******0958&x"),
    # and what is left alone beside them: dates, times, IPs, decimals, ids, short numbers.
    ("on 2026-11-22 or 22/11/2026 at 06:53:19 or 2026-11-22T09:07:46.123456Z",
     "on 2026-11-22 or 22/11/2026 at 06:53:19 or 2026-11-22T09:07:46.123456Z"),
    ("from 10.0.0.1 took 123.4567890 s and 415 5550101.5", "from 10.0.0.1 took 123.4567890 s"
     " and 415 5550101.5"),
    ("msg_0612345678 x06 12 34 56 78 12 34 56 78 90 ticket 4321 order 123 4567",
     "msg_0612345678 x06 12 34 56 78 12 34 56 78 90 ticket 4321 order 123 4567"),
    # Eleven digits in groups after a trunk 0 may well be a number: masked (a wrong mask costs
    # nothing, a number left whole is a leak); a run of 11 after 415 is not one.
    ("06 12 34 56 789 and 415 55501012", "*******6789 and 415 55501012"),
])
def test_mask_phones_masks_every_number_and_nothing_else(text, masked):
    assert mask_phones(text) == masked


def test_two_numbers_glued_into_one_token_are_both_masked_and_long_tokens_never_fail():
    """Found by a review: only the last of two glued numbers was masked; the first fix
    recursed once per number (RecursionError on a long enough token, in a log call)."""
    from commsvc.log_masking.text import mask_text

    assert mask_text("conv-4155550101-4155550102") == "conv-******0101-******0102"
    assert "4155550101" not in mask_text("a-4155550101-" * 4000)
    # found by a fifth review: a date stamp earlier in the token stays readable, and a long
    # run of "%25" failed the call (one recursion per three decodings)
    assert mask_text("job-2026061512-4155550101") == "job-2026061512-******0101"
    assert mask_text("%" + "25" * 3000 + "41").endswith("41")


def test_log_filter_masks_numbers_given_as_arguments():
    record = logging.LogRecord("commsvc.test", logging.INFO, __file__, 1,
                               "carrier opt-out for %s from %s", ("%2B447700900123", "msg_1"),
                               None)
    MaskPhones().filter(record)
    assert record.getMessage() == "carrier opt-out for %2B44******0123 from msg_1"


def test_development_text_lines_carry_utc_times_with_a_z_as_json_lines_do(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")  # a local time would show 07:00
    time.tzset()
    try:
        record = logging.LogRecord("commsvc.x", logging.INFO, __file__, 1, "hello", (), None)
        record.created = 1795867200.25  # 2026-11-28T12:00:00.250Z
        record.request_id = "-"
        line = TextFormatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s").format(record)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

    assert line == "2026-11-28T12:00:00.250Z INFO commsvc.x [-] hello"


@pytest.mark.parametrize("text", [
    "household numbers +14155550101 +14155550202",
    "+14155550101-4155550202",
    "+447911123456 +447911654321",
])
def test_two_numbers_written_side_by_side_are_both_masked(text):
    masked = mask_phones(text)

    for readable in ("4155550101", "5550202", "4155550202", "7911123456", "7911654321",
                     "911654321"):
        assert readable not in masked.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(("text", "masked"), [
    # A "+" sent unencoded in a query string or path arrives as a space: %20.
    ("GET /v1/consent/%2014155559871 HTTP/1.1", "GET /v1/consent/%201******9871 HTTP/1.1"),
    ("GET /v1/logs/messages?phone=%2014155559882", "GET /v1/logs/messages?phone=%201******9882"),
    ("GET /v1/consent/%2B1(415)555-9877 HTTP/1.1", "GET /v1/consent/%2B1******9877 HTTP/1.1"),
    ("+1 (415) 555-0101", "+1******0101"),
])
def test_numbers_in_request_lines_as_clients_really_encode_them_are_masked(text, masked):
    assert mask_phones(text) == masked


def _failing_with(text: str):
    try:
        raise RuntimeError(text)
    except RuntimeError:
        return sys.exc_info()


@pytest.mark.parametrize("json_lines", [True, False], ids=["json", "text"])
def test_a_traceback_in_a_log_line_has_its_numbers_masked(json_lines):
    """A database error's text carries what the failing row held (PostgreSQL's DETAIL: Failing
    row contains (..., +14155550104, ...)); the error line's trace must not."""
    record = logging.LogRecord(
        "commsvc.errors", logging.ERROR, __file__, 1, "unhandled error on %s", ("POST /x",),
        _failing_with("DETAIL:  Failing row contains (7, +14155550104, 4155550104)."))
    record.stack_info = "Stack (most recent call last):\n  phone='+14155550104'"
    MaskPhones().filter(record)
    formatter = JsonFormatter() if json_lines else TextFormatter("%(message)s")

    line = formatter.format(record)

    assert "Failing row contains" in line and "0104" in line
    assert "5550104" not in line


def test_a_traceback_masks_numbers_in_what_a_client_wrote_and_keeps_our_ids():
    """Found by a masking audit: the trace was masked as the service's own words (mask_phones),
    so a booking id in a failing row ("job_4155550101", "415~555~0101") was written whole."""
    record = logging.LogRecord(
        "commsvc.errors", logging.ERROR, __file__, 1, "unhandled error on %s", ("POST /x",),
        _failing_with("Failing row contains (ses_0123456789abcdef01234567, job_4155550101,"
                      " 4155550102_b, 415~555~0103, 2026-11-24 18:00:00+00)."))
    record.stack_info = "Stack (most recent call last):\n  booking_id='bk_4155550104'"
    MaskPhones().filter(record)

    line = JsonFormatter().format(record)

    assert "ses_0123456789abcdef01234567" in line and "2026-11-24 18:00:00+00" in line
    assert not any(f"55501{n:02}" in line for n in range(1, 5))


def test_database_errors_never_carry_the_statements_values(engine):
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as raised:
        conn.execute(sa.text("SELECT CAST(:phone AS INTEGER) / 0 FROM no_such_table"),
                     {"phone": "+14155550104"})

    assert "5550104" not in str(raised.value)


def test_a_kept_number_stays_whole_beside_another_number():
    """Found by a review: the export's subject's own number and the next one made one run,
    masked together ("+1****************0102")."""
    from commsvc.log_masking.text import mask_text

    assert mask_text("+14155550101 415 555 0102", keep=frozenset({"+14155550101"})) == \
        "+14155550101 ******0102"


@pytest.mark.parametrize("text, masked", [
    ("+1415555010114155550102", "+1*******************02"),
    ("4155550102+14155550101", "******0102+*******0101"),
    ("415-555-0102+14155550101", "******0102+*******0101"),
    ("ref KEPTNUMBERQ, caller +14155550101", "ref KEPTNUMBERQ, caller +14155550101"),
])
def test_a_kept_number_glued_to_other_digits_keeps_nothing_readable(text, masked):
    """Found by a review of the fix above: digits glued to the kept number's mark were read as
    part of a word and left whole; a text holding the mark already was rewritten."""
    from commsvc.log_masking.text import mask_text

    assert mask_text(text, keep=frozenset({"+14155550101"})) == masked


@pytest.mark.parametrize("text, masked", [
    # Found by a review: the second number, before "_", was left readable.
    ("x 415_555_0101 415 555 0202_", "x ******0101 ******0202_"),
    ("call 416-555-0202- thanks", "call ******0202- thanks"),
    # Brackets read as spaces no longer rewrite the rest of an ASCII text, nor turn the
    # masked digits' stars into dashes.
    ("SUB_2026_0042: caller [415] 555 01 01", "SUB_2026_0042: caller ******0101"),
    ("ref [v2] tel (415) 555 01 01", "ref [v2] tel ******0101"),
    ("call 415*555*0101 or (415) 555 01 01", "call ******0101 or ******0101"),
])
def test_an_ascii_text_changes_only_where_its_numbers_are(text, masked):
    from commsvc.log_masking.text import mask_text

    assert mask_text(text) == masked


def test_a_text_holding_marks_already_keeps_them_and_the_kept_number():
    from commsvc.log_masking.text import mask_text

    text = "ref KEPTNUMBERQ KEPTNUMBERQQAA " + "KEPTNUMBER" + "Q" * 500 + " +14155550101 4155550202"
    assert mask_text(text, keep=frozenset({"+14155550101"})) == text.replace(
        "4155550202", "******0202")


def test_only_e164_numbers_can_be_kept():
    from commsvc.log_masking.text import mask_text

    assert mask_text("call 415 555 0102", keep=frozenset({"", "+1"})) == "call ******0102"


def test_keycap_digits_are_read_as_digits():
    from commsvc.log_masking.text import mask_text

    keycaps = "".join(digit + "\u20e3" for digit in "4155550101")
    assert mask_text(f"call {keycaps}") == "call ******0101"


@pytest.mark.parametrize(("text", "redacted"), [
    ("Invalid HTTP Header: 'Authorization Bearer abcdefghijk'",
     "Invalid HTTP Header: 'Authorization Bearer REDACTED'"),
    ('header "Bearer abcdefghijk" refused', 'header "Bearer REDACTED" refused'),
    ("Authorization: Bearer 'abcdefghijk'", "Authorization: Bearer 'REDACTED'"),
])
def test_a_redacted_bearer_credential_keeps_the_quote_that_closes_it(text, redacted):
    """Found by an audit: gunicorn's 400 detail came back as "...Bearer REDACTED" without its
    closing quote; a bearer token never holds a quote (RFC 6750's b64token)."""
    from commsvc.log_masking.keys import redact_keys

    assert redact_keys(text) == redacted


@pytest.mark.parametrize("path", ["/v1/consent/ph4155550123", "/v1/consent/4155550123x",
                                  "/v1/consent/\uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11"
                                  "\uff12\uff13", "/v1/consent/612345678"])
def test_an_unexpected_errors_line_masks_the_path_as_the_access_log_does(app, path):
    """Found by a sweep of the processes' output: the 500's ERROR line named the path through
    the log filter alone (mask_phones), which reads none of these as a number."""
    from commsvc.errors import render_unexpected

    records = []
    handler = logging.Handler()
    handler.addFilter(MaskPhones())
    handler.emit = records.append
    logger = logging.getLogger("commsvc.errors")
    logger.addHandler(handler)
    try:
        with app.test_request_context(path):
            try:
                raise RuntimeError("boom")
            except RuntimeError as exc:
                assert render_unexpected(exc).status_code == 500
    finally:
        logger.removeHandler(handler)
    [record] = records
    assert record.getMessage().startswith("unhandled error on GET /v1/consent/")
    assert not any(run in record.getMessage()
                   for run in ("555012", "612345", "\uff15\uff15\uff15"))


@pytest.mark.parametrize(("text", "masked"), [
    ("4155550101_abcdef", "******0101_abcdef"),
    ("415-555-0101_retry", "******0101_retry"),
    ("415_555_0101-x", "******0101-x"),
    ("%34%31%35%35%35%35%30%31%30%31_abcdef", "******0101_abcdef"),
    ("415%2D555%2D0101_abcdef", "******0101_abcdef"),
    ("415-555-0101_415-555-0102", "******0101_******0102"),
    # found by a sweep of punctuation around a number: the API reads these as +14155550101
    ("-4155550101", "-******0101"),
    ("-415-555-0101-", "-******0101-"),
    ("(415)555-0101-ab", "******0101-ab"),
])
def test_a_number_with_a_word_glued_after_it_is_masked_in_text_urls_and_ids(text, masked):
    """Found by a masking audit: a number joined by "_" or "-" to a word after it was logged
    whole, in the access line's URL and as an X-Request-Id the app took for a plain id (and so
    wrote on every log line of the request); a word before it was masked already."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.urls import mask_url
    from commsvc.logging_setup import client_request_id

    assert mask_text(f"ref {text} ok") == f"ref {masked} ok"
    assert mask_url(f"GET /v1/sessions/{text} HTTP/1.1") == f"GET /v1/sessions/{masked} HTTP/1.1"
    assert mask_url(f"GET /v1/sessions?booking_id={text}&x=1") == \
        f"GET /v1/sessions?booking_id={masked}&x=1"
    assert client_request_id("4155550101_abcdef") is None


@pytest.mark.parametrize(("text", "masked"), [
    ("006834002", "*******02"),
    ("caller 00 683 4002 or 00-690-3010.", "caller *******02 or *******10."),
    ("took 0.006834002 s", "took 0.006834002 s"),  # a decimal
])
def test_a_seven_digit_number_dialled_with_00_is_masked_in_text(text, masked):
    """Found by a masking audit: mask_text('006834002') left it whole, Niue's +683 4002 written
    with the international prefix 00 (9 digits, where a loose run needed 10)."""
    from commsvc.log_masking.text import mask_text

    assert mask_text(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("5551234 5551235", "***********235"),
    ("call 555-1234 555-1235", "call ***********235"),
    ("+6834002 +6834003", "+683*********03"),
    ("+298212345+298212346", "+298*************46"),
    ("+14155550101 5551235", "+1***************35"),
])
def test_two_short_numbers_written_together_show_no_more_of_the_second_than_it_alone(text,
                                                                                   masked):
    """Found by a masking audit: two numbers run together are masked as one run, which showed
    its last four digits: most of a 7-digit local number (5551235), all of Niue's +683 4003."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.urls import mask_url

    assert mask_text(text) == masked
    assert mask_url(f"GET /v1/consent/{text.replace(' ', '%20')} HTTP/1.1") == \
        f"GET /v1/consent/{masked.replace(' ', '%20')} HTTP/1.1"


@pytest.mark.parametrize("text", ["~4155550101", "*415-555-0101*", "ab~4155550101",
                                  "4155550101*ab", "ab*415-555-0101"])
def test_a_number_after_a_star_or_tilde_is_masked_as_the_api_reads_it(text):
    """Found by a sweep of punctuation around a number: the API reads "~4155550101" as
    +14155550101, but masking made "*" and "~" a hyphen, and a number after a hyphen is taken
    for digits inside an id, so it was written whole (a user agent, a hold's reason)."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.words import mask_word

    assert "0101" in mask_text(f"ua {text} x") and "555" not in mask_text(f"ua {text} x")
    assert "0101" in mask_word(text) and "555" not in mask_word(text)


@pytest.mark.parametrize(("text", "masked"), [
    ("call 555-1234 now", "call ****234 now"),
    ("call 555.1234 or 555 1235.", "call ****234 or ****235."),
    ("call 555-1234x12", "call ****234x12"),
    ("call \uff15\uff15\uff15\u2013\uff11\uff12\uff13\uff14 now", "call ****234 now"),
    # a bare run of 7 digits (a count, an id), an exchange starting 0 or 1, a part of an id,
    # a version or a longer run stay
    ("sent 5551234 rows, order 123 4567, v555-1234, 1.555.1234, 2026 1234",
     "sent 5551234 rows, order 123 4567, v555-1234, 1.555.1234, 2026 1234"),
])
def test_a_seven_digit_local_number_with_its_separator_is_masked_in_free_text(text, masked):
    """Decided by the team after a masking audit: a local number written without its area code
    (555-1234) in a user agent, a stated reason or an error's echo was written whole, as
    mask_text read a number only from 10 digits (the access line's URL masked it already)."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.words import mask_word

    assert mask_text(text) == masked
    assert mask_word(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("MyApp %4155550101", "MyApp %******0101"),
    ("reason: call %415-555-0101 now", "reason: call %******0101 now"),
    ("%4155550101 %2B14155550102", "%******0101 %2B1******0102"),
    # an escape of digits is still decoded, and a "%" before no number stays as it is
    ("ua %34%31%35%35%35%35%30%31%30%31 x", "ua ******0101 x"),
    ("50%200 done in 2026, 100%", "50%200 done in 2026, 100%"),
    # a "%" before one digit and no escape's second hex digit (masking4's review of 73317ac)
    ("ua %1-415-555-0101 x", "ua %*******0101 x"), ("ua %1.415.555.0101", "ua %*******0101"),
    ("ua %1-4155550101", "ua %*******0101"), ("ua %1F 4155550101", "ua %1F ******0101"),
])
def test_a_number_after_a_literal_percent_sign_is_masked_in_free_text(text, masked):
    """Found while checking the team's %25 decision: free text (a user agent, a stated reason,
    an error's echo) was only ever read decoded, so "%4155550101", which the API reads as
    +14155550101, became "A55550101", no number, and was written whole."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.words import mask_word

    assert mask_text(text) == masked
    assert mask_word(text) == masked


_DECIMALS = {"0.0012345678": "0.0012345678", "4.712953395145": "4.712953395145",
             "912.1274970357248": "912.1274970357248",
             # digits the API reads as a number after a point stay masked
             "1.4155550101": "1.******0101", "0.2125550101": "0.******0101",
             "0.04155550101": "0.*******0101"}


@pytest.mark.parametrize("decimal", sorted(_DECIMALS))
def test_a_decimals_digits_are_masked_only_where_they_read_as_a_number(decimal):
    """Decided by the team after masking2's audit: a loose run of 10 to 15 digits after a
    decimal point was masked (0.0012345678 as 0.*******678), though PHONE leaves decimals
    alone; now only where the decimal or its fraction is a number the API reads."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.urls import mask_url

    assert mask_text(f"took {decimal} s") == f"took {_DECIMALS[decimal]} s"
    assert mask_url(f"GET /v1/x?t={decimal} HTTP/1.1") == \
        f"GET /v1/x?t={_DECIMALS[decimal]} HTTP/1.1"


def _adversarial_line(unit, count: int = 400) -> str:
    """A request line near gunicorn's limit (4094 bytes) of `count` random candidates."""
    import random
    rng = random.Random(7)
    units = [unit(rng) for _ in range(count)]
    while sum(map(len, units)) > 4000:
        units.pop()
    return "GET /v1/x?q=" + "".join(units) + " HTTP/1.1"


@pytest.mark.parametrize("unit", [
    lambda rng: f"a{rng.randrange(10**6, 10**7)}b/",  # digit groups glued to letters
    lambda rng: f"%{rng.randrange(10**9, 10**10)}",  # a "%" then digits
    lambda rng: f"0.{rng.randrange(10**9, 10**10)} ",  # decimals
    lambda rng: f"x{rng.randrange(10**6, 10**7)}_",
    lambda rng: f"({rng.randrange(100, 1000)}) ",  # parts decoded one by one
], ids=["glued", "percent", "decimals", "underscored", "bracketed"])
def test_masking_a_hostile_line_takes_a_bounded_number_of_costly_steps(unit, monkeypatch):
    """A 4 KB request line of random candidates cost 20-28 ms to mask (a normal one 10-120 µs):
    phonenumbers read each digit group, and each URL part was masked as a word on its own.
    Past the line's budget the rest of its digits are masked outright; found by timing such
    lines (masking4)."""
    from commsvc.log_masking import phone_numbers, urls
    from commsvc.log_masking.words import mask_word
    reads, words = [], []

    def reading(text, region="US"):
        reads.append(text)
        return None

    def word(text, keep=frozenset()):
        words.append(text)
        return mask_word(text, keep)

    monkeypatch.setattr(phone_numbers, "try_normalise", reading)
    monkeypatch.setattr(urls, "mask_word", word)
    line = _adversarial_line(unit)
    urls.mask_url(line)
    assert len(reads) + len(words) <= 2 * 32, (len(reads), len(words))


@pytest.mark.parametrize("unit", [
    lambda rng: f"ph415555{rng.randrange(10**3, 10**4)}x/",
    lambda rng: f"(415)555-{rng.randrange(10**3, 10**4)}/",
    lambda rng: f"415_555_{rng.randrange(10**3, 10**4)}/",
], ids=["glued", "bracketed", "underscored"])
def test_past_the_budget_every_number_is_still_masked(unit):
    """Privacy first: the candidates past a hostile line's budget are masked unread."""
    from commsvc.log_masking.urls import mask_url
    masked = mask_url(_adversarial_line(unit))
    # No part shows more than a masked number's last four digits ("\d{5}" could not fail on
    # "(415)555-0123" or "415_555_0123" left whole: masking5's review of ab9a568).
    parts = masked.removeprefix("GET /v1/x?q=").removesuffix(" HTTP/1.1").split("/")
    assert len(parts) > 250 and all(len(re.findall(r"\d", part)) <= 4 for part in parts), masked


@pytest.mark.parametrize(("part", "masked"), [
    ("415-FLOWERS", "***-*******"),  # the API reads a keypad's letters: +14153569377
    ("ph415FLOWERS", "ph**********"),
    ("415%2DFLOWERS", "***%2D*******"),  # an escape kept, but a digit's
    ("x%34%31%35FLOWERS", "x******WERS"),  # decoded first, within its own budget
    ("tel:%28415%29FLOWERS", "tel:(***)***WERS"),
])
def test_past_the_budget_a_keypad_number_is_masked_letters_and_all(part, masked):
    from commsvc.log_masking.urls import mask_url
    line = _adversarial_line(lambda rng: f"a{rng.randrange(10**6, 10**7)}b/", 60)
    assert mask_url(line.replace(" HTTP/1.1", part + " HTTP/1.1")).endswith(
        "/" + masked + " HTTP/1.1")


def test_a_normal_line_is_masked_as_before_within_the_budget():
    from commsvc.log_masking.urls import mask_url
    line = ("GET /v1/consent/key_abcdef4155550101/ses_0123456789abcdef01234567?phone=415-555-0101"
            "&x=ph4155550202x&d=0.0012345678&t=2026-11-24T17%3A00%3A00Z HTTP/1.1")
    assert mask_url(line) == ("GET /v1/consent/key_abcdef******0101/ses_0123456789abcdef01234567"
                              "?phone=******0101&x=ph******0202x&d=0.0012345678"
                              "&t=2026-11-24T17%3A00%3A00Z HTTP/1.1")


@pytest.mark.parametrize("steps", range(0, 6))
@pytest.mark.parametrize("part", ["415-FLOWERS", "ph415FLOWERS", "1-800-FLOWERS", "415555CALL",
                                  "%2B1415555CALL", "415555010E1"])
def test_a_keypad_number_read_as_the_budget_runs_out_shows_no_more_than_four(part, steps,
                                                                           monkeypatch):
    """Found by masking5's review of ab9a568: a part whose budget ran out between its steps was
    read as the number NOT_READ, with its keypad letters compared to that same answer, and
    showed its letters and more digits than four ("415-FLOWERS" whole, "%2B1415555CALL" as
    "%2B****555CALL")."""
    from commsvc.log_masking import phone_numbers
    from commsvc.log_masking.urls import mask_url
    from commsvc.log_masking.words import mask_word
    monkeypatch.setattr(phone_numbers, "MASKING_STEPS", steps)
    for masked in (mask_url(f"GET /v1/x/{part} HTTP/1.1").split()[1].rsplit("/", 1)[1],
                   mask_word(part)):
        shown = re.sub(r"%2B|[^0-9A-Za-z]", "", masked.removeprefix("ph"))
        if len(re.findall("[A-Z]", part.removeprefix("%2B"))) < 3:  # no keypad letters
            shown = re.sub("[A-Za-z]", "", shown)
        assert len(shown) <= 4, (steps, masked)


@pytest.mark.parametrize("sink", ["mask_url", "mask_text", "mask_word", "filter"])
@pytest.mark.parametrize("separator", ["; ", "/"])
def test_a_line_of_short_international_numbers_asks_phonenumbers_a_bounded_number_of_times(
        sink, separator, monkeypatch):
    """Found by masking5's timing of "+NNNNNNN " lines: whether each number was a possible one
    (phones.possible, phonenumbers, 20-60 µs each uncached) was asked of each, outside the budget
    of ab9a568: a 4 KB line cost 3-4 ms, in the app log's filter too. Past the budget a number
    shows no more than the shortest would (2 digits)."""
    from commsvc.log_masking import phone_numbers, text, urls, words
    asked = []

    def possible(e164):
        asked.append(e164)
        return True

    monkeypatch.setattr(phone_numbers, "possible", possible)
    rng = __import__("random").Random(11)
    numbers = [f"+{rng.randrange(10**6, 10**7)}" for _ in range(400)]
    line = separator.join(numbers)
    masked = {"mask_url": lambda: urls.mask_url(f"GET /v1/x/{line} HTTP/1.1"),
              "mask_text": lambda: text.mask_text(line), "mask_word": lambda: words.mask_word(line),
              "filter": lambda: MaskPhones().masked(line)}[sink]()
    assert len(asked) <= phone_numbers.MASKING_STEPS
    assert all(len(re.findall(r"\d", number)) <= 4 + 3  # a calling code and the shown digits
               for number in re.split(r"[;/ ]+", masked) if number.startswith("+")), masked


@pytest.mark.parametrize("part", ["%" + "4155550101" * 400, "%25" + "4155550101" * 400,
                                  "%1-" + "415-555-0101_" * 300, "x_" + "%34%31%35" * 300])
def test_a_url_part_longer_than_any_id_is_masked_unread(part, monkeypatch):
    """Found by masking5's timing: a 4 KB URL part of "%" and digits was decoded and masked as a
    word (mask_word, mask_text: a dozen passes over it), 2.4-6.7 ms, where a line of plain
    digits takes 0.8 ms. No number the API reads, id of ours or cursor (200 characters at most)
    is so long: its digits are masked outright, as past the line's budget."""
    from commsvc.log_masking import urls
    words = []
    read_as_word = urls.mask_word

    def word(text, keep=frozenset()):
        words.append(text)
        return read_as_word(text, keep)

    monkeypatch.setattr(urls, "mask_word", word)
    masked = urls.mask_url(f"GET /v1/x/{part}/ses_0123456789abcdef01234567 HTTP/1.1")
    assert all(len(text) < 100 for text in words) and not re.search(r"\d{2}", masked.split("/")[3])
    assert masked.endswith("/ses_0123456789abcdef01234567 HTTP/1.1")


_FLOATS = {"4155550101.0": "******0101.0", "14155550101.00": "*******0101.00",
           "415-555-0101.0": "******0101.0", "(415) 555-0101.0": "******0101.0",
           # decimals the API reads no number in, and ISO times, stay as they are
           "4155550101.5": "4155550101.5", "12345.0": "12345.0", "3.0": "3.0",
           "0.1234567890": "0.1234567890", "2026-11-24T17:00:00.0Z": "2026-11-24T17:00:00.0Z",
           "Chrome/120.0.6099.129": "Chrome/120.0.6099.129"}


@pytest.mark.parametrize("written", sorted(_FLOATS))
def test_a_number_written_as_a_float_is_masked(written):
    """Decided by the team: a number a spreadsheet wrote as a float ("4155550101.0") was written
    whole in free text and URLs (a decimal part ended it); privacy first, its number is masked."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.urls import mask_url
    from commsvc.log_masking.words import mask_word
    masked = _FLOATS[written]
    assert mask_text(f"phone {written} given") == f"phone {masked} given"
    assert mask_word(written) == masked
    encoded = written.replace(" ", "%20")
    assert mask_url(f"GET /v1/x?phone={encoded}&a=1 HTTP/1.1") in (
        f"GET /v1/x?phone={masked}&a=1 HTTP/1.1",
        f"GET /v1/x?phone={masked.replace(' ', '%20')}&a=1 HTTP/1.1")


_DATE_GLUED = {"2026-11-24-4155550101": "2026-11-24-******0101",
               "2026-11-24-415-555-0101": "2026-11-24-******0101",
               "2026-11-24-14155550101": "2026-11-24-*******0101",
               "20261124-4155550101": "20261124-******0101",
               # a date and time, or a date and a count, stay
               "2026-11-24-1234": "2026-11-24-1234", "2026-11-24T10:00:00Z": "2026-11-24T10:00:00Z",
               "2026-11-24-1732345678": "2026-11-24-1732345678"}


@pytest.mark.parametrize("written", sorted(_DATE_GLUED))
def test_a_number_glued_to_a_date_is_masked(written):
    """Decided by the team: a date glued by "-" before a number ("2026-11-24-4155550101", a
    booking reference a client made) was written whole in free text and URLs, the number taken
    for digits inside an id; privacy first, it is masked."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.urls import mask_url
    from commsvc.log_masking.words import mask_word
    masked = _DATE_GLUED[written]
    assert mask_text(f"ref {written} given") == f"ref {masked} given"
    assert mask_word(written) == masked
    assert mask_url(f"GET /v1/x/{written}?ref={written} HTTP/1.1") == \
        f"GET /v1/x/{masked}?ref={masked} HTTP/1.1"


@pytest.mark.parametrize(("message", "masked"), [
    # a client's path logged by the webhook's refusal (webhooks/signature.py), or any argument
    ("twilio webhook refused: missing or invalid signature path=/webhooks/twilio/sms/ph4155550101",
     "twilio webhook refused: missing or invalid signature path=/webhooks/twilio/sms/ph******0101"),
    ("lookup 415-555-0101x failed", "lookup ******0101x failed"),
    ("lookup [415] 555-0101 failed", "lookup ******0101 failed"),
    ("lookup 415\u00a0555\u00a00101 failed", "lookup ******0101 failed"),
    ("lookup 1*415*555*0101 failed", "lookup *******0101 failed"),
    ("lookup 415-555-CALL failed", "lookup ***-***-CALL failed"),
    ("lookup 2026-11-24-4155550101 failed", "lookup 2026-11-24-******0101 failed"),
    # and our own ids, times and figures stay
    ("msg_0123456789abcdef01234567 sent to +1******0101 as SM0123456789abcdef0123456789abcdef"
     " at 2026-11-24T17:00:00.123Z in 12.345678 ms (pid 1234567)",
     "msg_0123456789abcdef01234567 sent to +1******0101 as SM0123456789abcdef0123456789abcdef"
     " at 2026-11-24T17:00:00.123Z in 12.345678 ms (pid 1234567)"),
])
def test_the_app_log_filter_masks_a_number_in_every_spelling_the_api_reads(message, masked):
    """Found by masking5's sweep: the app log's filter read numbers as mask_phones does (E.164,
    the usual groupings), so 250 of 715 spellings the API reads (glued to letters, Unicode or
    unusual separators, a keypad's letters) were written whole in an app log line, such as the
    path a refused webhook logs as it came."""
    record = logging.LogRecord("commsvc.test", logging.WARNING, __file__, 1, "%s", (message,), None)
    MaskPhones().filter(record)
    assert record.getMessage() == masked


@pytest.mark.parametrize(("written", "masked"), [
    ("415.5550101", "******0101"), ("212.5550199", "******0199"),
    # a decimal the API reads no number in stays (area code 1xx, 0xx; more digits)
    ("123.4567890", "123.4567890"), ("012.5550101", "012.5550101"),
    ("415.55501012", "415.55501012"), ("0.415.5550101", "0.415.5550101"),
])
def test_an_area_code_and_a_dot_before_seven_digits_is_masked_where_the_api_reads_it(written,
                                                                                    masked):
    """Found by masking5's sweep: "415.5550101", which the API reads as +14155550101, was
    written whole by every sink (a 3-digit group and a 7-digit one joined by a dot were taken
    for a decimal); masked now where the API reads it, as adab976 masks a decimal's digits."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.urls import mask_url
    from commsvc.log_masking.words import mask_word
    assert mask_text(f"call {written} now") == f"call {masked} now"
    assert mask_word(written) == masked
    assert mask_url(f"GET /v1/consent/{written}?p={written} HTTP/1.1") == \
        f"GET /v1/consent/{masked}?p={masked} HTTP/1.1"
    assert MaskPhones().masked(f"lookup {written}") == f"lookup {masked}"


@pytest.mark.parametrize("written", ["011-55-11-987654321", "011.55.11.987654321",
                                     "011/55/11/987654321", "011 55 11 987654321"])
def test_a_number_dialled_abroad_with_a_nine_digit_group_is_masked(written):
    """Found by masking5's sweep: Brazil's +55 11 98765 4321, dialled from North America as
    "011-55-11-987654321" (the API reads it), was written whole by every sink: a number
    written with a leading 0 took groups of 8 digits at most, and a mobile's is 9 there."""
    from commsvc.log_masking.text import mask_text
    from commsvc.log_masking.urls import mask_url
    from commsvc.log_masking.words import mask_word
    for masked in (mask_text(f"call {written} now"), mask_word(written),
                   mask_url(f"GET /v1/consent/{written.replace(' ', '+')}?p=1 HTTP/1.1"),
                   MaskPhones().masked(f"lookup {written}")):
        assert "987654" not in masked and "4321" in masked, masked


@pytest.mark.parametrize(("text", "masked"), [
    ("MyApp/2.0 (-4155550101)", "MyApp/2.0 (-******0101)"),
    ("'-4155550101' is not a valid phone number", "'-******0101' is not a valid phone number"),
    ('phone: "-415-555-0101"', 'phone: "-******0101"'),
    ("[-4155550101]", "[-******0101]"),
    # a hyphen inside a word or an id stays as it was
    ("ab-4155550101x", "ab-4155550101x"), ("SM12-4155550101ab", "SM12-4155550101ab"),
])
def test_a_number_after_a_hyphen_that_starts_it_behind_a_bracket_or_quote_is_masked(text,
                                                                                   masked):
    """Found by masking5's sweep: "-4155550101", which the API reads as +14155550101, was
    masked after a space or a URL's delimiter (91449d8) but not after a bracket or a quote, as
    a user agent's comment or an error's echo writes it."""
    from commsvc.log_masking.text import mask_text
    assert mask_text(text) == masked


_GLUED_AFTER_GROUPS = {
    "MyApp (415 555 0101x)": "MyApp (******0101x)", "MyApp (415) 555-0101x": "MyApp ******0101x",
    "call 1 415 555 0101ab": "call *******0101ab", "call 415.555.0101 x": "call ******0101 x",
    # digits so grouped that are no number the API reads, and a request id, stay
    "sizes 100 200 3000ms": "sizes 100 200 3000ms", "took 200 300 4000ms": "took 200 300 4000ms",
    "id 4155550101a3f9e27c8d0b6e5f1a2c3d": "id 4155550101a3f9e27c8d0b6e5f1a2c3d",
}


@pytest.mark.parametrize("text", sorted(_GLUED_AFTER_GROUPS))
def test_a_grouped_number_with_letters_glued_to_its_end_is_masked_as_a_word(text):
    """Found by masking5's sweep: "415 555 0101x", which the API reads as +14155550101, was
    written whole in a user agent, an app log line and a refused header line: mask_word read
    letters glued to a number only within one space-free token, and mask_text reads no number
    a letter follows."""
    from commsvc.log_masking.words import mask_word
    for sink in (mask_word, MaskPhones().masked):
        assert sink(text) == _GLUED_AFTER_GROUPS[text]


@pytest.mark.parametrize(("query", "masked"), [
    ("phone=415555+0101", "phone=******0101"), ("phone=41555501+01", "phone=******0101"),
    # a date and its offset, and counts, stay
    ("since=20261124+0100&limit=50", "since=20261124+0100&limit=50"),
])
def test_digits_grouped_loosely_by_a_querys_plus_are_masked(query, masked):
    """Found by masking5's sweep: in a query string a "+" is a space, and the API reads
    "415555+0101" as +14155550101, but a loose run of digits (text._LOOSE_RUN) took only spaces
    and hyphens between its digits: written whole in the access line."""
    from commsvc.log_masking.urls import mask_url
    assert mask_url(f"GET /v1/consent/check?{query} HTTP/1.1") == \
        f"GET /v1/consent/check?{masked} HTTP/1.1"


@pytest.mark.parametrize("time_", ["2023-09-05T23:25:13.108945Z", "2026-11-24T17:42:13.108945Z",
                                   "2026-11-24T17:42:13.108945+00:00"])
def test_an_iso_time_with_microseconds_stays_readable(time_):
    """Found by masking5's sweep of our own ids: one ISO time with microseconds in 5,000 was
    masked in a URL, as a word and (since the app log reads as mask_word) in an app log line:
    its seconds and fraction ("13.108945") read as a valid number glued to the "Z"."""
    from commsvc.log_masking.urls import mask_url
    from commsvc.log_masking.words import mask_word
    assert mask_word(time_) == time_
    assert MaskPhones().masked(f"at {time_} done") == f"at {time_} done"
    assert mask_url(f"GET /v1/logs/messages?since={time_} HTTP/1.1") == \
        f"GET /v1/logs/messages?since={time_} HTTP/1.1"
    # a number glued after a time is still masked
    assert mask_word(f"{time_}-ph4155550101").endswith("-ph******0101")


def test_past_the_budget_sids_uuids_and_times_stay_readable():
    """Found by masking5's review of ab9a568: the budget was spent before a part was seen to be
    a SID, a UUID or an ISO time (which takes no reading of a number), so past it they were
    masked outright: the last 8 of 40 SIDs in a query, the time after 40 glued candidates."""
    from commsvc.log_masking.urls import mask_url
    rng = __import__("random").Random(1)
    sids = ["SM" + "".join(rng.choice("0123456789abcdef") for _ in range(32)) for _ in range(40)]
    masked = mask_url("GET /v1/logs/messages?" + "&".join(f"sid={sid}" for sid in sids)
                      + " HTTP/1.1")
    assert all(sid in masked for sid in sids)
    line = ("GET /v1/x?" + "&".join(f"a=x{rng.randrange(10**6, 10**7)}y" for _ in range(40))
            + f"&sid={sids[0]}&r=8c1f0c3e-5b7e-4d0a-9c3e-000000000001&t=2026-11-24T17:00:00Z"
            " HTTP/1.1")
    assert mask_url(line).endswith(f"&sid={sids[0]}&r=8c1f0c3e-5b7e-4d0a-9c3e-000000000001"
                                   "&t=2026-11-24T17:00:00Z HTTP/1.1")


def _hint_corpus(count: int = 20000) -> list[str]:
    """Texts where the masking patterns match: numbers in their groupings, joined, glued to
    words and ids, dates, escapes; and random soup of digits and separators."""
    import random
    rng = random.Random(20261124)

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    def seps() -> str:
        return "".join(rng.choice([" ", ".", "_", "-", "/", "+", "%20", "%2B", "%2D", "%2E",
                                   "%5F", "(", ")", "%28", "%29"])
                       for _ in range(rng.randrange(0, 4)))

    def around() -> str:
        return "".join(rng.choice("ab_-%.x1 (+=?&:0") for _ in range(rng.randrange(0, 4)))

    alphabet = "0123456789" * 3 + " +-./()%_*~,#=?&;:xXabcdefTZ\u00a0\u2013\uff10\u0663"
    texts = []
    for _ in range(count):
        group = (rng.choice(["", "1", "+1", "0", "00", "011 ", "("]) + digits(rng.randrange(1, 5))
                 + seps() + digits(rng.randrange(2, 5)) + seps() + digits(rng.randrange(2, 8)))
        glued = rng.choice(["+" + rng.choice("123456789") + digits(rng.randrange(8, 15)),
                            rng.choice("23456789") + digits(2) + rng.choice("23456789")
                            + digits(6)])
        texts.append(around() + rng.choice([
            group,
            rng.choice(["acme", "x", "bk"]) + rng.choice(["_", "-", "%5F"]) + group,
            group + rng.choice(["_", "-", "x", "E", "ab"]) + around(),
            glued + rng.choice("._-") + glued,
            "2026-11-24T10:" + digits(2) + ":" + digits(2) + "." + digits(6) + "Z" + group,
            rng.choice(["ses_", "msg_"]) + "".join(rng.choice("0123456789abcdef")
                                                   for _ in range(24)),
            "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))),
        ]) + around())
    return texts


def test_a_pattern_skipped_when_its_hint_is_absent_has_no_match_there():
    """Masking skips a pattern where a cheaper one it implies (scanned for by its first
    character) finds nothing: the hint must hold wherever the pattern matches, or a number
    would go unmasked. A pattern changed without its hint fails here."""
    from commsvc.log_masking import phone_numbers, text, urls, words
    pairs = {
        "PHONE": (phone_numbers.PHONE.search, phone_numbers.may_hold_phone),
        "loose run": (text._LOOSE_RUN.search, text._LOOSE_HINT.search),
        "joined": (text._JOINED_NUMBERS.search, text._JOINED_HINT.search),
        "prefixed": (text._PREFIXED_NUMBER.search, text._NANP_HINT.search),
        "suffixed": (text._SUFFIXED_NUMBER.search, text._NANP_HINT.search),
        "grouped before letters": (words._GROUPED_BEFORE_LETTERS.search,
                                   words._GROUPED_HINT.search),
        "glued to letters": (words.GLUED_TO_LETTERS.search, words._LETTER_BY_DIGIT.search),
        "ISO time": (words._ISO_TIME.search, lambda found: ":" in found),
        "own id": (words._OWN_ID.search, lambda found: "_" in found),
        "query argument past the first": (
            lambda found: any(arg.start() for arg in urls._QUERY_ARGUMENT.finditer(found)),
            lambda found: any(char in found for char in "?&;")),
    }
    corpus = _hint_corpus()
    for name, (pattern, hint) in pairs.items():
        matched = [found for found in corpus if pattern(found)]
        assert len(matched) > 100, name  # the corpus tries it
        assert [found for found in matched if not hint(found)] == [], name


_RELAY_LINE = ("twilio sms outcome=forwarded from=+1******0101 to=+1******0000"
               " sid=SMb127e7f1b5f39346040d3770e7fc7bcd message_id=msg_8d73996b796a2d453f6278d9"
               " session=ses_50fa6047ccab5aabb56de77b media=0 duplicate=False")


def test_the_relay_line_asks_no_number_of_our_ids_whose_hex_is_random(monkeypatch):
    """Every relayed text's log line carries a message id and a session id of ours: reading each
    as a number (a phonenumbers parse, about 30 µs) was a third of the line's masking, though
    their random hex (_HEX_ID, five runs or more) drops their digits whether they read so or
    not. They are no longer read; the budget step each took is still taken, so what is masked
    past it does not change. An id whose hex has few runs is still read, and masked where the
    API reads a number in it."""
    from commsvc.log_masking import phone_numbers, words
    read = []
    monkeypatch.setattr(words, "read_as_number",
                        lambda text: read.append(text) or phone_numbers.read_as_number(text))
    steps = []
    monkeypatch.setattr(words, "within_budget",
                        lambda: steps.append(1) or phone_numbers.within_budget())
    assert MaskPhones().masked(_RELAY_LINE) == _RELAY_LINE
    assert read == []
    assert len(steps) == 2  # one for each id, as when they were read
    assert words.mask_word("key_abcdef4155550101 done") == "key_abcdef******0101 done"
    assert read[0] == "key_abcdef4155550101"


def test_runs_and_letters_are_counted_by_a_match_as_a_list_counted_them():
    """The relay line's SID and ids were each listed character by character (seven letters or
    digits after the word before a number) and run by run (a random hex id's five runs): a
    list of 32 strings cost more than the rest of the id's reading. Matched now: the same
    answers, a run never cut in two to make up the count (1234567890abcdef is two runs)."""
    import random

    from commsvc.log_masking import words
    rng = random.Random(5)
    assert not words._random_hex("1234567890abcdef")
    assert words._random_hex("1a2b3")
    for _ in range(20000):
        text = "".join(rng.choice("0123456789abcdefABCDEF-xZ%_ \u0663")
                       for _ in range(rng.randrange(0, 40)))
        runs = re.findall(r"\d+|[A-Fa-f]+", text)
        assert words._random_hex(text) == (len(runs) >= words.HEX_ID_MIN_RUNS), text
        letters = re.findall(r"[A-Za-z\d]", text)
        assert bool(words._SEVEN_LETTERS_OR_DIGITS.match(text)) == (len(letters) >= 7), text


def test_numbers_glued_to_letters_are_looked_for_from_the_part_of_the_first_letter_by_a_digit(
        monkeypatch):
    """GLUED_TO_LETTERS opens with a lookbehind, so the regex engine tried it at every position
    of a line: no part before the one of the first letter by a digit can match (a match is a
    whole part holding one), and the relay line's words before its SID are no longer tried."""
    from commsvc.log_masking import words
    scanned = []

    class Recording:
        def sub(self, replace, text):
            scanned.append(text)
            return words_pattern.sub(replace, text)

    words_pattern = words.GLUED_TO_LETTERS
    monkeypatch.setattr(words, "GLUED_TO_LETTERS", Recording())
    assert MaskPhones().masked(_RELAY_LINE) == _RELAY_LINE
    assert scanned == [_RELAY_LINE[_RELAY_LINE.index("SMb127"):]]
    assert words.glued_masked("call me at tel4155550101 ok") == "call me at tel******0101 ok"
    assert words.glued_masked("ab1") == "ab1"


@pytest.mark.parametrize("line, args, logged", [
    # Twilio's keypad spelling of a hidden caller, given whole before the line's next key
    # or its end: no one's number, shown as phones.mask shows it.
    ("from=%s to=%s", ("+266696687", "+1******0001"), "from=+266696687 to=+1******0001"),
    ("from=%s to=%s", ("+8656696", "+1******0001"), "from=+8656696 to=+1******0001"),
    ("caller %s", ("+7378742833",), "caller +7378742833"),
    # With more after it, the API may read a number through it (+8656696 FHG is
    # +86 5669 6344, +8656696 344 too): masked as before, whatever the value given.
    ("from=%s %s", ("+8656696", "344"), "from=+86****6344"),
    ("from=%s %s", ("+8656696", "FHG"), "from=+*****96 FHG"),
    ("from=%s%s", ("+8656696", "FHG"), "from=+*****96FHG"),
    ("from=%s to=%s", ("+8656696 FHG", "x"), "from=+*****96 FHG to=x"),
    ("from=%s to=%s", ("+8656696", "x +8656696344"), "from=+*****96 to=x +86****6344"),
    ("from=%s to=%s", ("+25625331", "x"), "from=+256***31 to=x"),
    ("from=%s%s to=x", ("1", "+2562533"), "from=1+****533 to=x"),
])
def test_a_hidden_callers_keypad_marker_given_whole_is_shown_and_nothing_through_it(
        line, args, logged):
    """The webhook's line shows a hidden caller's id as the logs API does (1a0f3f9), only
    where no number can be read through it."""
    record = logging.LogRecord("commsvc.webhooks", logging.INFO, __file__, 1, line, args, None)
    MaskPhones().filter(record)
    assert record.getMessage() == logged
