"""When marketing may reach a number: its allowed hours in its local time, from the number alone.

- Local time comes from phonenumbers' time zones for the number. A number mapped to several
  zones (an area code across a zone line, a toll-free number) is held to every one of them: an
  instant is allowed only when it falls inside the window in all its zones.
- The window is `quiet_hours_start`..`quiet_hours_end` (8:00-21:00), narrowed by any matching
  entry of `quiet_hours_overrides`: keys are a country (`GB`) or, in the US and Canada, a state
  or province (`US-FL`, `CA-QC`). Overrides only ever narrow the window.
- The state or province comes from the area code (AREA_CODES, generated from phonenumbers'
  geocoder, which a test keeps it in step with). An area code shared by several provinces
  (902: Nova Scotia and Prince Edward Island) matches all of them. An area code newer than
  the table is looked up in the geocoder itself (imported on first use: it costs 1.5 s).
  Like every such rule (Florida's FTSA presumes the same) this is where the number was
  issued, not where its owner is today.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone

from commsvc.config.settings import Config

log = logging.getLogger("commsvc.sending.quiet_hours")
SEARCH_DAYS = 8

# Subdivisions (ISO 3166-2, "/" when several) -> their geographic NANP area codes.
_AREA_CODES_BY_SUBDIVISION = {
    "CA-AB": "368 403 587 780 825",
    "CA-BC": "236 250 257 604 672 778",
    "CA-MB": "204 431 584",
    "CA-NB": "428 506",
    "CA-NL": "709 879",
    "CA-NS/CA-PE": "782 902",
    "CA-NT/CA-NU/CA-YT": "867",
    "CA-ON": "226 249 289 343 365 382 416 437 519 548 613 647 683 705 742 753 807 905 942",
    "CA-QC": "263 273 354 367 418 438 450 468 514 579 581 819 873",
    "CA-SK": "306 474 639",
    "US-AK": "907",
    "US-AL": "205 251 256 334 659 938",
    "US-AR": "327 479 501 870",
    "US-AZ": "480 520 602 623 928",
    "US-CA": (
        "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 "
        "657 661 669 707 714 738 747 760 805 818 820 831 840 858 909 916 925 949 951"
    ),
    "US-CO": "303 719 720 748 970 983",
    "US-CT": "203 475 860 959",
    "US-DC": "202 771",
    "US-DE": "302",
    "US-FL": (
        "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 "
        "904 941 954"
    ),
    "US-GA": "229 404 470 478 678 706 762 770 912 943",
    "US-HI": "808",
    "US-IA": "319 515 563 641 712",
    "US-ID": "208 986",
    "US-IL": "217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 872",
    "US-IN": "219 260 317 463 574 765 812 930",
    "US-KS": "316 620 785 913",
    "US-KY": "270 364 502 606 859",
    "US-LA": "225 318 337 504 985",
    "US-MA": "339 351 413 508 617 774 781 857 978",
    "US-MD": "227 240 301 410 443 667",
    "US-ME": "207",
    "US-MI": "231 248 269 313 517 586 616 734 810 906 947 989",
    "US-MN": "218 320 507 612 651 763 952",
    "US-MO": "235 314 417 557 573 636 660 816 975",
    "US-MS": "228 601 662 769",
    "US-MT": "406",
    "US-NC": "252 336 472 704 743 828 910 919 980 984",
    "US-ND": "701",
    "US-NE": "308 402 531",
    "US-NH": "603",
    "US-NJ": "201 551 609 640 732 848 856 862 908 973",
    "US-NM": "505 575",
    "US-NV": "702 725 775",
    "US-NY": (
        "212 315 329 332 347 363 516 518 585 607 631 646 680 716 718 838 845 914 917 929 "
        "934"
    ),
    "US-OH": "216 220 234 283 326 330 380 419 440 513 567 614 740 937",
    "US-OK": "405 539 572 580 918",
    "US-OR": "458 503 541 971",
    "US-PA": "215 223 267 272 412 445 484 570 582 610 717 724 814 835 878",
    "US-RI": "401",
    "US-SC": "803 821 839 843 854 864",
    "US-SD": "605",
    "US-TN": "423 615 629 731 865 901 931",
    "US-TX": (
        "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 "
        "903 915 936 940 945 956 972 979"
    ),
    "US-UT": "385 435 801",
    "US-VA": "276 434 540 571 686 703 757 804 826 948",
    "US-VT": "802",
    "US-WA": "206 253 360 425 509 564",
    "US-WI": "262 274 353 414 534 608 715 920",
    "US-WV": "304 681",
    "US-WY": "307",
}
AREA_CODES: dict[str, tuple[str, ...]] = {
    code: tuple(subdivisions.split("/"))
    for subdivisions, codes in _AREA_CODES_BY_SUBDIVISION.items() for code in codes.split()
}

# Names the geocoder uses, for area codes newer than the table.

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


def _narrowed(start: int, end: int, overrides: dict[str, tuple[int, int]],
              areas) -> tuple[int, int]:
    """The window start-end narrowed by the overrides of these areas (a country, its states)."""
    for area in areas:
        override = overrides.get(area)
        if override:
            start, end = max(start, override[0]), min(end, override[1])
    return start, end


def override_problem(overrides: dict[str, tuple[int, int]], start: int, end: int) -> str | None:
    """Why QUIET_HOURS_OVERRIDES cannot stand (checked at startup, see config): an area no
    number is in (a typo, "CA-QB", would change nothing), or areas that together leave a
    number no allowed hour (each overlapping 8-21 on its own: "US=20-21" with Florida's 8-20),
    which would make every marketing text to it fail. None: they can."""
    known = set(phonenumbers.SUPPORTED_REGIONS) | {
        f"{region}-{code}" for region, names in _SUBDIVISIONS.items() for code in names.values()}
    for area in overrides:
        if area not in known:
            return (f"{area} is neither a country (ISO 3166-1: GB) nor a US state or Canadian"
                    f" province (ISO 3166-2: US-FL, CA-QC)")
    # What a number can match: its country and its subdivisions (several for a shared area
    # code), a subdivision the table lacks (geocoded) on its own.
    matches = set(AREA_CODES.values()) | {(area,) for area in overrides}
    for areas in sorted(matches):
        low, high = _narrowed(start, end, overrides, (areas[0].split("-")[0], *areas))
        if low >= high:
            return (f"together they leave no allowed hour for {'/'.join(sorted(areas))}"
                    f" (overrides narrow the {start}-{end} window, and each other)")
    return None


def subdivisions(e164: str) -> tuple[str, ...]:
    """The states or provinces a NANP number belongs to, as ISO 3166-2 (`US-FL`); else ()."""
    parsed = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(parsed)
    if region not in _SUBDIVISIONS:
        return ()
    known = AREA_CODES.get(str(parsed.national_number)[:3])
    return known if known is not None else geocoded_subdivisions(e164)


@lru_cache(maxsize=1024)
def geocoded_subdivisions(e164: str) -> tuple[str, ...]:
    """The subdivisions the geocoder names for a US or Canadian number (slow first call)."""
    from phonenumbers import geocoder

    parsed = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(parsed)
    names = _SUBDIVISIONS.get(region, {})
    description = geocoder.description_for_number(parsed, "en")
    place = description.rsplit(", ", 1)[-1]
    codes = set(names.values())
    found = []
    for part in place.split("/"):
        part = part.strip()
        code = part if part in codes else names.get(part)
        if code:
            found.append(f"{region}-{code}")
    if not found:  # toll-free and other non-geographic codes: routine, not a fault
        log.info("no state or province known for area code %s: the country's quiet hours apply",
                 str(parsed.national_number)[:3])
    return tuple(found)


def window(e164: str, config: Config) -> tuple[int, int]:
    """The allowed hours [start, end) for this number: the default narrowed by its overrides."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    start, end = _narrowed(config.quiet_hours_start, config.quiet_hours_end,
                           config.quiet_hours_overrides, (region, *subdivisions(e164)))
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
