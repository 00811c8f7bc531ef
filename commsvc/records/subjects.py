"""One person's data: collect it for export, erase it, replay erasures after a restore.

Invariants:
- "The subject's data" is every message and call the number sent or made or that was
  forwarded to it (`touching`), every outbox text to it, and every session it took part in.
  Export, erasure and replay use this one definition.
- Export shows only what reads may show (visibility_rules; for the outbox and sessions, the
  retention passes' own conditions): past-period rows are absent, past-period bodies null.
- Erasure skips what an active hold covers (holds.not_held) and never changes or deletes
  consent events (evidence that outlives erasure); it appends one, a marketing revocation
  (source `erasure`), when a marketing grant is in force. Messages, calls and outbox rows are
  deleted; in session participant rows the number becomes a tombstone (erased:<9 hex of its
  HMAC>, 16 characters like the column) so the counterpart's session stays whole, and so in
  every lifted phone hold on the number (an active one keeps it: holds outlive erasure).
  Every open session of the subject is closed first, held or not (closing deletes nothing), so
  nothing is routed to a tombstone and a hold never keeps collecting new data about an erased
  person.
  The API commits that close (stop_routing) before the erasure proper: the relay reads only
  committed sessions, so inside one long transaction it kept forwarding the person's texts,
  and storing them, until the erasure committed (PostgreSQL).
- Twilio's copies (messages, calls, recordings) are queued for deletion in the same transaction.
- The ledger (`erasures`) holds crypto.phone_hmac of the number, never the number, and
  keyed hashes of the Idempotency-Keys of the outbox texts to it (a retry of one is refused,
  never sent again); a replay finds the numbers again by hashing every distinct number on
  record.
- A subject is a person: one of the platform's active pool numbers is refused (422).
- Two erasures of one number never overlap (PostgreSQL: _erase_alone); the second finds the
  first in the ledger and nothing left to remove. On SQLite the API deletes texts and calls in
  committed batches first (erase_batch): two erasures' batches take turns, each answering
  what it removed; an erasure stopped between batches is completed by the next.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy import Text, and_, cast, func, or_, select, true, update
from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.consent import service as consent_service
from commsvc.consent.models import ConsentEvent
from commsvc.crypto import phone_hmac
from commsvc.db.locks import named_lock
from commsvc.phones import mask
from commsvc.records import audit, erasure_ledger, remote
from commsvc.records.erasure_ledger import tombstone
from commsvc.records.holds import (
    forget_lifted,
    held,
    hold_still,
    kept_since,
    not_held,
    numbers_kept_by,
)
from commsvc.records.models import Erasure, LegalHold
from commsvc.records.subject_scope import refuse_pool_number, touching
from commsvc.relay.models import Call, Message
from commsvc.sending import service as sending_service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.picks import copies_others_may_own
from commsvc.sessions import ending
from commsvc.sessions.models import Participant
from commsvc.sessions.models import Session as ConversationSession

DELETE_CHUNK = 500  # ids per DELETE ... WHERE id IN (...)

def _chunks(items: list, size: int = DELETE_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _count(db: Session, model, *conditions) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*conditions))


def _on_record_by(model, before: dt.datetime | None):
    """SQL condition: a row made at or before `before` (every row when None), or a text or call
    of a session that was. A replay erases what was on record when the person was erased, and
    what a restored session relayed until the replay (the conversation the erasure ended);
    what they made since as a returning customer, in sessions of their own, is not theirs to
    lose."""
    if before is None:
        return true()
    made = model.created_at <= before
    if model in (Message, Call):
        return or_(made, model.session_id.in_(select(ConversationSession.id).where(
            ConversationSession.created_at <= before)))
    return made


def _erase_communications(db: Session, phone: str, now: dt.datetime,
                          before: dt.datetime | None, *,
                          batch: int | None = None) -> tuple[dict, dict]:
    """Delete the number's messages, calls and outbox texts that no hold keeps, their Twilio
    copies queued; how many, and how many held. `batch`: at most that many messages and at
    most that many calls, no outbox text, and no count of the held."""
    removed, kept = {}, {}
    outbox_touching = OutboundMessage.to_phone == phone
    for name, model, touch, free, covered in (
        ("messages", Message, touching(Message, phone), not_held(Message), held(Message)),
        ("calls", Call, touching(Call, phone), not_held(Call), held(Call)),
        ("outbound_messages", OutboundMessage, outbox_touching,
         not_held(OutboundMessage), held(OutboundMessage)),
    ):
        if batch is not None and model is OutboundMessage:
            break  # deleted with the ledger's marks of their Idempotency-Keys (_keyed_texts)
        touch = and_(touch, _on_record_by(model, before))
        # Twilio's copies by resource (a call's log and its recording are two), by column.
        sid_columns = {"messages": {remote.MESSAGE: ("twilio_sid", "forward_sid", "reply_sid")},
                       "calls": {remote.CALL: ("twilio_sid", "dial_sid"),
                                 remote.RECORDING: ("recording_sid",)},
                       "outbound_messages": {remote.MESSAGE: ("twilio_sid",)}}[name]
        # FOR UPDATE: a status callback storing one of these SIDs meanwhile (a reply's, a
        # forward's, a dialled leg's) waits until the rows are gone, then finds none and queues
        # its SID's deletion itself; read without the lock, the SID it committed between this
        # read and the DELETE was deleted with the row and never at Twilio.
        picked = (OutboundMessage.sid_from_lookup,) if model is OutboundMessage else ()
        chosen = (select(model.id, *(getattr(model, column) for names in
                                     sid_columns.values() for column in names), *picked)
                  .where(touch, free).with_for_update())
        if batch is not None:
            # No ORDER BY: sorting would read every row of the number left, each batch.
            chosen = chosen.limit(batch)
        rows = db.execute(chosen).all()
        # A lookup's pick that a text the erasure keeps (a held one) may own stays at Twilio
        # until none may (remote.KEPT).
        spared = copies_others_may_own(db, rows, leaving=and_(touch, free)) \
            if picked else set()
        for resource, names in sid_columns.items():
            remote.enqueue_many(db, resource=resource, action=remote.DELETE, cause="erasure",
                                sids=[getattr(row, column) for row in rows for column in names
                                      if getattr(row, column) not in spared], now=now)
        remote.enqueue_message(db, spared, action=remote.DELETE, cause=remote.KEPT, now=now)
        for ids in _chunks([row[0] for row in rows]):
            db.execute(model.__table__.delete().where(model.id.in_(ids)))
        removed[name] = len(rows)
        if batch is None:
            kept[name] = _count(db, model, touch, covered)
    return removed, kept


def erase_batch(db: Session, phone: str, *, now: dt.datetime, size: int,
                before: dt.datetime | None = None) -> dict[str, int]:
    """One committed step of an erasure on SQLite (erase_in_batches), for the caller to commit
    before the next (erase_subject after the last): up to `size` of the number's messages and
    as many calls (`before`: a replay's, on record by then) that no hold keeps, deleted with
    their Twilio copies queued; how many (none: done).

    Each batch is whole in itself (its rows and their queued deletions commit together), so
    an erasure stopped between two leaves rows already gone and rows still there, never a
    row gone with its Twilio copy forgotten; erasing again takes the rest, then does what only
    erase_subject does (sessions, outbox, ledger, audit). Holds are read again by each batch:
    one placed between two keeps its rows from the next."""
    return _erase_communications(db, phone, now, before, batch=size)[0]


# SQLite runs one writer at a time: an erasure in one transaction held every other writer back
# for all of it (503 past 5 s: about 40,000 texts). Its texts and calls go in committed batches
# instead, the lock left free between them for longer than a waiting writer's 100 ms between
# tries (SQLite's busy handler), so each waits for one batch at most. PostgreSQL locks rows,
# not the database: there it stays one transaction (two erasures of a number are serialised).
ERASE_BATCH = 2000  # texts, and as many calls, a batch: about 0.25 s of the write lock
BATCH_PAUSE_S = 0.15


def erases_in_batches(db: Session) -> bool:
    """Whether an erasure here deletes texts and calls in committed batches first (SQLite)."""
    return db.get_bind().dialect.name != "postgresql"


def erase_in_batches(db: Session, phone: str, *, now: dt.datetime,
                     before: dt.datetime | None = None, entry: int | None = None,
                     removed: dict[str, int] | None = None) -> dict[str, int] | None:
    """The first part of every erasure on SQLite (the API's, a replay's, a lifted hold's):
    the number's texts and calls (`before`: a replay's bound), a committed batch at a time;
    how many of each, for erase_subject's removed_in_batches. None on PostgreSQL, where
    erase_subject does it all in one transaction.

    Each batch commits the caller's unit of work with whatever it holds already (a lift's
    lifted_at); an erasure of the API has its ledger entry committed before (begin_erasure).
    `entry`: an unfinished ledger entry of the number (begin_erasure's, unfinished_entry's),
    which each batch's counts are added to as it commits, so that it says what was removed
    however the erasure ends. `removed`: the caller's dict, counted into as each batch
    commits (what a failure midway leaves done)."""
    if not erases_in_batches(db):
        return None
    removed = {} if removed is None else removed
    while True:
        batch = erase_batch(db, phone, now=now, size=ERASE_BATCH, before=before)
        _note_removed(db, entry, batch)
        db.commit()
        _add(removed, batch)
        if max(batch.values()) < ERASE_BATCH:
            return removed
        time.sleep(BATCH_PAUSE_S)


def _add(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    for kind, count in more.items():
        counts[kind] = counts.get(kind, 0) + count
    return counts


def _note_removed(db: Session, entry: int | None, removed: dict[str, int]) -> None:
    """Add these counts to the ledger entry's `removed` (none: nothing to do), also when
    another erasure of the number, which took it over, finished it meanwhile: it counts what
    was removed under it, each row once (erase_subject)."""
    found = db.get(Erasure, entry) if entry is not None else None
    if found is not None and any(removed.values()):
        found.result = {**found.result,
                        "removed": _add(dict(found.result.get("removed", {})), removed)}
        db.flush()


def unfinished_entry(db: Session, phone: str, config: Config) -> int | None:
    """The number's ledger entry whose erasure stopped before its end (begin_erasure), if
    any: a replay or a lift that erases the person again counts what it removes there."""
    # Uses index: ix_erasures_subject_hmac
    return db.scalar(select(Erasure.id).where(
        Erasure.subject_hmac == phone_hmac(config.hmac_key, phone), _unfinished())
        .order_by(Erasure.id.desc()).limit(1))


def _keyed_texts(db: Session, phone: str) -> set[tuple[str | None, str]]:
    """(requested_by, Idempotency-Key) of every outbox text to the number sent with a key:
    the ledger keeps their marks, so that a retry never sends an erased text again."""
    # Uses index: ix_outbound_messages_to_phone
    return {(requested_by, key) for requested_by, key in db.execute(
        select(OutboundMessage.requested_by, OutboundMessage.idempotency_key)
        .where(OutboundMessage.to_phone == phone, OutboundMessage.idempotency_key.is_not(None)))}


def _close_open_sessions(db: Session, phone: str, now: dt.datetime,
                         before: dt.datetime | None = None) -> tuple[int, int]:
    """Close every open session of the number (opened by `before`), held or not; how many,
    and how many held.

    A hold keeps the data that exists; it must not keep routing to the person and collecting
    new data about them. Closing deletes nothing.
    """
    mine = select(Participant.session_id).where(Participant.phone == phone)
    rows = list(db.execute(select(ConversationSession.id, ConversationSession.expires_at,
                                  held(ConversationSession).label("held"))
                           .where(ConversationSession.id.in_(mine),
                                  ConversationSession.status == "open",
                                  _on_record_by(ConversationSession, before))))
    # One past its expires_at ended then, swept yet or not: marked expired, as the sweep
    # would, not closed as erased (its ending, and its retention, are the expiry's).
    ending.expire_sessions(db, [row.id for row in rows if row.expires_at <= now], now=now)
    closing = [row for row in rows if row.expires_at > now]
    for row in closing:
        ending.end_session(db, db.get(ConversationSession, row.id), now=now,
                               closed_reason="erased")
    return len(closing), sum(1 for row in closing if row.held)


def _erase_participation(db: Session, phone: str, stone: str,
                         before: dt.datetime | None) -> tuple[int, int]:
    on_record = _on_record_by(ConversationSession, before)
    # Never an open session's: one opened after the statement that closed them stays whole.
    free_sessions = select(ConversationSession.id).where(
        not_held(ConversationSession), on_record, ConversationSession.status != "open")
    touched = set(db.scalars(select(Participant.session_id).where(
        or_(Participant.phone == phone, Participant.counterpart_phone == phone),
        Participant.session_id.in_(free_sessions))))
    for column in (Participant.phone, Participant.counterpart_phone):
        db.execute(update(Participant)
                   .where(column == phone, Participant.session_id.in_(free_sessions))
                   .values({column.key: stone})
                   .execution_options(synchronize_session=False))
    held = [Participant.phone == phone]
    if before is not None:  # a replay: the sessions made since are not held, only not erased
        held.append(Participant.session_id.in_(select(ConversationSession.id).where(on_record)))
    held_count = db.scalar(select(func.count(func.distinct(Participant.session_id)))
                           .where(*held))
    return len(touched), held_count


def _erase_alone(db: Session, phone: str) -> None:
    """No other erasure of the number runs until this transaction ends (PostgreSQL; SQLite's
    BEGIN IMMEDIATE runs one writer at a time). Two at once (a request sent twice) each
    counted the participation the other was tombstoning, and the one that waited on the
    other's rows answered that nothing had ever been on record."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(named_lock("erasure:" + phone))


def stop_routing(db: Session, phone: str, *, config: Config, now: dt.datetime, actor: str,
                 reason: str, before: dt.datetime | None = None) -> int:
    """An erasure's first step, for the caller to commit on its own: 422 for a pool number,
    else close every open session of the number (opened by `before`: a replay), audited (if
    the rest of the erasure then fails, the trail says why the sessions closed); how many of
    them were held."""
    refuse_pool_number(db, phone)
    closed, held_closed = _close_open_sessions(db, phone, now, before)
    if closed:
        audit.record(db, actor=actor, action="subject.sessions_closed", now=now, reason=reason,
                     target={"phone": mask(phone),
                             "subject_hmac": phone_hmac(config.hmac_key, phone)},
                     details={"sessions_closed": closed, "held": held_closed})
    return held_closed


UNFINISHED = {"unfinished": True}  # a ledger entry's result until its erasure ends


def begin_erasure(db: Session, phone: str, *, config: Config, now: dt.datetime, actor: str,
                  reason: str) -> int | None:
    """Where an erasure deletes in committed batches first (SQLite: erase_in_batches), its
    ledger entry, written before them for the caller to commit with stop_routing's close and
    marked UNFINISHED until erase_subject completes it; its id (None on PostgreSQL, where the
    erasure commits once, its entry with it).

    A process killed between two batches leaves part of the person's data gone and the rest on
    record: the ledger names them all the same, so the replay after a restore erases them
    again, the outbound worker sends them nothing accepted before, and erasing again completes
    the entry (an unfinished one of the number is taken over, not written twice)."""
    if not erases_in_batches(db):
        return None
    left = unfinished_entry(db, phone, config)
    if left is not None:
        return left
    entry = Erasure(subject_hmac=phone_hmac(config.hmac_key, phone), requested_by=actor,
                    reason=audit.scrub(reason),
                    created_at=now, result=dict(UNFINISHED))
    db.add(entry)
    db.flush()
    return entry.id


def _unfinished():
    """SQL condition: a ledger entry whose erasure has not ended (begin_erasure); a finished
    one's result names no such key (its marks are hex)."""
    return cast(Erasure.result, Text).contains('"unfinished"')


def erase_subject(db: Session, phone: str, *, config: Config, now: dt.datetime, actor: str,
                  reason: str, replay: bool = False, held_closed: int | None = None,
                  before: dt.datetime | None = None,
                  clock: Callable[[], dt.datetime] | None = None,
                  removed_in_batches: dict[str, int] | None = None,
                  begun: int | None = None) -> dict:
    """Erase the number's data except what holds keep and consent evidence; what was done.
    `held_closed`: what stop_routing returned, when the caller committed it first.
    `before`: only what was on record at that time (a replay: the person's last erasure).
    `clock`: stamps the ledger when the erasure's passes end (else `now`).
    `removed_in_batches`: what erase_batch removed first (committed), counted as removed here.
    `begun`: the ledger entry begin_erasure wrote before those batches, completed here (one
    another erasure of the number completed meanwhile stays as it is: a new one is added).

    With routing stopped and committed first (held_closed), what the person sends while the
    erasure runs is stored with no session and committed after the first pass chose its rows:
    a last pass takes it, and the ledger's time is when that pass ended, so a replay takes
    whatever the relay stored before then and committed after it."""
    _erase_alone(db, phone)
    hold_still(db)
    if held_closed is None:
        refuse_pool_number(db, phone)
        held_closed = _close_open_sessions(db, phone, now, before)[1]
    subject = phone_hmac(config.hmac_key, phone)
    entry = db.scalar(select(Erasure).where(Erasure.id == begun, _unfinished())) \
        if begun is not None else None
    # What the erasure's batches removed before this call (a run stopped before its end, a
    # replay or lift since): counted in the entry as they committed, this call's own too.
    earlier = {} if entry is None else _add(dict(entry.result.get("removed", {})),
                                            {k: -n for k, n in (removed_in_batches or {}).items()})
    earlier = {kind: n for kind, n in earlier.items() if n}
    others = [Erasure.id != entry.id] if entry is not None else []
    erased_before = _count(db, Erasure, Erasure.subject_hmac == subject, *others)
    keyed = _keyed_texts(db, phone) if not replay else set()
    removed, kept_held = _erase_communications(db, phone, now, before)
    for kind, count in (removed_in_batches or {}).items():
        removed[kind] += count
    held_unsent = sending_service.block_unsent(  # only held are left
        db, to_phone=phone, now=now,
        made_by=_on_record_by(OutboundMessage, before))
    # A session the booking app opened for the person since routing stopped: closed too, or
    # its number would become a tombstone while it routes (texts forwarded to "erased:…").
    held_closed += _close_open_sessions(db, phone, now, before)[1]
    stone = tombstone(config.hmac_key, phone)
    removed["sessions"], kept_held["sessions"] = _erase_participation(db, phone, stone, before)
    removed["lifted_holds"] = forget_lifted(db, phone, stone, before)
    if not replay:
        keyed |= _keyed_texts(db, phone)
        late, kept_late = _erase_communications(db, phone, now, before)
        removed.update({kind: removed[kind] + count for kind, count in late.items()})
        kept_held.update(kept_late)
    revoked = None if replay else consent_service.revoke_marketing_grant(
        db, phone=phone, evidence={"erasure": "the person's data was erased"}, now=now,
        requested_by=actor)
    erased_at = clock() if clock is not None else now
    consent_kept = _count(db, ConsentEvent, ConsentEvent.phone == phone)
    result = {"removed": removed, "kept": {"held": kept_held, "consent_events": consent_kept},
              "consent_revoked": None if revoked is None else {
                  "channel": revoked.channel, "purpose": revoked.purpose,
                  "event_id": revoked.id},
              "reasons": _reasons(removed, kept_held, consent_kept, erased_before,
                                  held_closed, held_unsent, revoked is not None)}
    details = {}
    if earlier and not replay:
        result["reasons"].append(_finished_line(earlier, _add(dict(earlier), removed)))
        details["removed_before"] = earlier
    if replay:  # an erasure stopped before its end counts what its replay removed
        _note_removed(db, begun, {kind: count - (removed_in_batches or {}).get(kind, 0)
                                  for kind, count in removed.items()})
    else:
        # An entry another erasure finished meanwhile (two at once) counts this one's
        # batches already (_note_removed): the new entry counts only the rest.
        own = removed
        if entry is None and begun is not None:
            own = _add(dict(removed), {k: -n for k, n in (removed_in_batches or {}).items()})
        ledgered = {"removed": _add(dict(earlier), own), "kept": result["kept"]}
        if keyed:
            ledgered["idempotency_keys"] = erasure_ledger.idempotency_marks(config, keyed)
        if entry is None:
            entry = Erasure(subject_hmac=subject)
            db.add(entry)
        entry.requested_by, entry.reason = actor, audit.scrub(reason)
        entry.created_at, entry.result = erased_at, ledgered
    if not replay or held_closed or held_unsent or any(removed.values()):
        # A replay that changed nothing (all that is left is held) writes nothing, or every
        # run would audit the same held subjects again.
        audit.record(db, actor=actor, action="erasure.replayed" if replay else "subject.erased",
                     now=now, reason=reason,
                     target={"phone": mask(phone), "subject_hmac": subject},
                     details={"removed": removed, "kept": result["kept"],
                              "consent_revoked": result["consent_revoked"], **details})
    return result


def _finished_line(earlier: dict[str, int], whole: dict[str, int]) -> str:
    def said(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n)

    return (f"finished an erasure of this number that had stopped before its end: `removed` is"
            f" what this call removed; before it, the erasure had removed {said(earlier)}"
            f" (in all: {said(whole)}, as the ledger records it)")


def _reasons(removed: dict, kept_held: dict, consent_kept: int, earlier: int,
             held_closed: int, held_unsent: int, marketing_revoked: bool) -> list[str]:
    reasons = []
    if marketing_revoked:
        reasons.append("revoked marketing on every channel (source erasure): no marketing"
                       " reaches this number until it is granted again")
    held_parts = [f"{n} {kind.replace('_', ' ')}" for kind, n in kept_held.items() if n]
    if held_parts:
        reasons.append("kept under an active legal hold: " + ", ".join(held_parts))
    if held_closed:
        reasons.append(f"closed {held_closed} held sessions: their records stay under the hold,"
                       " but nothing more is routed to this number")
    if held_unsent:
        reasons.append(f"blocked {held_unsent} held texts not yet sent to this number: they stay"
                       " on record under the hold, and are never sent")
    if consent_kept:
        reasons.append(f"kept {consent_kept} consent events: the record of consent and opt-out"
                       " is evidence that outlives erasure")
    if any(removed.values()):
        return reasons
    if earlier:
        reasons.append(f"nothing more to remove: this number was erased before ({earlier}"
                       f" earlier erasure{'s' if earlier != 1 else ''})")
    elif not held_parts:
        reasons.append("nothing to remove: no messages, calls, texts or sessions on record for"
                       " this number")
    return reasons


def erase_released(db: Session, hold: LegalHold, *, config: Config, now: dt.datetime,
                   actor: str, reason: str | None) -> dict:
    """A hold just lifted (holds.lift_hold's `release`): erase again, in the lift's
    transaction, what it alone kept of the people erased while it was in force (as
    `erasures replay` would: what was on record at their last erasure; another hold in force
    still keeps its part); how many subjects lost something, and what.

    Bounded by the hold: its own rows' numbers are hashed and matched against the ledger's
    erasures since holds have been in force without a break up to it (kept_since: one placed
    after an erasure may keep what an earlier one kept; none: nothing is read), never every
    number on record."""
    done = {"subjects": 0, "removed": {}}
    found = erasure_ledger.erased_among(db, numbers_kept_by(hold.id),
                                        since=kept_since(db, hold), config=config).found
    why = "erasure replayed (records released by a lifted hold)"
    if reason:
        why += ": " + reason
    for phone, erased_at in found.items():
        # SQLite: the first batch commits the lift with it (a repeated lift ends one stopped
        # between two: holds.lift_hold).
        entry = unfinished_entry(db, phone, config)
        batches = erase_in_batches(db, phone, now=now, before=erased_at, entry=entry)
        outcome = erase_subject(db, phone, config=config, now=now, actor=actor, reason=why,
                                replay=True, before=erased_at, removed_in_batches=batches,
                                begun=entry)
        if any(outcome["removed"].values()):
            done["subjects"] += 1
            for kind, count in outcome["removed"].items():
                done["removed"][kind] = done["removed"].get(kind, 0) + count
    return done
