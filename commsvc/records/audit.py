"""The audit log: append-only, hash-chained events of every privileged act.

Invariants:
- Each event stores `prev_hash` (the previous event's hash, GENESIS for the first) and `hash`,
  SHA-256 over a canonical serialisation of its id-independent fields (`canonical`).
- Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock taken before the
  head is read (the unique constraint on prev_hash is the backstop); on SQLite by BEGIN
  IMMEDIATE. The chain therefore never forks.
- Events hold IDs and masked numbers only: any phone number in the reason, target or details
  (E.164 or written as people write them: 415-555-0101, (415) 555-0101, +1 415 555 0101,
  415–555–0101 with en dashes, 415 555 01 01) is masked here by the log filter's own rule
  for free text (log_masking.text.mask_text), and a "body" key is refused, so an erasure never
  has to touch them.
- On PostgreSQL triggers (migration 0004) refuse UPDATE, DELETE and TRUNCATE, except the
  retention purge (`purge_expired_audit`), which deletes a prefix of the chain and records an
  `audit.purged` event naming the new anchor: the prev_hash the oldest remaining event may
  start from. Verification (commsvc.records.audit_verify) accepts GENESIS or a recorded anchor.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pwd
import re

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from commsvc.config.loader import sudo_invoker_uid
from commsvc.db.failures import again_on_a_dropped_connection
from commsvc.db.session import is_transactional
from commsvc.log_masking.phone_numbers import masked_integer
from commsvc.log_masking.text import mask_text
from commsvc.log_masking.words import mask_word
from commsvc.paging import Page, decode_cursor, page_of
from commsvc.records.models import AuditEvent

GENESIS = "0" * 64
# pg_advisory_xact_lock key for appends: an arbitrary constant, "audit" in ASCII.
APPEND_LOCK_KEY = 0x6175646974
PURGE_ACTION = "audit.purged"
# Every action the service records (GET /v1/audit?action= takes only these: a typo is a 422,
# not an empty page). tests/records/test_audit_api.py checks the code records no other.
ACTIONS = ("pii.read", "subject.exported", "subject.erased", "erasure.replayed",
           "subject.sessions_closed", "hold.placed", "hold.lifted", "key.created",
           "key.revoked", "number.added", "number.retired", "encryption.rotated",
           "retention.run", "retention.stopped", PURGE_ACTION)
PURGE_BATCH_SIZE = 1000
FORBIDDEN_KEYS = frozenset({"body", "bodies", "media_urls"})


# Keys whose integers are our records' ids ("ids", "first_id", ...), not numbers someone wrote.
_ID_KEY = re.compile(r"(?:\w*_)?ids?")


def scrub(value, *, ids: bool = False):
    """Mask every phone number in a JSON-able value (keys too); refuse bodies. `ids`: the value
    is under an id key, whose integers are record ids (64-bit: one of ten digits or more is no
    phone number), kept as they are."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        # Counts under these names are fine ({"bodies": 3}); text is message content.
        bad = [k for k in FORBIDDEN_KEYS.intersection(value) if isinstance(value[k], str)]
        if bad:
            raise ValueError(f"audit events never hold message content ({sorted(bad)})")
        return {mask_text(str(k)): scrub(v, ids=bool(_ID_KEY.fullmatch(str(k))))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, ids=ids) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return value if ids else masked_integer(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return mask_text(str(value))


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(*, created_at: dt.datetime, actor: str, action: str, reason: str | None,
              target: dict, details: dict, prev_hash: str) -> bytes:
    """The bytes an event's hash covers: sorted-key compact JSON, no database id."""
    document = {
        "created_at": _timestamp(created_at), "actor": actor, "action": action,
        "reason": reason, "target": target, "details": details, "prev_hash": prev_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def event_hash(**fields) -> str:
    return hashlib.sha256(canonical(**fields)).hexdigest()


def hash_of(event: AuditEvent) -> str:
    """The hash an event's stored fields give (compare with event.hash to detect an edit)."""
    return event_hash(created_at=event.created_at, actor=event.actor, action=event.action,
                      reason=event.reason, target=event.target or {},
                      details=event.details or {}, prev_hash=event.prev_hash)


def _lock_chain(db: Session) -> None:
    if not is_transactional(db):  # the lock would end with its own statement
        raise RuntimeError("audit appends need a transaction (get_db without autocommit)")
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK_KEY)))


def _head_hash(db: Session) -> str | None:
    # Uses index: pk_audit_events (backward scan, one row).
    return db.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))


def cli_actor() -> str:
    """Who acts at the console, as the audit log names them: cli:<operating-system user>, so a
    reasoned read, a revoked key or an erasure run from a shell says whose shell it was.
    Under sudo, the user who ran sudo: cli:<user> (sudo), not cli:root, which named no one."""
    uid = os.geteuid()
    invoker = sudo_invoker_uid() if uid == 0 else None
    if invoker is not None and invoker != 0:
        return mask_text(f"cli:{_account(invoker)} (sudo)")[:64]
    return mask_text(f"cli:{_account(uid)}")[:64]


def _account(uid: int) -> str:
    try:
        # The account's name, not $USER or $LOGNAME (or SUDO_USER), which anyone can set.
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no name for this uid (some containers)
        return f"uid{uid}"


def record(
    db: Session,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    reason: str | None = None,
    target: dict | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction (never a full number or a body)."""
    _lock_chain(db)
    return _append(db, _head_hash(db) or GENESIS, actor=actor, action=action, now=now,
                   reason=reason, target=target, details=details)


def record_alone(database, *, what: str, **fields) -> None:
    """Append one event (`record`'s fields) in a transaction of its own, run once more on a
    fresh connection when its connection dropped (db.again_on_a_dropped_connection), and
    written once even when its commit went through and only the answer was lost: the second
    run looks for the first one's event (its hash is unique) before appending another."""
    appended: list[str] = []

    def append() -> None:
        with database.sessionmaker() as db:
            # Looked for under the chain's lock: the first run's commit may still be under way
            # at the server (its answer lost), its event not visible yet, its lock still held.
            _lock_chain(db)
            # Uses index: uq_audit_events_hash
            if appended and db.scalar(select(AuditEvent.id)
                                      .where(AuditEvent.hash == appended[-1])):
                return
            appended.append(record(db, **fields).hash)
            db.commit()

    again_on_a_dropped_connection(append, what=what)


def _append(db: Session, prev_hash: str, *, actor, action, now, reason, target,
            details) -> AuditEvent:
    # Round-trip through JSON so the hash covers exactly what the database will give back.
    clean_target = json.loads(json.dumps(scrub(target or {})))
    clean_details = json.loads(json.dumps(scrub(details or {})))
    # A reason is a person's words: a number in it glued to a letter or two ("4155550101x",
    # "ph4155550101") is read as the API reads one; targets and details hold our ids, which
    # that reading could take for numbers.
    clean_reason = mask_word(reason) if reason is not None else None
    fields = dict(created_at=now, actor=actor, action=action, reason=clean_reason,
                  target=clean_target, details=clean_details, prev_hash=prev_hash)
    event = AuditEvent(**fields, hash=event_hash(**fields))
    db.add(event)
    db.flush()
    return event


def purge_expired_audit(db: Session, before: dt.datetime, now: dt.datetime, *,
                        batch_size: int = PURGE_BATCH_SIZE, actor: str = "retention") -> int:
    """Delete up to batch_size of the oldest events created before `before`; 0 when done.

    Only a prefix of the chain is deleted (the walk stops at the first event still in its
    period), and an `audit.purged` event recording the new anchor is appended in the same
    transaction, so verification still detects any other deletion. The caller commits per
    batch and calls again until it returns 0.
    """
    _lock_chain(db)
    # Uses index: pk_audit_events (the oldest rows, in chain order).
    oldest = db.execute(
        select(AuditEvent.id, AuditEvent.created_at, AuditEvent.prev_hash)
        .order_by(AuditEvent.id).limit(batch_size + 1)
    ).all()
    doomed = []
    for row in oldest[:batch_size]:
        if row.created_at >= before:
            break
        doomed.append(row)
    if not doomed:
        return 0
    head = _head_hash(db)
    survivors = oldest[len(doomed):]
    # The new anchor: the prev_hash of the oldest event that remains (the purge event itself
    # when everything before it goes).
    anchor = survivors[0].prev_hash if survivors else head
    first_id, last_id = doomed[0].id, doomed[-1].id
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT set_config('commsvc.audit_retention', 'on', true),"
                        " set_config('commsvc.audit_purge_before', :before, true)"),
                   {"before": before.astimezone(dt.UTC).isoformat()})
    db.execute(AuditEvent.__table__.delete().where(AuditEvent.id.between(first_id, last_id)))
    _append(db, head, actor=actor, action=PURGE_ACTION, now=now, reason="audit retention",
            target={"first_id": first_id, "last_id": last_id},
            details={"deleted": len(doomed), "anchor": anchor,
                     "before": before.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")})
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT set_config('commsvc.audit_retention', 'off', true)"))
    return len(doomed)


def list_events(db: Session, *, limit: int, cursor: str | None = None, actor: str | None = None,
                action: str | None = None, since: dt.datetime | None = None,
                until: dt.datetime | None = None) -> Page[AuditEvent]:
    """Audit events, newest first, keyset-paged on id."""
    query = select(AuditEvent)
    filters = {"actor": actor, "action": action, "since": since, "until": until}
    if cursor:
        query = query.where(AuditEvent.id < decode_cursor(cursor, int, of="audit",
                                                          filters=filters)[0])
    # Uses index: ix_audit_events_actor_id / ix_audit_events_action_id, else the primary key.
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    rows = list(db.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    return page_of(rows, limit, lambda event: (event.id,), of="audit", filters=filters)
