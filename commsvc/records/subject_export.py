"""Collect one person's data for export (records.subjects' invariants): only what reads
may show, the holds covering it, and which numbers in it are the platform's own."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
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

    Texts, calls and outbox texts are rows of their table's columns (no ORM objects: an export
    may hold 100,000), each with `shown` (whether its body or recording may be shown), and
    bodies and media lists as their stored tokens, decrypted as they are rendered."""

    phone: str
    sessions: list = field(default_factory=list)  # (Session, subject's Participant, other's)
    messages: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    outbound: list = field(default_factory=list)
    consent_state: list = field(default_factory=list)
    consent_history: list = field(default_factory=list)
    holds: list = field(default_factory=list)
    proxy_numbers: set = field(default_factory=set)  # platform numbers: shown, not masked

    def counts(self) -> dict[str, int]:
        return {"sessions": len(self.sessions), "messages": len(self.messages),
                "calls": len(self.calls), "outbound_messages": len(self.outbound),
                "consent_events": len(self.consent_history), "holds": len(self.holds)}


FETCH_ROWS = 1000  # rows taken from the driver at a time (all of them at once: twice the memory)


def _rows(db: Session, model, shown, *conditions, order_by: tuple) -> list:
    """Every column of the model's table (its encrypted ones as their stored tokens) and
    `shown`, of every row that meets the conditions."""
    columns = [crypto.sealed(column) if isinstance(column.type, crypto.EncryptedText)
               else column for column in model.__table__.c]
    return db.execute(select(*columns, shown.label("shown")).where(*conditions)
                      .order_by(*order_by).execution_options(yield_per=FETCH_ROWS)).all()


def collect_subject(db: Session, phone: str, *, config: Config, now: dt.datetime,
                    actor: str, reason: str) -> SubjectData:
    """Everything held about the number (past-retention data hidden); audits the export."""
    refuse_pool_number(db, phone)
    keep = config.retention
    data = SubjectData(phone=phone)
    data.messages = _rows(db, Message, body_visible(keep, now), touching(Message, phone),
                          row_visible(Message, keep, now), order_by=(Message.id,))
    data.calls = _rows(db, Call, recording_visible(keep, now), touching(Call, phone),
                       row_visible(Call, keep, now), order_by=(Call.id,))
    outbox_gone = retention_passes.past_retention("outbound_messages", keep, now)
    body_gone = retention_passes.past_retention("outbound_bodies", keep, now)
    # Uses index: ix_outbound_messages_to_phone
    data.outbound = _rows(db, OutboundMessage, ~body_gone, OutboundMessage.to_phone == phone,
                          ~outbox_gone,
                          order_by=(OutboundMessage.created_at, OutboundMessage.id))
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
    data.holds = _holds_covering(db, phone, sessions, data)
    data.proxy_numbers = _proxy_numbers(db, data, config)
    audit.record(db, actor=actor, action="subject.exported", now=now, reason=reason,
                 target={"phone": mask(phone)}, details=data.counts())
    return data


def _named(rows: list, *columns: str) -> set:
    """Every value (not null or empty) of these columns in these rows (of one query)."""
    if not rows:
        return set()
    # By position: a Row's attribute is looked up by name, ten times slower, 100,000s of times.
    at = [rows[0]._fields.index(column) for column in columns]
    return {row[i] for row in rows for i in at} - {None, ""}


def _proxy_numbers(db: Session, data: SubjectData, config: Config) -> set[str]:
    """Which numbers in the export are the platform's own (shown as they are, not masked):
    the pool's, and TWILIO_SENDER_NUMBER, which platform texts come from."""
    columns = ("from_phone", "to_phone", "forward_to", "forward_from")
    numbers = _named(data.messages, *columns) | _named(data.calls, *columns)
    numbers |= {p.proxy_number for _, mine, other in data.sessions for p in (mine, other) if p}
    numbers |= _named(data.outbound, "from_phone")
    # The consent record outlives the texts: a STOP's evidence names the number it was sent to
    # (consent.relay.record_inbound) long after its text and session are gone.
    numbers |= {event.evidence["to"] for event in data.consent_history
                if isinstance(event.evidence, dict) and isinstance(event.evidence.get("to"), str)}
    return pool_service.pool_numbers_among(db, numbers) | ({config.sender_number} & numbers)


def _holds_covering(db: Session, phone: str, sessions, data: SubjectData) -> list[LegalHold]:
    relayed = (data.messages, data.calls)
    session_ids = {s.id for s in sessions}.union(*(_named(rows, "session_id") for rows in relayed))
    bookings = {s.booking_id for s in sessions}.union(
        *(_named(rows, "booking_id") for rows in (*relayed, data.outbound)))
    # A hold on another number keeps the subject's records too (holds.held): the texts and
    # calls that name it, and the whole of every session it took part in.
    phones = {phone}.union(*(_named(rows, "from_phone", "to_phone", "forward_to")
                             for rows in relayed))
    phones |= _named(data.outbound, "to_phone", "from_phone")
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
