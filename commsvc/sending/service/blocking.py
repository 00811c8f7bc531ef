"""Blocking the texts still waiting to go to a number whose data was erased (block_unsent) or
whose sms consent was revoked (block_on_revocation).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, true, update
from sqlalchemy.orm import Session

from commsvc.consent import decisions as consent
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service.statuses import (
    DUE_STATUSES,
    ERASED_AFTER_AN_ATTEMPT,
    ERASED_BEFORE_SENDING,
)


def block_unsent(db: Session, *, to_phone: str, now: dt.datetime, made_by=None) -> int:
    """Block every text still waiting to go to the number (erasure: a legal hold may keep such
    a text as a record, but it must not reach the person); how many.

    Only a text a worker is handing to Twilio at this moment (`sending` under a live lease,
    its send begun) is left to finish and be recorded, so that the SID of a message Twilio
    holds is not lost; if that attempt fails, the worker finds the erasure before any retry
    (erasure_ledger.erased_since). A text waiting to retry after an attempt that may have
    reached Twilio is blocked too, and says so. A worker that claimed a text and has not begun
    its send finds it blocked (its lease check reads the status under the row lock) and sends
    nothing.
    `made_by`: which texts, if not all (an erasure replay's: those made by the erasure).
    """
    in_flight = and_(OutboundMessage.status == "sending",
                     OutboundMessage.send_started_at.is_not(None),
                     OutboundMessage.lease_until > now)
    # Uses index: ix_outbound_messages_to_phone
    return db.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == to_phone,
               OutboundMessage.status.in_(DUE_STATUSES), ~in_flight,
               true() if made_by is None else made_by)
        .values(status="blocked", lease_token=None, lease_until=None, updated_at=now,
                last_error=case((OutboundMessage.send_started_at.is_(None),
                                 ERASED_BEFORE_SENDING), else_=ERASED_AFTER_AN_ATTEMPT))
        .execution_options(synchronize_session=False)
    ).rowcount


BLOCKED_BY_REVOCATION = f"consent: {consent.REVOKED}"  # the worker's words for it too


def block_on_revocation(db: Session, *, to_phone: str, purposes: set[str],
                        now: dt.datetime) -> int:
    """Block the texts of these purposes still waiting to go to the number, whose sms consent
    was just revoked (consent.service records it): GET /v1/messages/{id} says `blocked` at
    once, not `scheduled` until the worker reaches it hours later; how many.

    A text a worker claimed and has not begun to send is blocked too (PostgreSQL waits for the
    worker's transaction, then reads the row again): a worker that read consent just before
    this revocation may have put it back as `scheduled` for the morning, and one that has not
    read it yet finds the text blocked under its row lock and sends nothing. Left to the
    worker only a text whose attempt may be at Twilio (send_started_at), which it looks up
    there first, then checks consent again.
    """
    # Uses index: ix_outbound_messages_to_phone
    return db.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == to_phone,
               OutboundMessage.status.in_(DUE_STATUSES),
               OutboundMessage.purpose.in_(sorted(purposes)),
               OutboundMessage.send_started_at.is_(None))
        .values(status="blocked", lease_token=None, lease_until=None, updated_at=now,
                last_error=BLOCKED_BY_REVOCATION)
        .execution_options(synchronize_session=False)
    ).rowcount
