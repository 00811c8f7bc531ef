"""What is past its retention period is hidden from every read at once, job or no job.

One rule, used by the log queries and by export: a row older than the metadata period is not
returned, a body older than the body period reads as null, a recording reference older than
the recording period reads as null; unless an active legal hold covers the row. The retention
job only catches the stored data up with what these conditions already hide.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, or_

from commsvc.config.settings import Retention
from commsvc.records.holds import held
from commsvc.relay.models import Call, Message


def _since(now: dt.datetime, seconds: int) -> dt.datetime:
    return now - dt.timedelta(seconds=seconds)


def row_visible(model, retention: Retention, now: dt.datetime) -> ColumnElement[bool]:
    """SQL condition: this Message or Call row is still within its metadata period, or held."""
    return or_(model.created_at >= _since(now, retention.metadata), held(model))


def body_visible(retention: Retention, now: dt.datetime) -> ColumnElement[bool]:
    """SQL condition: this Message's body (and media) may still be shown."""
    return or_(Message.created_at >= _since(now, retention.message_bodies), held(Message))


def recording_visible(retention: Retention, now: dt.datetime) -> ColumnElement[bool]:
    """SQL condition: this Call's recording reference may still be shown."""
    return or_(Call.created_at >= _since(now, retention.recordings), held(Call))
