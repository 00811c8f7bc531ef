"""The audit chain: hash-linked, masked, tamper-evident, append-only on PostgreSQL, never forked."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from commsvc.records import audit
from commsvc.records.audit_verify import verify_chain
from commsvc.records.models import AuditEvent


def _record(db, clock, n: int, **kwargs) -> list[AuditEvent]:
    events = []
    for i in range(n):
        events.append(audit.record(db, actor=kwargs.get("actor", "key:key_1"),
                                   action=kwargs.get("action", "pii.read"), now=clock(),
                                   reason=f"case {i}", target={"resource": "logs.messages"},
                                   details={"records": i}))
        clock.advance(seconds=1)
    return events


def _unprotect(db, backend) -> None:
    """As a superuser in the test's rolled-back transaction: switch the append-only triggers
    off, the way an attacker with database access would, to show verify still catches it."""
    if backend == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))


def test_events_are_linked_from_genesis_by_sha256_over_canonical_json(db, clock):
    first, second = _record(db, clock, 2)
    assert first.prev_hash == audit.GENESIS and second.prev_hash == first.hash
    document = {"action": "pii.read", "actor": "key:key_1",
                "created_at": "2026-06-01T12:00:00.000000+00:00",
                "details": {"records": 0}, "prev_hash": audit.GENESIS, "reason": "case 0",
                "target": {"resource": "logs.messages"}}
    expected = hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert first.hash == expected


def test_full_numbers_are_masked_and_bodies_refused(db, clock):
    event = audit.record(db, actor="cli", action="subject.exported", now=clock(),
                         reason="request from +14155550101",
                         target={"phone": "+14155550101", "others": ["+442079460958"]},
                         details={"note": "counterpart +14155550202 masked"})
    assert event.target == {"phone": "+1******0101", "others": ["+44******0958"]}
    assert event.details == {"note": "counterpart +1******0202 masked"}
    assert event.reason == "request from +1******0101"
    with pytest.raises(ValueError):
        audit.record(db, actor="cli", action="x", now=clock(), details={"body": "hello"})
    counted = audit.record(db, actor="cli", action="x", now=clock(), details={"bodies": 3})
    assert counted.details == {"bodies": 3}


def test_an_intact_chain_verifies_and_reports_its_head(db, clock):
    events = _record(db, clock, 5)
    result = verify_chain(db)
    assert result.ok and result.events == 5 and result.head == events[-1].hash
    assert verify_chain(db, expect_head=events[2].hash).ok  # an older kept head: appends since


def test_an_empty_log_verifies(db):
    result = verify_chain(db)
    assert result.ok and result.events == 0 and result.head is None


def test_verify_catches_an_edited_row(db, clock, backend):
    events = _record(db, clock, 4)
    _unprotect(db, backend)
    db.execute(sa.update(AuditEvent).where(AuditEvent.id == events[1].id)
               .values(reason="nothing to see"))
    result = verify_chain(db)
    assert not result.ok and result.first_break.event_id == events[1].id
    assert result.first_break.problem.startswith("edited")
    assert result.events == 1


def test_verify_catches_an_edit_whose_hash_was_recomputed(db, clock, backend):
    events = _record(db, clock, 4)
    _unprotect(db, backend)
    forged = dict(created_at=events[1].created_at, actor="key:someone_else",
                  action=events[1].action, reason=events[1].reason, target=events[1].target,
                  details=events[1].details, prev_hash=events[1].prev_hash)
    db.execute(sa.update(AuditEvent).where(AuditEvent.id == events[1].id)
               .values(actor="key:someone_else", hash=audit.event_hash(**forged)))
    result = verify_chain(db)
    assert not result.ok and result.first_break.event_id == events[2].id


def test_verify_catches_a_deleted_row(db, clock, backend):
    events = _record(db, clock, 4)
    _unprotect(db, backend)
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id == events[1].id))
    result = verify_chain(db)
    assert not result.ok and result.first_break.event_id == events[2].id
    assert result.first_break.problem.startswith("deleted")


def test_verify_catches_a_deleted_first_row(db, clock, backend):
    events = _record(db, clock, 3)
    _unprotect(db, backend)
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id == events[0].id))
    result = verify_chain(db)
    assert not result.ok and result.first_break.event_id == events[1].id


def test_verify_catches_an_inserted_row(db, clock, backend):
    events = _record(db, clock, 4)
    _unprotect(db, backend)
    # Make room after event 2 (ids shift by 100), then slip a well-hashed forgery into the gap.
    db.execute(sa.update(AuditEvent).where(AuditEvent.id > events[1].id)
               .values(id=AuditEvent.id + 100))
    fields = dict(created_at=clock(), actor="key:intruder", action="hold.lifted", reason=None,
                  target={}, details={}, prev_hash="f" * 64)
    db.execute(sa.insert(AuditEvent).values(id=events[1].id + 1, **fields,
                                            hash=audit.event_hash(**fields)))
    result = verify_chain(db)
    assert not result.ok and result.first_break.event_id == events[1].id + 1
    assert result.first_break.problem.startswith("inserted")


def test_a_kept_head_detects_a_truncated_tail(db, clock, backend):
    events = _record(db, clock, 4)
    kept_head = events[-1].hash
    _unprotect(db, backend)
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id >= events[2].id))
    assert verify_chain(db).ok  # what remains is a valid chain on its own
    result = verify_chain(db, expect_head=kept_head)
    assert not result.ok and result.first_break.problem.startswith("truncated")


def test_purge_removes_the_oldest_events_records_itself_and_the_chain_still_verifies(db, clock):
    old = _record(db, clock, 5)
    clock.advance(days=400)
    recent = _record(db, clock, 2)
    before = old[-1].created_at + dt.timedelta(days=1)
    assert audit.purge_expired_audit(db, before, clock(), batch_size=3) == 3
    assert audit.purge_expired_audit(db, before, clock(), batch_size=3) == 2
    assert audit.purge_expired_audit(db, before, clock(), batch_size=3) == 0
    remaining = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.id for e in remaining[:2]] == [e.id for e in recent]
    purges = [e for e in remaining if e.action == audit.PURGE_ACTION]
    assert [p.details["deleted"] for p in purges] == [3, 2]
    assert purges[-1].details["anchor"] == recent[0].prev_hash
    result = verify_chain(db)
    assert result.ok and result.events == 4


def test_a_kept_head_that_a_purge_removed_is_not_a_pass_but_says_retention_may_have(
        db, clock):
    """An audit found the plain 'truncated' a false tamper alarm once retention reached a
    kept head; a review of the fix found that accepting the purge's anchor let a forged purge
    hide a cut tail. The head cannot be checked any more, and the message says why."""
    old = _record(db, clock, 3)
    kept_head = old[-1].hash
    clock.advance(days=10)
    _record(db, clock, 2)
    audit.purge_expired_audit(db, old[-1].created_at + dt.timedelta(seconds=1), clock())

    purged = verify_chain(db, expect_head=kept_head)
    assert not purged.ok and "audit retention removed it" in purged.first_break.problem
    missing = verify_chain(db, expect_head="0" * 64)
    assert not missing.ok and "retention purge removed it" in missing.first_break.problem


def test_a_forged_purge_naming_the_kept_head_does_not_hide_a_cut_tail(db, clock, backend):
    events = _record(db, clock, 8)
    kept_head = events[-1].hash
    _unprotect(db, backend)
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in events[3:]])))
    audit.record(db, actor="system", action=audit.PURGE_ACTION, now=clock(),
                 reason="audit retention", details={"deleted": 5, "anchor": kept_head})

    result = verify_chain(db, expect_head=kept_head)
    assert not result.ok and result.first_break.problem.startswith("truncated")


def test_a_copy_of_the_kept_head_reinserted_out_of_the_chain_does_not_pass(db, clock, backend):
    """Found by a review: verify looked the kept head up anywhere in the table, so a cut tail
    passed once a copy of the head was put back at id -1, outside the walk."""
    events = _record(db, clock, 6)
    kept = events[3]
    copy = {c.key: getattr(kept, c.key) for c in AuditEvent.__table__.columns}
    _unprotect(db, backend)
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in events[3:]])))
    db.execute(sa.insert(AuditEvent.__table__).values({**copy, "id": -1}))

    result = verify_chain(db, expect_head=kept.hash)
    assert not result.ok


def test_purging_everything_keeps_a_verifiable_chain(db, clock):
    _record(db, clock, 3)
    clock.advance(days=10)
    assert audit.purge_expired_audit(db, clock(), clock()) == 3
    [purge] = db.scalars(select(AuditEvent)).all()
    assert purge.action == audit.PURGE_ACTION
    assert verify_chain(db).ok
    _record(db, clock, 2)
    assert verify_chain(db).ok


def test_after_a_purge_deleting_more_of_the_prefix_is_still_caught(db, clock, backend):
    old = _record(db, clock, 3)
    clock.advance(days=10)
    recent = _record(db, clock, 3)
    audit.purge_expired_audit(db, old[-1].created_at + dt.timedelta(seconds=1), clock())
    _unprotect(db, backend)
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id == recent[0].id))
    result = verify_chain(db)
    assert not result.ok and result.first_break.event_id == recent[1].id


def _refused(db, statement: str, params=None) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with db.begin_nested():
            db.execute(sa.text(statement), params or {})


@pytest.mark.pg_only
def test_postgres_refuses_update_delete_and_truncate(db, clock):
    event = _record(db, clock, 1)[0]
    _refused(db, "UPDATE audit_events SET reason = 'x' WHERE id = :id", {"id": event.id})
    _refused(db, "DELETE FROM audit_events WHERE id = :id", {"id": event.id})
    _refused(db, "TRUNCATE audit_events")
    # The retention switch lets only events older than the purge bound go.
    db.execute(sa.text("SELECT set_config('commsvc.audit_retention', 'on', true),"
                       " set_config('commsvc.audit_purge_before', '2020-01-01T00:00:00Z', true)"))
    _refused(db, "DELETE FROM audit_events WHERE id = :id", {"id": event.id})
    _refused(db, "UPDATE audit_events SET reason = 'x' WHERE id = :id", {"id": event.id})
    assert db.get(AuditEvent, event.id).reason == "case 0"


@pytest.mark.pg_only
def test_the_purge_switch_is_off_again_after_a_purge(db, clock):
    _record(db, clock, 2)
    clock.advance(days=10)
    _record(db, clock, 1)
    assert audit.purge_expired_audit(db, clock() - dt.timedelta(days=1), clock()) == 2
    _refused(db, "DELETE FROM audit_events")


@pytest.mark.pg_only
def test_concurrent_appends_make_one_unbroken_chain(committed_app, clock):
    database = committed_app.extensions["db"]
    threads, per_thread = 20, 10
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with database.sessionmaker() as session:
                    audit.record(session, actor=f"key:writer_{n}", action="pii.read",
                                 now=clock(), details={"i": i})
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            failures.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    with database.sessionmaker() as session:
        result = verify_chain(session)
        links = session.scalars(select(AuditEvent.prev_hash)).all()
    assert result.ok and result.events == threads * per_thread
    assert len(set(links)) == len(links) == threads * per_thread
