"""The platform's own notices to a sender ("conversation has ended", "takes calls only", a
repeated opt-out's confirmation): told at most once a day per sender and number, decided under
the sender's notice lock."""
from __future__ import annotations

import contextlib
import datetime as dt

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from commsvc.consent import relay as consent
from commsvc.db.locks import named_lock
from commsvc.db.session import is_transactional
from commsvc.pool import service as pool_service
from commsvc.relay.inbound import (
    InboundSms,
)
from commsvc.relay.models import TOLD_NOTICE, Message
from commsvc.sessions.models import Participant
from commsvc.sessions.routing import Route

# How long after telling a sender that a number's conversation has ended (or takes calls
# only) their further texts to it are stored untold: an auto-responder (a driving mode, an
# away message) answers every reply, and the two would otherwise text each other without end.
NOTICE_REPEAT_AFTER = dt.timedelta(hours=24)


def told_lately(db: Session, sender: str, proxy_number: str, outcome: str,
                now: dt.datetime) -> bool:
    """Whether the sender was told the same (`outcome`: no conversation, or one that takes
    calls only) from this number within NOTICE_REPEAT_AFTER: news is told at once, whether
    the session ended since they were told it takes calls only, or a later session of theirs
    on this number began (and, the text finding none open, ended) since they were told."""
    # Uses index: ix_messages_told_notice, partial on TOLD_NOTICE: it holds only the notices
    # told, at most one a day per sender, number and outcome (and one after each session of
    # theirs on it), so the lookup reads at most the rows it finds, however many texts the
    # sender sent before. Uses index: ix_participants_phone_proxy (phone, proxy_number,
    # ended_at): only the sessions open or ended since the notice
    return db.scalar(
        select(Message.created_at)
        .where(Message.from_phone == sender, Message.to_phone == proxy_number,
               Message.outcome == outcome, TOLD_NOTICE,
               Message.created_at >= now - NOTICE_REPEAT_AFTER)
        .where(~exists().where(Participant.phone == sender,
                               Participant.proxy_number == proxy_number,
                               Participant.created_at > Message.created_at,
                               # Implied (a session that began after the notice is open or
                               # ended after it), and what the index holds: without it the
                               # check read every session they ever had on the number.
                               or_(Participant.ended_at.is_(None),
                                   Participant.ended_at > Message.created_at)))
        .limit(1)
    ) is not None


def repeat_confirmed_lately(db: Session, sender: str, proxy_number: str,
                            now: dt.datetime) -> bool:
    """Whether a repeated opt-out of the sender's was confirmed from this number within
    NOTICE_REPEAT_AFTER, of their current revocation (one after a START is news: its repeat
    is confirmed too). Decided under the opt-out's phone lock (consent.inbound_decision), so
    of two repeats at once one is confirmed."""
    since = consent.relay_state_since(db, sender)
    after = now - NOTICE_REPEAT_AFTER if since is None else max(now - NOTICE_REPEAT_AFTER, since)
    # Uses index: ix_messages_from_phone_id (the sender's texts)
    return db.scalar(
        select(Message.id)
        .where(Message.from_phone == sender, Message.to_phone == proxy_number,
               Message.outcome == consent.OPT_OUT_REPEAT, Message.created_at >= after)
        .limit(1)
    ) is not None


@contextlib.contextmanager
def notice_lock(db: Session, sms: InboundSms, route: Route | None,
                decision: consent.InboundDecision):
    """Hold the sender's notice lock for this proxy number (PostgreSQL) from told_lately's
    read until the text is stored: two texts arriving together (a photo and its caption come
    as two) both read "not told" and were both told the conversation has ended. SQLite's
    BEGIN IMMEDIATE already serialises them."""
    may_tell = (sms.sender_phone is not None and not decision.consumed
                and (route is None or not route.allows_sms))
    if not may_tell or db.get_bind().dialect.name != "postgresql":
        yield
        return
    lock = named_lock(f"notice:{sms.sender_phone}:{sms.to_phone}")
    if is_transactional(db):
        db.execute(lock)
        yield
        return
    # An autocommit unit of work: a short transaction of its own around the read and the
    # insert, so the lock ends with it whatever happens (a session-level lock would outlive an
    # unlock that never ran, and behind a pooler in transaction mode lock and unlock could
    # reach two server connections).
    connection = db.connection()
    connection.exec_driver_sql("BEGIN")
    try:
        connection.execute(lock)
        yield
    except BaseException:
        # A connection the database dropped has no transaction left to end, and a ROLLBACK on
        # it would raise in place of the disconnect (a 500, not the webhook's run again).
        if not connection.invalidated:
            connection.exec_driver_sql("ROLLBACK")
        raise
    connection.exec_driver_sql("COMMIT")


def from_our_number(db: Session, sender: str) -> bool:
    """A text from one of our own active numbers: never answered with a notice, or two of them
    would answer each other's "conversation has ended" without end. (A retired number has left
    the account and may be a person's phone now.)"""
    return bool(pool_service.pool_numbers_among(db, [sender], active_only=True))
