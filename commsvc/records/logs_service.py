"""The communication logs: filter messages and calls, newest first, as each caller may see them.

Queries are keyset-paged on id (newest first) and indexed: a phone filter is a UNION ALL of one
index range per phone column (ix_*_from_phone_id, ix_*_to_phone_id, ix_*_forward_to_id), each
already limited, so a number with a million rows still costs three short index scans. Rows
past their retention period are hidden here (visibility_rules), whether or not the retention
job has run.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session, defer

from commsvc import crypto
from commsvc.auth.visibility import audit_reasoned_read, present_phone
from commsvc.clock import isoformat
from commsvc.config import Retention
from commsvc.errors import ValidationFailed
from commsvc.paging import Page, decode_cursor, page_of
from commsvc.phones import InvalidPhone, mask, normalise
from commsvc.records import visibility_rules
from commsvc.relay.models import Call, Message

DIRECTIONS = ("inbound", "outbound")
MESSAGE_STATUSES = (
    "accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed",
    "receiving", "received", "read", "canceled", "partially_delivered", "simulated",
)
CALL_STATUSES = (
    "queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer",
    "canceled",
)
KINDS = {"messages": (Message, MESSAGE_STATUSES), "calls": (Call, CALL_STATUSES)}


@dataclass(frozen=True)
class LogFilter:
    """The filters of a log query; phone already E.164."""

    phone: str | None = None
    session_id: str | None = None
    booking_id: str | None = None
    status: str | None = None
    direction: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def for_audit(self) -> dict:
        """The filter as the audit log may hold it: set fields only, the phone masked."""
        values = {k: v for k, v in asdict(self).items() if v is not None}
        if self.phone:
            values["phone"] = mask(self.phone)
        for name in ("since", "until"):
            if name in values:
                values[name] = isoformat(values[name])
        return values


@dataclass(frozen=True)
class LogRow:
    """A message or call, and whether its body / recording reference may still be shown."""

    record: Message | Call
    content_visible: bool


def build_filter(kind: str, *, region: str, phone: str | None = None, status: str | None = None,
                 direction: str | None = None, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, session_id: str | None = None,
                 booking_id: str | None = None) -> LogFilter:
    """Check and normalise raw filters (API and CLI alike); 422 with every problem found."""
    errors: dict[str, list[str]] = {}
    statuses = KINDS[kind][1]
    if phone is not None:
        try:
            phone = normalise(phone, region)
        except InvalidPhone as exc:
            errors["phone"] = [str(exc)]
    if status is not None and status not in statuses:
        errors["status"] = [f"must be one of {', '.join(statuses)}"]
    if direction is not None and direction not in DIRECTIONS:
        errors["direction"] = [f"must be one of {', '.join(DIRECTIONS)}"]
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            errors[name] = ["must carry a time zone (UTC: end with Z)"]
    if since and until and since.tzinfo and until.tzinfo and since >= until:
        errors["until"] = ["must be after since"]
    if errors:
        raise ValidationFailed(errors=errors)
    return LogFilter(phone=phone, session_id=session_id or None, booking_id=booking_id or None,
                     status=status, direction=direction, since=since, until=until)


def _conditions(model, log_filter: LogFilter, retention: Retention, now: dt.datetime,
                before_id: int | None) -> list:
    conditions = [visibility_rules.row_visible(model, retention, now)]
    if before_id is not None:
        conditions.append(model.id < before_id)
    for column, value in ((model.session_id, log_filter.session_id),
                          (model.booking_id, log_filter.booking_id),
                          (model.status, log_filter.status),
                          (model.direction, log_filter.direction)):
        if value is not None:
            conditions.append(column == value)
    if log_filter.since is not None:
        conditions.append(model.created_at >= log_filter.since)
    if log_filter.until is not None:
        conditions.append(model.created_at < log_filter.until)
    return conditions


def _phone_ids(model, phone: str, conditions: list, limit: int):
    """ids where the phone is from, to or forward_to: one limited index range per column."""
    branches = []
    for column in (model.from_phone, model.to_phone, model.forward_to):
        # Uses index: ix_<table>_{from_phone,to_phone,forward_to}_id (backward range scan).
        ranged = (select(model.id).where(column == phone, *conditions)
                  .order_by(model.id.desc()).limit(limit).subquery())
        branches.append(select(ranged.c.id))
    return union_all(*branches).subquery()


def query_logs(db: Session, kind: str, log_filter: LogFilter, *, limit: int,
               cursor: str | None, retention: Retention, now: dt.datetime,
               with_content: bool) -> Page[LogRow]:
    """One page of messages or calls matching the filter, newest first."""
    model = KINDS[kind][0]
    before_id = decode_cursor(cursor, int)[0] if cursor else None
    conditions = _conditions(model, log_filter, retention, now, before_id)
    content = (visibility_rules.body_visible(retention, now) if model is Message
               else visibility_rules.recording_visible(retention, now))
    query = select(model, content.label("content_visible"))
    if model is Message:
        query = query.options(defer(Message.media_urls))
        if not with_content:
            query = query.options(defer(Message.body))
    if log_filter.phone:
        ids = _phone_ids(model, log_filter.phone, conditions, limit + 1)
        query = query.where(model.id.in_(select(ids.c.id)))
    else:
        # Uses index: ix_<table>_session_id_id / ix_<table>_booking_id_id when those filters
        # are given, otherwise the primary key backwards.
        query = query.where(*conditions)
    rows = db.execute(query.order_by(model.id.desc()).limit(limit + 1)).all()
    page = page_of([LogRow(r[0], bool(r[1])) for r in rows], limit, lambda r: (r.record.id,))
    return page


def audit_read(db: Session, principal, kind: str, log_filter: LogFilter, count: int,
               now: dt.datetime) -> None:
    """A reasoned read is audited in the read's own transaction (no-op without a reason)."""
    audit_reasoned_read(db, principal, resource=f"logs.{kind}", query=log_filter.for_audit(),
                        count=count, now=now)


def _common(record, principal) -> dict:
    return {
        "id": record.id, "session_id": record.session_id, "booking_id": record.booking_id,
        "direction": record.direction,
        "from": present_phone(principal, record.from_phone),
        "to": present_phone(principal, record.to_phone),
        "status": record.status, "outcome": record.outcome, "twilio_sid": record.twilio_sid,
        "created_at": isoformat(record.created_at),
    }


def present_message(row: LogRow, principal) -> dict:
    """A message as this caller may see it: bodies only with full access and in their period."""
    message: Message = row.record
    data = _common(message, principal)
    data["media_count"] = message.media_count
    data["body"] = None
    if principal.sees_full_numbers and row.content_visible and message.body_removed_at is None:
        body = message.body
        if body is crypto.UNAVAILABLE:
            data["body_unavailable"] = True
        else:
            data["body"] = body
    return data


def present_call(row: LogRow, principal) -> dict:
    """A call: its duration and recording reference (SID and duration, never the audio)."""
    call: Call = row.record
    data = _common(call, principal)
    data["duration_seconds"] = call.duration_seconds
    shown = row.content_visible and call.recording_sid and call.recording_removed_at is None
    data["recording"] = ({"sid": call.recording_sid, "duration": call.recording_duration}
                         if shown else None)
    return data


PRESENTERS = {"messages": present_message, "calls": present_call}
