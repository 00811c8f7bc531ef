"""Verify the audit chain: walk it in id order and name the first broken link.

An edited row no longer hashes to its stored hash; a deleted row leaves the next event's
prev_hash pointing at nothing; an inserted row does not link to its predecessor (or its
successor does not link to it). The oldest event must start from GENESIS or from an anchor
that a recorded `audit.purged` event names. Truncating the tail (and rewriting the whole
chain) is detectable only against a head hash kept outside the database (`expect_head`).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commsvc.records.audit import GENESIS, PURGE_ACTION, hash_of
from commsvc.records.models import AuditEvent

CHUNK = 1000


@dataclass(frozen=True)
class Break:
    """The first broken link: the event where the walk stopped (None: the tail) and why."""

    event_id: int | None
    problem: str


@dataclass(frozen=True)
class Verification:
    events: int
    head: str | None
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _anchors(db: Session) -> set[str]:
    # Uses index: ix_audit_events_action_id.
    details = db.scalars(select(AuditEvent.details).where(AuditEvent.action == PURGE_ACTION))
    return {d["anchor"] for d in details if isinstance(d, dict) and d.get("anchor")}


_COLUMNS = (AuditEvent.id, AuditEvent.created_at, AuditEvent.actor, AuditEvent.action,
            AuditEvent.reason, AuditEvent.target, AuditEvent.details, AuditEvent.prev_hash,
            AuditEvent.hash)


def _events(db: Session):
    """Plain rows (not ORM objects, so the session does not grow), in keyset chunks."""
    query = select(*_COLUMNS).order_by(AuditEvent.id).limit(CHUNK)
    last_id = None  # every row, a zero or negative id too: a row put there is in the walk
    while True:
        # Uses index: pk_audit_events.
        chunk = db.execute(query if last_id is None
                           else query.where(AuditEvent.id > last_id)).all()
        if not chunk:
            return
        yield from chunk
        last_id = chunk[-1].id


def _link_problem(db: Session, previous, event) -> str:
    following = db.execute(select(AuditEvent.id, AuditEvent.prev_hash)
                           .where(AuditEvent.id > event.id).order_by(AuditEvent.id)
                           .limit(1)).first()
    if following is not None and following.prev_hash == previous.hash:
        return (f"inserted: event {event.id} does not belong to the chain (event "
                f"{following.id} links straight to event {previous.id})")
    return (f"deleted: the event before {event.id} is missing (its prev_hash does not match "
            f"event {previous.id}), or this event's link was altered")


def _check(db: Session, previous, event,
           anchors: set[str]) -> str | None:
    if hash_of(event) != event.hash:
        return f"edited: event {event.id} no longer matches its stored hash"
    if previous is None:
        if event.prev_hash != GENESIS and event.prev_hash not in anchors:
            return (f"deleted: the chain starts at event {event.id}, whose prev_hash is neither "
                    "the genesis value nor an anchor recorded by a retention purge")
        return None
    if event.prev_hash != previous.hash:
        return _link_problem(db, previous, event)
    return None


def verify_chain(db: Session, *, expect_head: str | None = None) -> Verification:
    """Walk the whole chain; stop at the first broken link; check a kept head if given."""
    anchors = _anchors(db)
    previous = None
    starts_after = None  # the hash the oldest event links to (GENESIS, or a purge's anchor)
    head_found = False  # the kept head among the events walked (not merely somewhere in the
    count = 0           # table: a copy of it reinserted out of order is no part of the chain)
    for event in _events(db):
        problem = _check(db, previous, event, anchors)
        if problem:
            return Verification(count, _head(db), Break(event.id, problem))
        if previous is None:
            starts_after = event.prev_hash
        head_found = head_found or event.hash == expect_head
        previous = event
        count += 1
    head = previous.hash if previous is not None else None
    if expect_head and not head_found:
        return Verification(count, head, Break(None, _missing_head(
            purged_last=expect_head == starts_after and expect_head in anchors,
            purged=bool(anchors))))
    return Verification(count, head, None)


def _missing_head(*, purged_last: bool, purged: bool) -> str:
    """Why a kept head is not in the chain. A purge's anchor proves nothing by itself (whoever
    can write rows can append a purge naming any hash), so a purged head is never a pass."""
    if purged_last:
        return ("truncated or purged: the kept head is the anchor the chain now starts from:"
                " audit retention removed it as the last event of a purge, or the events up to"
                " it were cut; the two cannot be told apart: keep a head newer than the audit"
                " retention period")
    return ("truncated: the kept head is not in the chain; events were removed from the tail or"
            " the chain was rewritten" + (", or an earlier retention purge removed it (keep a"
                                          " head newer than the audit retention period)"
                                          if purged else ""))


def _head(db: Session) -> str | None:
    return db.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
