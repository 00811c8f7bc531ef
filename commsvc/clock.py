"""Time comes from here, injected through app.extensions["clock"], so tests move it."""
from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock that tests set and advance instead of sleeping."""

    def __init__(self, start: dt.datetime | None = None):
        self.current = start or dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta) -> dt.datetime:
        self.current = self.current + dt.timedelta(**delta)
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when


OUTSIDE_UTC = "is outside the years 1 to 9999 once in UTC"


def as_utc(value: dt.datetime) -> dt.datetime:
    """A time given by a client, in UTC (one without a zone is taken as UTC); ValueError when
    UTC cannot hold it (0001-01-01T00:00:00+14:00 falls in year 0)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(OUTSIDE_UTC) from None


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


def epoch_microseconds(value: dt.datetime) -> int:
    """An aware time as whole microseconds since the epoch (a cursor's key, a notice's claim)."""
    return (value - EPOCH) // MICROSECOND


def isoformat(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the contract writes times."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
