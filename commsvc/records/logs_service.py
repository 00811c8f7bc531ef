"""The communication logs: filter messages and calls, newest first, as each caller may see them.

Queries are keyset-paged on id (newest first) and indexed: a phone filter is a UNION ALL of one
index range per phone column (ix_*_from_phone_id, ix_*_to_phone_id, ix_*_forward_to_id), each
already limited, so a number with a million rows still costs three short index scans. Rows
past their retention period are hidden here (visibility_rules), whether or not the retention
job has run.

The messages log also lists the platform's own texts, read from the outbox (outbound_messages,
the one record of each send and its status) as direction "outbound". Each source is paged on
its own key (relayed messages on id, platform sends on (created_at, id)) and one page of each
is merged by created_at; the cursor holds both positions, so every row appears exactly once
and the relayed side keeps its id-keyed index scans. Filters no platform send can match
(direction inbound, a session, a relay-only status) never read the outbox.
"""
from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import asdict, dataclass

from sqlalchemy import select, tuple_, union_all
from sqlalchemy.orm import Session, defer

from commsvc.auth.visibility import audit_reasoned_read
from commsvc.clock import isoformat
from commsvc.config.settings import Retention
from commsvc.crypto import phone_hmac
from commsvc.errors import ValidationFailed
from commsvc.paging import Page, decode_cursor, encode_cursor, page_of
from commsvc.phones import InvalidPhone, mask, normalise_recorded
from commsvc.records import visibility_rules
from commsvc.records.retention_passes import past_retention
from commsvc.relay.models import Call, Message
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service import STATUS_RANK

DIRECTIONS = ("inbound", "outbound")
RELAYED_STATUSES = (
    "accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed",
    "receiving", "received", "read", "canceled", "partially_delivered", "simulated",
)
OUTBOUND_STATUSES = tuple(STATUS_RANK)  # the outbox's statuses (commsvc.sending.service)
MESSAGE_STATUSES = tuple(dict.fromkeys(RELAYED_STATUSES + OUTBOUND_STATUSES))
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

    def for_cursor(self, hmac_key: str) -> dict:
        """The filter as a cursor is bound to it: the phone by its keyed hash (HMAC_KEY), as a
        cursor may be read beside the masked number."""
        values = asdict(self)
        if self.phone:
            values["phone"] = phone_hmac(hmac_key, self.phone)
        return values


@dataclass(frozen=True)
class LogRow:
    """A message or call, and whether its body / recording reference may still be shown."""

    record: Message | Call | OutboundMessage
    content_visible: bool


def period_problem(since: dt.datetime | None, until: dt.datetime | None) -> str | None:
    """What is wrong with a query's period (since, until), for `until`: it must end after it
    starts. For the logs and the audit log, API (schemas.UntilAfterSince) and CLI alike."""
    if since is not None and until is not None and since >= until:
        return "must be after since"
    return None


def build_filter(kind: str, *, region: str, phone: str | None = None, status: str | None = None,
                 direction: str | None = None, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, session_id: str | None = None,
                 booking_id: str | None = None) -> LogFilter:
    """Check and normalise raw filters (API and CLI alike); 422 with every problem found."""
    errors: dict[str, list[str]] = {}
    statuses = KINDS[kind][1]
    if phone is not None:
        try:
            phone = normalise_recorded(phone, region)
        except InvalidPhone as exc:
            errors["phone"] = [str(exc)]
    if status is not None and status not in statuses:
        errors["status"] = [f"must be one of {', '.join(statuses)}"]
    if direction is not None and direction not in DIRECTIONS:
        errors["direction"] = [f"must be one of {', '.join(DIRECTIONS)}"]
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            errors[name] = ["must carry a time zone (UTC: end with Z)"]
    if since and until and since.tzinfo and until.tzinfo and (
            problem := period_problem(since, until)):
        errors["until"] = [problem]
    for name, value in (("session_id", session_id), ("booking_id", booking_id)):
        if value is not None and not value.strip():
            errors[name] = ["must not be empty (leave the filter out to list them all)"]
    if errors:
        raise ValidationFailed(errors=errors)
    return LogFilter(phone=phone, session_id=session_id, booking_id=booking_id,
                     status=status, direction=direction, since=since, until=until)


def _matching(created_at, log_filter: LogFilter, equal: tuple) -> list:
    """column == value for each (column, value) given a value, and since/until on created_at."""
    conditions = [column == value for column, value in equal if value is not None]
    if log_filter.since is not None:
        conditions.append(created_at >= log_filter.since)
    if log_filter.until is not None:
        conditions.append(created_at < log_filter.until)
    return conditions


def _conditions(model, log_filter: LogFilter, retention: Retention, now: dt.datetime,
                before_id: int | None) -> list:
    conditions = [visibility_rules.row_visible(model, retention, now)]
    if before_id is not None:
        conditions.append(model.id < before_id)
    return conditions + _matching(model.created_at, log_filter, (
        (model.session_id, log_filter.session_id), (model.booking_id, log_filter.booking_id),
        (model.status, log_filter.status), (model.direction, log_filter.direction)))


def _fetch(db: Session, query, model, phone_columns: tuple, log_filter: LogFilter,
           conditions: list, newest_first: tuple, fetch: int) -> list[LogRow]:
    """The first `fetch` rows of (model, content_visible) matching, in newest_first order.

    A phone filter is one limited index range per phone column (UNION ALL), then the rows by
    primary key.
    """
    if log_filter.phone:
        branches = []
        for column in phone_columns:
            ranged = (select(model.id).where(column == log_filter.phone, *conditions)
                      .order_by(*newest_first).limit(fetch).subquery())
            branches.append(select(ranged.c.id))
        ids = union_all(*branches).subquery()
        query = query.where(model.id.in_(select(ids.c.id)))
    else:
        query = query.where(*conditions)
    rows = db.execute(query.order_by(*newest_first).limit(fetch)).all()
    return [LogRow(record, bool(visible)) for record, visible in rows]


def _relayed_rows(db: Session, model, log_filter: LogFilter, *, retention: Retention,
                  now: dt.datetime, before_id: int | None, fetch: int,
                  with_content: bool) -> list[LogRow]:
    """Up to `fetch` relayed messages or calls below before_id, newest (highest id) first.

    The relay records only what came in (direction inbound): `direction=outbound` reads
    nothing here rather than every row of the table looking for one.
    """
    if log_filter.direction == "outbound":
        return []
    conditions = _conditions(model, log_filter, retention, now, before_id)
    content = (visibility_rules.body_visible(retention, now) if model is Message
               else visibility_rules.recording_visible(retention, now))
    query = select(model, content.label("content_visible"))
    if model is Message:
        query = query.options(defer(Message.media_urls))
        if not with_content:
            query = query.options(defer(Message.body))
    # Uses index: a phone: ix_<table>_{from_phone,to_phone,forward_to}_id (backward range
    # scans); ix_<table>_session_id_id / ix_<table>_booking_id_id when those filters are
    # given; otherwise the primary key backwards.
    return _fetch(db, query, model, (model.from_phone, model.to_phone, model.forward_to),
                  log_filter, conditions, (model.id.desc(),), fetch)


def _outbound_may_match(log_filter: LogFilter) -> bool:
    """Whether a platform send can match: they have no session and only outbox statuses."""
    return (log_filter.session_id is None and log_filter.direction in (None, "outbound")
            and log_filter.status in (None, *OUTBOUND_STATUSES))


def _outbound_rows(db: Session, log_filter: LogFilter, *, retention: Retention,
                   now: dt.datetime, at_or_below: tuple[dt.datetime, str] | None, fetch: int,
                   with_content: bool) -> list[LogRow]:
    """Up to `fetch` platform sends at or below (created_at, id), newest first.

    Past retention means what the retention passes would remove (export reads it the same way).
    """
    o = OutboundMessage
    conditions = [~past_retention("outbound_messages", retention, now)]
    if at_or_below is not None:
        conditions += [o.created_at <= at_or_below[0], tuple_(o.created_at, o.id) <= at_or_below]
    conditions += _matching(o.created_at, log_filter, (
        (o.booking_id, log_filter.booking_id), (o.status, log_filter.status)))
    query = select(o, (~past_retention("outbound_bodies", retention, now)).label("content_visible"))
    if not with_content:
        query = query.options(defer(o.body))
    # Uses index: a phone: ix_outbound_messages_{to_phone,from_phone} (backward range scans);
    # ix_outbound_messages_booking_id with a booking; otherwise
    # ix_outbound_messages_created_at_id backwards.
    return _fetch(db, query, o, (o.to_phone, o.from_phone), log_filter, conditions,
                  (o.created_at.desc(), o.id.desc()), fetch)


# A messages cursor: (relayed id to stay below, the next send's created_at and id). A side
# with nothing left is NONE_LEFT; it stays empty for new rows arriving while the caller pages.
# A side the filter never reads (direction=inbound: the outbox) is NONE_LEFT too, which is
# why the cursor is bound to its filter (paging.py).
NONE_LEFT = (0, dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "")


def _message_page(db: Session, log_filter: LogFilter, *, limit: int, cursor: str | None,
                  filters: dict, retention: Retention, now: dt.datetime,
                  with_content: bool) -> Page[LogRow]:
    """Relayed messages and platform sends merged newest first; each side keeps its position."""
    before_id, sent_at, sent_id = (
        decode_cursor(cursor, int, dt.datetime, str, of="messages", filters=filters) if cursor
        else (None, None, None))
    fetch = limit + 1
    visible = dict(retention=retention, now=now, fetch=fetch, with_content=with_content)
    sent = ([] if sent_id == NONE_LEFT[2] or not _outbound_may_match(log_filter)
            else _outbound_rows(db, log_filter, at_or_below=(sent_at, sent_id)
                                if sent_id else None, **visible))
    relayed = ([] if before_id is not None and before_id <= NONE_LEFT[0]
               else _relayed_rows(db, Message, log_filter, before_id=before_id, **visible))
    merged = list(heapq.merge(relayed, sent, key=lambda row: row.record.created_at,
                              reverse=True))
    if len(merged) <= limit:
        return Page(merged, None)
    shown = merged[:limit]
    relayed_shown = sum(isinstance(row.record, Message) for row in shown)
    next_relayed = relayed[relayed_shown:]
    next_sent = sent[limit - relayed_shown:]
    return Page(shown, encode_cursor(
        next_relayed[0].record.id + 1 if next_relayed else NONE_LEFT[0],
        next_sent[0].record.created_at if next_sent else NONE_LEFT[1],
        next_sent[0].record.id if next_sent else NONE_LEFT[2], of="messages", filters=filters))


def query_logs(db: Session, kind: str, log_filter: LogFilter, *, limit: int,
               cursor: str | None, hmac_key: str, retention: Retention, now: dt.datetime,
               with_content: bool) -> Page[LogRow]:
    """One page of messages (relayed and platform sends) or calls matching the filter; its
    cursor continues this filter only (`hmac_key`, HMAC_KEY, keys the phone in it)."""
    filters = log_filter.for_cursor(hmac_key)
    if kind == "messages":
        return _message_page(db, log_filter, limit=limit, cursor=cursor, filters=filters,
                             retention=retention, now=now, with_content=with_content)
    before_id = decode_cursor(cursor, int, of="calls", filters=filters)[0] if cursor else None
    rows = _relayed_rows(db, Call, log_filter, retention=retention, now=now,
                         before_id=before_id, fetch=limit + 1, with_content=with_content)
    return page_of(rows, limit, lambda r: (r.record.id,), of="calls", filters=filters)


def audit_read(db: Session, principal, kind: str, log_filter: LogFilter, rows: list[LogRow],
               now: dt.datetime) -> None:
    """A reasoned read is audited in the read's own transaction (no-op without a reason),
    naming the rows the page disclosed."""
    audit_reasoned_read(db, principal, resource=f"logs.{kind}", query=log_filter.for_audit(),
                        count=len(rows), ids=[row.record.id for row in rows], now=now)
