"""Replay the erasures after a restore: every distinct number on record is hashed and looked
up in the ledger (records.subjects' invariants)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select, union
from sqlalchemy.exc import DBAPIError

from commsvc.config.settings import Config
from commsvc.phones import mask
from commsvc.records import erasure_ledger
from commsvc.records.models import LegalHold
from commsvc.records.subjects import (
    erase_in_batches,
    erase_subject,
    stop_routing,
    unfinished_entry,
)
from commsvc.relay.models import Call, Message
from commsvc.sending.models import OutboundMessage
from commsvc.sessions.models import Participant


@dataclass
class ReplayResult:
    ledger_subjects: int = 0
    phones_checked: int = 0
    matched: int = 0  # found again and erased
    held: int = 0  # found again, but all that is left of them is kept by a legal hold
    newer: int = 0  # found again only in what they made since their erasure (theirs to keep)
    # whose erasure stopped before its end (an unfinished ledger entry): sending it again ends it
    unfinished: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    stopped_at: str | None = None  # the masked number whose erasure failed; the rest not done
    stopped_in_part: bool = False  # ... after some of its batches (counted in `removed`)
    error: DBAPIError | None = None  # why (the caller reports it, after what was done)


def numbers_on_record():
    """Every distinct real number the relay, outbox, sessions or lifted holds hold (UNION
    removes repeats): where `touching` and the outbox find a person, not the proxy number an
    inbound row went to; a lifted hold's, which a restore brings back (forget_lifted)."""
    lifted_holds = select(LegalHold.value).where(LegalHold.scope == "phone",
                                                 LegalHold.lifted_at.is_not(None))
    return union(lifted_holds, *(select(column) for column in (
        Message.from_phone, Message.forward_to, Call.from_phone, Call.forward_to,
        Participant.phone, Participant.counterpart_phone, OutboundMessage.to_phone)))


def replay_erasures(database, *, config: Config, now: dt.datetime,
                    since: dt.datetime | None = None, actor: str) -> ReplayResult:
    """Erase again every ledger subject whose number is on record (after a backup restore, or
    a hold lifted): what was on record at their last erasure. What a returning customer made
    since (sessions, texts, calls) stays theirs.

    As the API's erasure: every found subject's restored open sessions are closed and that
    committed first, so nothing more is relayed to or stored about them while the rest runs
    (the relay reads only committed sessions); then one transaction per subject, its texts and
    calls in committed batches before it on SQLite (erase_in_batches: other writers wait for a
    batch, not for the subject)."""
    reason = "erasure replayed (records restored from a backup, or released by a lifted hold)"
    with database.sessionmaker() as db:
        erased = erasure_ledger.erased_among(db, numbers_on_record(), since=since,
                                             config=config)
        result = ReplayResult(ledger_subjects=erased.subjects, phones_checked=erased.checked)
        if not erased.subjects:
            return result
        found = erased.found
        held_closed = {phone: stop_routing(db, phone, config=config, now=now, actor=actor,
                                           reason=reason, before=erased_at)
                       for phone, erased_at in found.items()}
        db.commit()
    for phone, erased_at in found.items():
        done: dict[str, int] = {}  # what its committed batches removed (SQLite)
        try:
            with database.sessionmaker() as db:
                entry = unfinished_entry(db, phone, config)
                batches = erase_in_batches(db, phone, now=now, before=erased_at, entry=entry,
                                           removed=done)
                outcome = erase_subject(db, phone, config=config, now=now, actor=actor,
                                        reason=reason, replay=True,
                                        held_closed=held_closed[phone], before=erased_at,
                                        removed_in_batches=batches, begun=entry)
                db.commit()
        except DBAPIError as exc:  # those done so far stay done; a new replay redoes the rest
            result.stopped_at, result.error = mask(phone), exc
            result.stopped_in_part = any(done.values())
            for kind, count in done.items():
                result.removed[kind] = result.removed.get(kind, 0) + count
            break  # and leave the -wal file (checkpoint_deleted) as a full run does
        result.unfinished += entry is not None
        if any(outcome["removed"].values()):
            result.matched += 1
        elif any(outcome["kept"]["held"].values()):
            result.held += 1
        else:
            result.newer += 1
        for kind, count in outcome["removed"].items():
            result.removed[kind] = result.removed.get(kind, 0) + count
    database.checkpoint_deleted()
    return result
