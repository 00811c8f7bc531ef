"""What "the subject's data" is (records.subjects' invariants): every message and call the
number sent or made or that was forwarded to it (`touching`), and every session it took part in.
Export, erasure and replay use this one definition."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from commsvc.config.settings import Retention
from commsvc.pool import service as pool_service
from commsvc.records.retention_passes import past_retention
from commsvc.records.visibility_rules import row_visible
from commsvc.relay.models import Call, Message
from commsvc.sending.models import OutboundMessage
from commsvc.sessions.models import Participant
from commsvc.sessions.models import Session as ConversationSession


def touching(model, phone: str):
    """SQL condition: a Message or Call row where the number is a person in it: who sent or
    called, or to whom it was forwarded. Not `to_phone`: an inbound row's To is always one of
    the platform's numbers, and every conversation relayed through a proxy number "touches"
    it there (its export would be other people's messages, its erasure would delete them)."""
    # Uses index: ix_<table>_from_phone_id, ix_<table>_forward_to_id
    return or_(*touching_each(model, phone))


def touching_each(model, phone: str) -> tuple:
    """`touching`'s conditions one by one, each on a column of its own index: an EXISTS asks
    each alone, as PostgreSQL reads an EXISTS of their OR with a scan of the whole table."""
    return model.from_phone == phone, model.forward_to == phone


def subject_sessions(phone: str):
    """SQL: the ids of the sessions the number took part in."""
    return select(Participant.session_id).where(Participant.phone == phone)


def refuse_pool_number(db: Session, phone: str) -> None:
    """422 for one of our active numbers (a retired one is a person's where `touching` finds
    it as one)."""
    pool_service.refuse_active_pool_number(
        db, phone, " (a proxy number in the pool): export or erase the numbers of the people it"
                   " relays")


def data_on_record(db: Session, phone: str, *, retention: Retention, now: dt.datetime
                   ) -> tuple[bool, bool]:
    """Whether an export of the number would show (a session it took part in, any other of its
    data: a text or call `touching` it, an outbox text to it), in one query: what a pool
    number's refusal would take from its owner. Past retention it is absent from the export
    already, and the retention job's to delete; consent outlives even an erasure."""
    # Uses index: ix_participants_phone_proxy (phone, ...)
    in_session = exists().where(
        ConversationSession.id.in_(subject_sessions(phone)),
        ~past_retention("sessions", retention, now))
    # Uses index: ix_<table>_from_phone_id, ix_<table>_forward_to_id, ix_outbound_messages_to_phone
    # (one EXISTS a column: of `touching`'s OR PostgreSQL scanned every text, 0.45 s with
    # 1,000,000 of them, for a number whose texts were all past retention).
    other = or_(*(exists().where(touches, row_visible(model, retention, now))
                  for model in (Message, Call) for touches in touching_each(model, phone)),
                exists().where(OutboundMessage.to_phone == phone,
                               ~past_retention("outbound_messages", retention, now)))
    return tuple(db.execute(select(in_session, other)).one())
