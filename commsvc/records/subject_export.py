"""Collect one person's data for export (records.subjects' invariants): only what reads
may show, the holds covering it, and which numbers in it are the platform's own."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from commsvc import crypto
from commsvc.config.settings import Config
from commsvc.consent import decisions as consent_decisions
from commsvc.consent.models import ConsentEvent
from commsvc.phones import mask
from commsvc.pool import service as pool_service
from commsvc.records import audit, retention_passes
from commsvc.records.models import LegalHold
from commsvc.records.subject_scope import refuse_pool_number, subject_sessions, touching
from commsvc.records.visibility_rules import body_visible, recording_visible, row_visible
from commsvc.relay.models import Call, Message
from commsvc.sending.models import OutboundMessage
from commsvc.sessions.models import Participant
from commsvc.sessions.models import Session as ConversationSession


@dataclass
class SubjectData:
    """Everything held about one number, as reads may show it (rendered by the export view).

    Texts, calls and outbox texts are queries, read in order (`rows`) as the document is
    written, never held all at once (an export may hold 200,000): rows of their table's
    columns, each with `shown` (whether its body or recording may be shown), and bodies and
    media lists as their stored tokens, decrypted as they are rendered. What must be known
    before the first of them (how many, the numbers and sessions they name) is read first,
    from the same snapshot (collect_subject)."""

    phone: str
    sessions: list = field(default_factory=list)  # (Session, subject's Participant, other's)
    messages: Select | None = None
    calls: Select | None = None
    outbound: Select | None = None
    tallies: dict = field(default_factory=dict)  # rows of each of those three
    consent_state: list = field(default_factory=list)
    consent_history: list = field(default_factory=list)
    holds: list = field(default_factory=list)
    proxy_numbers: set = field(default_factory=set)  # platform numbers: shown, not masked

    def counts(self) -> dict[str, int]:
        return {"sessions": len(self.sessions), **self.tallies,
                "consent_events": len(self.consent_history), "holds": len(self.holds)}


FETCH_ROWS = 1000  # rows taken from the driver, and held, at a time


def _rows(model, shown, *conditions, order_by: tuple) -> Select:
    """Every column of the model's table (its encrypted ones as their stored tokens) and
    `shown`, of every row that meets the conditions, in order."""
    columns = [crypto.sealed(column) if isinstance(column.type, crypto.EncryptedText)
               else column for column in model.__table__.c]
    return select(*columns, shown.label("shown")).where(*conditions).order_by(*order_by)


def rows(db: Session, query: Select) -> Iterator:
    """The rows of one of SubjectData's queries, FETCH_ROWS at a time from the driver
    (PostgreSQL: a server-side cursor, in the snapshot's transaction)."""
    for part in db.execute(query.execution_options(yield_per=FETCH_ROWS)).partitions():
        yield from part


_NAMED = ("from_phone", "to_phone", "forward_to", "forward_from", "session_id", "booking_id")


def _tally(db: Session, query: Select, *columns: str) -> tuple[int, dict[str, set]]:
    """How many rows the query gives, and every value (not null or empty) of these columns in
    them: one grouped pass, holding only their distinct combinations."""
    inner = query.order_by(None).subquery()
    grouped = [inner.c[column] for column in columns]
    count, named = 0, {column: set() for column in columns}
    for *values, n in db.execute(select(*grouped, func.count()).group_by(*grouped)):
        count += n
        for column, value in zip(columns, values, strict=True):
            named[column].add(value)
    return count, {column: values - {None, ""} for column, values in named.items()}


def collect_subject(db: Session, phone: str, *, config: Config,
                    now: dt.datetime) -> SubjectData:
    """Everything held about the number (past-retention data hidden), read from `db`, which
    should see one snapshot until the document is written (Database.snapshot_beside):
    the counts and the holds are then those of the rows written. Audit it (audit_export)
    before writing any of it."""
    refuse_pool_number(db, phone)
    keep = config.retention
    data = SubjectData(phone=phone)
    data.messages = _rows(Message, body_visible(keep, now), touching(Message, phone),
                          row_visible(Message, keep, now), order_by=(Message.id,))
    data.calls = _rows(Call, recording_visible(keep, now), touching(Call, phone),
                       row_visible(Call, keep, now), order_by=(Call.id,))
    outbox_gone = retention_passes.past_retention("outbound_messages", keep, now)
    body_gone = retention_passes.past_retention("outbound_bodies", keep, now)
    # Uses index: ix_outbound_messages_to_phone
    data.outbound = _rows(OutboundMessage, ~body_gone, OutboundMessage.to_phone == phone,
                          ~outbox_gone,
                          order_by=(OutboundMessage.created_at, OutboundMessage.id))
    named = {}
    for kind, query, columns in (("messages", data.messages, _NAMED),
                                 ("calls", data.calls, _NAMED),
                                 ("outbound_messages", data.outbound,
                                  ("to_phone", "from_phone", "booking_id"))):
        data.tallies[kind], named[kind] = _tally(db, query, *columns)
    session_gone = retention_passes.past_retention("sessions", keep, now)
    # Uses index: ix_participants_phone_proxy (phone, ...)
    sessions = db.scalars(
        select(ConversationSession)
        .where(ConversationSession.id.in_(subject_sessions(phone)), ~session_gone)
        .order_by(ConversationSession.created_at, ConversationSession.id)).all()
    for session in sessions:
        for mine in (p for p in session.participants if p.phone == phone):
            other = next((p for p in session.participants if p.id != mine.id), None)
            data.sessions.append((session, mine, other))
    data.consent_state = consent_decisions.current_state(
        db, phone, marketing_requires_grant=config.marketing_requires_grant)
    # Uses index: ix_consent_events_phone_id
    data.consent_history = list(db.scalars(select(ConsentEvent).where(ConsentEvent.phone == phone)
                                           .order_by(ConsentEvent.id)))
    data.holds = _holds_covering(db, phone, sessions, named)
    data.proxy_numbers = _proxy_numbers(db, data, named, config)
    return data


def audit_export(db: Session, data: SubjectData, *, now: dt.datetime, actor: str,
                 reason: str) -> None:
    audit.record(db, actor=actor, action="subject.exported", now=now, reason=reason,
                 target={"phone": mask(data.phone)}, details=data.counts())


def _named(named: dict, kinds: tuple, *columns: str) -> set:
    """Every value of these columns in the rows of these kinds (_tally's)."""
    return set().union(*(named[kind][column] for kind in kinds for column in columns))


def _proxy_numbers(db: Session, data: SubjectData, named: dict, config: Config) -> set[str]:
    """Which numbers in the export are the platform's own (shown as they are, not masked):
    the pool's, and TWILIO_SENDER_NUMBER, which platform texts come from."""
    numbers = _named(named, ("messages", "calls"),
                     "from_phone", "to_phone", "forward_to", "forward_from")
    numbers |= {p.proxy_number for _, mine, other in data.sessions for p in (mine, other) if p}
    numbers |= _named(named, ("outbound_messages",), "from_phone")
    # The consent record outlives the texts: a STOP's evidence names the number it was sent to
    # (consent.relay.record_inbound) long after its text and session are gone.
    numbers |= {event.evidence["to"] for event in data.consent_history
                if isinstance(event.evidence, dict) and isinstance(event.evidence.get("to"), str)}
    return pool_service.pool_numbers_among(db, numbers) | ({config.sender_number} & numbers)


def _holds_covering(db: Session, phone: str, sessions, named: dict) -> list[LegalHold]:
    relayed = ("messages", "calls")
    session_ids = {s.id for s in sessions} | _named(named, relayed, "session_id")
    bookings = {s.booking_id for s in sessions} | _named(
        named, (*relayed, "outbound_messages"), "booking_id")
    # A hold on another number keeps the subject's records too (holds.held): the texts and
    # calls that name it, and the whole of every session it took part in.
    phones = {phone} | _named(named, relayed, "from_phone", "to_phone", "forward_to")
    phones |= _named(named, ("outbound_messages",), "to_phone", "from_phone")
    if session_ids:
        # Uses index: ix_participants_session_id
        phones |= set(db.scalars(select(Participant.phone)
                                 .where(Participant.session_id.in_(session_ids))))
    # Uses index: ix_legal_holds_scope_value
    return list(db.scalars(select(LegalHold).where(LegalHold.lifted_at.is_(None), or_(
        and_(LegalHold.scope == "phone", LegalHold.value.in_(phones)),
        and_(LegalHold.scope == "session", LegalHold.value.in_(session_ids)),
        and_(LegalHold.scope == "booking", LegalHold.value.in_(bookings)),
    )).order_by(LegalHold.created_at, LegalHold.id)))
