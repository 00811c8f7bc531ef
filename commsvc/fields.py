"""marshmallow fields shared by the API's schemas."""
from __future__ import annotations

import datetime as dt

from marshmallow import ValidationError, fields, validate

from commsvc.clock import as_utc

MAX_BOOKING_ID = 128
# The booking app's own id: printable (a NUL or control character is refused here, not by the
# database), and no space at either end: " bk_1 " and "bk_1" would be two bookings, so a retry
# that trims would open a second session; "   " names none.
# Invisible characters (zero-width spaces, joiners, marks, the byte-order mark) are refused
# too: "\ufeffbk_1" is not "bk_1" either. \Z, since $ also matches before a final newline.
BOOKING_ID = [validate.Length(min=1, max=MAX_BOOKING_ID),
              validate.Regexp(r"^(?!\s)[^\x00-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f"
                              r"\u2028-\u202e\u2060-\u2069\ufe00-\ufe0f\ufeff]+(?<!\s)\Z",
                              error="must be printable, without spaces at either end")]



def states_why(reason: str | None) -> bool:
    """Whether a stated reason (X-Access-Reason, --reason, a hold's) says anything: a letter or
    a digit, not only spaces or punctuation ("", ".", "-")."""
    return reason is not None and any(character.isalnum() for character in reason)


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 / RFC 3339 time, returned in UTC. Without a zone it is read as UTC (the
    contract writes times in UTC with a Z); `t` and `z` may be lower case (RFC 3339 allows
    it); a time that UTC cannot hold is a 422, not an overflow further in."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.upper()
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return as_utc(parsed)
        except ValueError as error:
            raise ValidationError(str(error)) from None
