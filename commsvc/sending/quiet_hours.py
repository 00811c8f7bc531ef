"""When marketing may reach a number: its allowed hours in its local time, from the number alone.

- Local time comes from phonenumbers' time zones for the number. A number mapped to several
  zones (an area code across a zone line, a toll-free number) is held to every one of them: an
  instant is allowed only when it falls inside the window in all its zones.
- The window is `quiet_hours_start`..`quiet_hours_end` (8:00-21:00), narrowed by any matching
  entry of `quiet_hours_overrides`: keys are a country (`GB`) or, in the US and Canada, a state
  or province (`US-FL`, `CA-QC`). Overrides only ever narrow the window.
- The state or province comes from phonenumbers' geocoder ("Florida", "San Francisco, CA",
  "Nova Scotia/Prince Edward Island"), which Google keeps current as area codes are added; a
  description naming several provinces matches all of them. Like every such rule (Florida's
  FTSA presumes the same) this is where the number was issued, not where its owner is today.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import geocoder, timezone

from commsvc.config import Config

SEARCH_DAYS = 8

US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Washington D.C.": "DC", "Washington DC": "DC", "District of Columbia": "DC",
}
CA_PROVINCES = {
    "Alberta": "AB", "British Columbia": "BC", "British Colombia": "BC", "Manitoba": "MB",
    "New Brunswick": "NB", "Newfoundland and Labrador": "NL", "Newfoundland": "NL",
    "Nova Scotia": "NS", "Ontario": "ON", "Prince Edward Island": "PE", "Quebec": "QC",
    "Québec": "QC", "Saskatchewan": "SK", "Northwest Territories": "NT", "Nunavut": "NU",
    "Yukon": "YT",
}
_SUBDIVISIONS = {"US": US_STATES, "CA": CA_PROVINCES}


def subdivisions(e164: str) -> tuple[str, ...]:
    """The states or provinces a NANP number belongs to, as ISO 3166-2 (`US-FL`); else ()."""
    parsed = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(parsed)
    names = _SUBDIVISIONS.get(region)
    if names is None:
        return ()
    description = geocoder.description_for_number(parsed, "en")
    place = description.rsplit(", ", 1)[-1]
    codes = set(names.values())
    found = []
    for part in place.split("/"):
        part = part.strip()
        code = part if part in codes else names.get(part)
        if code:
            found.append(f"{region}-{code}")
    return tuple(found)


def window(e164: str, config: Config) -> tuple[int, int]:
    """The allowed hours [start, end) for this number: the default narrowed by its overrides."""
    start, end = config.quiet_hours_start, config.quiet_hours_end
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    for key in (region, *subdivisions(e164)):
        override = config.quiet_hours_overrides.get(key)
        if override:
            start, end = max(start, override[0]), min(end, override[1])
    if not 0 <= start < end <= 24:
        raise ValueError("the configured quiet hours leave no allowed time for this number")
    return start, end


def zones(e164: str) -> list[ZoneInfo]:
    """Every time zone the number may be in (UTC when phonenumbers knows none)."""
    names = timezone.time_zones_for_number(phonenumbers.parse(e164))
    known = [ZoneInfo(n) for n in names if n != timezone.UNKNOWN_TIMEZONE]
    return known or [ZoneInfo("UTC")]


def _inside(instant: dt.datetime, zone: ZoneInfo, start: int, end: int) -> bool:
    local = instant.astimezone(zone)
    hours = local.hour + local.minute / 60 + local.second / 3600
    return start <= hours < end


def next_allowed(e164: str, now: dt.datetime, config: Config) -> dt.datetime:
    """`now` when marketing may reach the number now, else the next allowed instant (UTC)."""
    start, end = window(e164, config)
    tzs = zones(e164)
    # The earliest allowed instant is now or the moment some zone's window opens.
    candidates = [now]
    for zone in tzs:
        today = now.astimezone(zone).date()
        for offset in range(-1, SEARCH_DAYS):
            day = today + dt.timedelta(days=offset)
            opening = dt.datetime(day.year, day.month, day.day, start, tzinfo=zone)
            if opening > now:
                candidates.append(opening.astimezone(dt.UTC))
    for candidate in sorted(candidates):
        if all(_inside(candidate, zone, start, end) for zone in tzs):
            return candidate
    # The zones share no window (none do today): hold to the first zone alone.
    for candidate in sorted(candidates):
        if _inside(candidate, tzs[0], start, end):
            return candidate
    raise AssertionError("unreachable: every zone opens within a day")
