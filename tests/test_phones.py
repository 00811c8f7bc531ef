"""phones: what the relay's hot path relies on, checked against phonenumbers itself."""
from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commsvc.phones import InvalidPhone, locality, mask, normalise


@pytest.mark.parametrize(("e164", "masked"), [
    ("+14155550101", "+1******0101"),
    ("+447700900123", "+44******0123"),
    ("+33612345678", "+33*****5678"),
    ("+353861234567", "+353*****4567"),  # a three-digit calling code
    ("+99912345678", "+9******5678"),  # no such calling code: the first digit stands for it
    ("SHORTCODE", "*****CODE"),
    # Seven national digits or fewer (Iceland, Faroe, Falklands, St Helena, Niue, Tokelau):
    # the last four would be most or all of the number; at most its last half is shown.
    ("+3545512345", "+354****345"),
    ("+298212345", "+298***345"),
    ("+50041234", "+500***34"),
    ("+29022345", "+290***45"),
    ("+6834002", "+683**02"),
    ("+6903010", "+690**10"),
    ("+99912345", "+9****345"),
])
def test_mask_keeps_the_calling_code_and_the_last_four(e164, masked):
    assert mask(e164) == masked


@pytest.mark.parametrize(("raw", "masked"), [
    ("SHORT", "***RT"),  # a sender that is no number: its last half at most
    ("sip:alice", "*****lice"),
    ("4155550101", "******0101"),
    ("1234567", "****567"),
])
def test_mask_without_a_plus_shows_at_most_half(raw, masked):
    assert mask(raw) == masked


# "+<a real calling code><1-12 digits>": never more than min(4, n // 2) national digits shown.
@settings(max_examples=300, deadline=None)
@given(country=st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
       national=st.text("0123456789", min_size=1, max_size=12))
def test_mask_shows_at_most_four_digits_and_at_most_half_of_the_national_number(
        country, national):
    masked = mask(f"+{country}{national}")
    assert masked.startswith(f"+{country}")
    shown = len(masked) - len(masked.rstrip("0123456789"))
    assert masked == f"+{country}" + "*" * (len(national) - shown) + national[len(national)
                                                                             - shown:]
    assert shown == min(4, len(national) // 2)


# "+<a real calling code><4-12 digits>": valid and invalid numbers of every country.
E164 = st.builds("+{}{}".format, st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
                 st.text("0123456789", min_size=4, max_size=12))


@settings(max_examples=300, deadline=None)
@given(e164=E164)
def test_masked_calling_code_is_the_one_phonenumbers_parses(e164):
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return
    assert mask(e164).startswith(f"+{parsed.country_code}")


@settings(max_examples=500, deadline=None)
@given(raw=E164)
def test_normalise_accepts_exactly_the_numbers_phonenumbers_calls_valid(raw):
    try:
        parsed = phonenumbers.parse(raw)
    except phonenumbers.NumberParseException:
        parsed = None
    expected = parsed is not None and phonenumbers.is_valid_number(parsed)
    try:
        normalise(raw)
        accepted = True
    except InvalidPhone:
        accepted = False
    assert accepted == expected


@settings(max_examples=500, deadline=None)
@given(raw=E164)
def test_locality_of_a_valid_number_is_its_calling_code_and_destination_code(raw):
    try:
        e164 = normalise(raw)
    except InvalidPhone:
        return
    parsed = phonenumbers.parse(e164)
    national = str(parsed.national_number)
    length = 3 if parsed.country_code == 1 else (
        phonenumbers.length_of_national_destination_code(parsed))
    where = locality(e164)
    assert where.country_code == parsed.country_code
    assert where.area_code == (national[:length] if length > 0 else None)


@pytest.mark.parametrize(("e164", "country_code", "area_code"), [
    ("+14155550101", 1, "415"),
    ("+16465550002", 1, "646"),
    ("+442079460123", 44, "20"),
    ("+33612345678", 33, "6"),
])
def test_locality_names_the_area_code_allocation_prefers(e164, country_code, area_code):
    where = locality(e164)
    assert (where.country_code, where.area_code) == (country_code, area_code)


@pytest.mark.parametrize("raw", ["+1 415 555 0691 ext 5", "(415) 555-0691 x12",
                                 "+14155550691;ext=5"])
def test_a_number_with_an_extension_is_refused_not_silently_cut(raw):
    with pytest.raises(InvalidPhone, match="extension"):
        normalise(raw)


def test_a_session_for_a_number_with_an_extension_is_a_422_naming_it(client, api_key):
    response = client.post("/v1/sessions", headers=api_key("booking"), json={
        "booking_id": "bk_ext", "requester": {"phone": "+1 415 555 0691 ext 5"},
        "pro": {"phone": "+14155550202"}})
    assert response.status_code == 422
    assert "extension" in response.json["errors"]["requester.phone"][0]
