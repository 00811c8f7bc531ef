"""When a text is due (at once, or a marketing text at the recipient's allowed hour) and the
latest it may still go (its purpose's most delay): past that it expires.
"""
from __future__ import annotations

import datetime as dt

from commsvc.config.settings import Config
from commsvc.sending import quiet_hours
from commsvc.sending.models import OutboundMessage


def accepted_status(to: str, purpose: str, now: dt.datetime,
                    config: Config) -> tuple[str, dt.datetime | None]:
    """The status a text is accepted with, and when it is due if not at once: marketing waits
    for the recipient's allowed hours."""
    due = quiet_hours.next_allowed(to, now, config) if purpose == "marketing" else now
    return ("scheduled", due) if due > now else ("queued", None)


def accepted_as(message: OutboundMessage, config: Config) -> tuple[str, dt.datetime | None]:
    """What POST /v1/messages answered when it accepted this text (status, scheduled_for),
    for a replayed Idempotency-Key: the worker may have deferred it since (scheduled_for set
    then), which GET /v1/messages/{id} shows."""
    return accepted_status(message.to_phone, message.purpose, message.created_at, config)


# The most a text may go late, by purpose, and the setting that says so.
MAX_DELAY_SETTINGS = {"transactional": "OUTBOX_TRANSACTIONAL_MAX_DELAY_SECONDS",
                      "marketing": "OUTBOX_MARKETING_MAX_DELAY_SECONDS"}


def _max_delay(message: OutboundMessage, config: Config) -> tuple[str, int]:
    """The setting that says how late a text of this purpose may go, and its seconds."""
    setting = MAX_DELAY_SETTINGS[message.purpose]
    return setting, getattr(config, setting.lower())


def send_by(message: OutboundMessage, config: Config) -> dt.datetime:
    """The latest a text may still be sent: its purpose's most delay after it was first due
    (accepted; a marketing text accepted in quiet hours, the allowed hour it was scheduled
    for). A retry is never put off past it; a text still unsent then expires."""
    return first_due(message, config) + dt.timedelta(seconds=_max_delay(message, config)[1])


def first_due(message: OutboundMessage, config: Config) -> dt.datetime:
    """When the text was first due: accepted, or the allowed hour it was scheduled for."""
    return accepted_as(message, config)[1] or message.created_at


def expired(message: OutboundMessage, config: Config, now: dt.datetime) -> str | None:
    """Why the text is too late to be sent at `now` (its last_error), or None."""
    if now < send_by(message, config):
        return None
    setting, seconds = _max_delay(message, config)
    return f"expired: not sent within {seconds} s of when it was due ({setting})"
