"""On SQLite an erasure deletes the person's texts and calls in committed batches (other
writers get the lock between them): the same answer as one transaction, holds read again by
each batch, and an erasure stopped between two batches completed by erasing again. A replay
and a lifted hold's erasure go through the same batches; a process killed between two leaves
the ledger knowing of the erasure, and a lift killed so is ended by lifting again."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from commsvc.records import erasure_ledger, holds, subjects
from commsvc.records.models import AuditEvent, Erasure, LegalHold, RemoteDeletion
from commsvc.relay.models import Call, Message
from tests.records import test_retention as rows
from tests.records.test_retention import DAY, REQUESTER
from tests.records.test_subjects import REASON, _audit


class _Done(list):
    """What each batch removed, and the unrecorded erase_batch (`real`)."""

    def __init__(self, real):
        super().__init__()
        self.real = real


@pytest.fixture
def batches(backend, monkeypatch):
    """Batches of 2 with no pause; the list of what each batch removed, as it ends."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL erases in one transaction (it locks rows, not the database)")
    monkeypatch.setattr(subjects, "ERASE_BATCH", 2)
    monkeypatch.setattr(subjects, "BATCH_PAUSE_S", 0)
    real = subjects.erase_batch
    done = _Done(real)

    def recorded(*args, **kwargs):
        done.append(real(*args, **kwargs))
        return done[-1]

    monkeypatch.setattr(subjects, "erase_batch", recorded)
    return done


@pytest.fixture
def person(db, clock):
    """REQUESTER's five texts and a call in a closed session, a text in a booking of its own,
    an outbox text: their Twilio SIDs."""
    session = rows.make_session(db, created_at=clock() - 3 * DAY, booking_id="bk_b1")
    texts = [rows.make_message(db, created_at=clock() - 2 * DAY, session=session)
             for _ in range(5)]
    other = rows.make_session(db, created_at=clock() - 3 * DAY, booking_id="bk_b2")
    texts.append(rows.make_message(db, created_at=clock() - DAY, session=other))
    call = rows.make_call(db, created_at=clock() - DAY, session=session)
    rows.make_outbound(db, created_at=clock() - DAY)
    db.commit()
    return {m.twilio_sid for m in texts} | {call.twilio_sid}


def _erase(client, api_key):
    return client.post(f"/v1/subjects/{REQUESTER}/erase", headers={**api_key("privacy"), **REASON})


def _queued(db) -> set[str]:
    db.expunge_all()
    return set(db.scalars(select(RemoteDeletion.sid)))


def test_a_batched_erasure_answers_as_one_transaction_did(client, api_key, db, person, batches):
    response = _erase(client, api_key)

    assert response.status_code == 200, response.json
    assert response.json["removed"] == {"messages": 6, "calls": 1, "outbound_messages": 1,
                                        "sessions": 2, "lifted_holds": 0}
    assert response.json["kept"] == {"held": {"messages": 0, "calls": 0,
                                              "outbound_messages": 0, "sessions": 0},
                                     "consent_events": 0}
    assert [b["messages"] for b in batches] == [2, 2, 2, 0]
    assert person <= _queued(db)
    assert db.scalar(select(func.count()).select_from(Message)) == 0


def test_a_hold_placed_between_two_batches_keeps_its_rows_from_the_next(
        client, api_key, db, clock, person, batches, monkeypatch):
    real = subjects.erase_batch

    def then_a_hold(*args, **kwargs):
        removed = real(*args, **kwargs)
        if len(batches) == 1:
            holds.place_hold(db, scope="booking", value="bk_b1", reason="dispute",
                             actor="test", now=clock())
            db.commit()
        return removed

    monkeypatch.setattr(subjects, "erase_batch", then_a_hold)
    response = _erase(client, api_key)

    assert response.status_code == 200, response.json
    # The first batch took two of bk_b1's texts and its call; the hold keeps the other three.
    assert (response.json["removed"]["messages"], response.json["removed"]["calls"]) == (3, 1)
    assert response.json["kept"]["held"] == {"messages": 3, "calls": 0,
                                             "outbound_messages": 0, "sessions": 1}
    assert db.scalar(select(func.count()).select_from(Message)) == 3


def test_an_erasure_stopped_between_batches_is_completed_by_erasing_again(
        client, api_key, db, person, batches, monkeypatch):
    real = subjects.erase_batch

    def fails_second(*args, **kwargs):
        if len(batches) == 1:
            batches.append("failed")
            raise OperationalError("DELETE", {}, Exception("disk I/O error"))
        return real(*args, **kwargs)

    monkeypatch.setattr(subjects, "erase_batch", fails_second)
    stopped = _erase(client, api_key)

    assert stopped.status_code == 503
    # The first batch stays done, its Twilio copies queued with it; nothing else happened.
    assert db.scalar(select(func.count()).select_from(Message)) == 4
    gone = person - set(db.scalars(select(Message.twilio_sid).union(select(Call.twilio_sid))))
    assert len(gone) == 3 and gone <= _queued(db)  # two texts and the call
    # The ledger knows of it (committed before the first batch), unfinished, and what its
    # batches removed (counted with each as it committed).
    assert [e.result for e in db.scalars(select(Erasure))] == [
        {**subjects.UNFINISHED, "removed": {"messages": 2, "calls": 1}}]
    assert _audit(db, "subject.erased") == []

    monkeypatch.setattr(subjects, "erase_batch", real)
    again = _erase(client, api_key)

    assert again.status_code == 200, again.json
    # The answer is what this call removed, and says plainly that it is the rest ...
    assert again.json["removed"] == {"messages": 4, "calls": 0, "outbound_messages": 1,
                                     "sessions": 2, "lifted_holds": 0}
    assert again.json["reasons"][-1] == (
        "finished an erasure of this number that had stopped before its end: `removed` is what"
        " this call removed; before it, the erasure had removed 2 messages, 1 calls (in all:"
        " 6 messages, 1 calls, 1 outbound messages, 2 sessions, as the ledger records it)")
    assert person <= _queued(db)
    assert db.scalar(select(func.count()).select_from(Message)) == 0
    # ... the ledger and the audit trail what the erasure as a whole removed.
    [entry] = db.scalars(select(Erasure))
    assert entry.result["removed"] == {"messages": 6, "calls": 1, "outbound_messages": 1,
                                       "sessions": 2, "lifted_holds": 0}
    [event] = _audit(db, "subject.erased")
    assert event.details["removed_before"] == {"messages": 2, "calls": 1}
    assert "erased before (1 earlier erasure)" in _erase(client, api_key).json["reasons"][-1]


class Killed(BaseException):
    """The process ends here: nothing after it runs (no error handler, no rollback answer)."""


def _killed_at_second_batch(batches, monkeypatch) -> None:
    real = subjects.erase_batch

    def killed(*args, **kwargs):
        if len(batches) == 1:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(subjects, "erase_batch", killed)


def _restore(db, clock, n: int = 2) -> None:
    """A backup brings back texts of REQUESTER's that the erasure had deleted."""
    for _ in range(n):
        rows.make_message(db, created_at=clock() - 2 * DAY)
    db.commit()


def _requesters_texts(db) -> int:
    db.expunge_all()
    return db.scalar(select(func.count()).select_from(Message)
                     .where(Message.from_phone == REQUESTER))


def test_an_erasure_killed_between_batches_is_in_the_ledger_so_a_replay_after_a_restore_ends_it(
        client, api_key, app, db, clock, runner, person, batches, monkeypatch):
    _killed_at_second_batch(batches, monkeypatch)
    with pytest.raises(Killed):
        _erase(client, api_key)

    assert _requesters_texts(db) == 4  # the first batch's two are gone
    config = app.extensions["config"]
    assert erasure_ledger.last_erasure(db, REQUESTER, config) == clock()
    monkeypatch.setattr(subjects, "erase_batch", batches.real)
    _restore(db, clock)
    clock.advance(days=1)

    replay = runner.invoke(args=["erasures", "replay"])

    assert replay.exit_code == 0, replay.output
    assert "1 found again and erased" in replay.output
    assert _requesters_texts(db) == 0


def test_a_replay_erases_in_batches(client, api_key, db, clock, runner, person, batches):
    assert _erase(client, api_key).status_code == 200
    _restore(db, clock, n=5)
    clock.advance(days=1)
    batches.clear()

    replay = runner.invoke(args=["erasures", "replay"])

    assert replay.exit_code == 0, replay.output
    assert "messages                   5 removed" in replay.output
    assert [b["messages"] for b in batches] == [2, 2, 1]
    assert _requesters_texts(db) == 0


def _held_and_erased(client, api_key, db) -> str:
    """bk_b1 (REQUESTER's five texts and a call) under a hold while REQUESTER was erased."""
    privacy = api_key("privacy")
    placed = client.post("/v1/holds", headers=privacy,
                         json={"scope": "booking", "value": "bk_b1", "reason": "dispute 4"})
    assert placed.status_code == 201, placed.json
    assert _erase(client, api_key).json["kept"]["held"]["messages"] == 5
    return placed.json["id"]


def test_a_lift_erases_what_it_released_in_batches(client, api_key, db, clock, person, batches):
    hold_id = _held_and_erased(client, api_key, db)
    batches.clear()

    lifted = client.delete(f"/v1/holds/{hold_id}", headers=api_key("privacy"))

    assert lifted.status_code == 200, lifted.json
    assert lifted.json["erased_again"]["removed"]["messages"] == 5
    assert lifted.json["erased_again"]["removed"]["calls"] == 1
    assert [b["messages"] for b in batches] == [2, 2, 1]
    assert _requesters_texts(db) == 0


def test_a_lift_killed_between_batches_is_ended_by_lifting_again(
        client, api_key, db, clock, person, batches, monkeypatch):
    hold_id = _held_and_erased(client, api_key, db)
    batches.clear()
    _killed_at_second_batch(batches, monkeypatch)
    with pytest.raises(Killed):
        client.delete(f"/v1/holds/{hold_id}", headers=api_key("privacy"))

    db.expunge_all()
    assert db.get(LegalHold, hold_id).lifted_at is not None  # committed with the first batch
    assert _requesters_texts(db) == 3
    assert _audit(db, "hold.lifted") == []
    monkeypatch.setattr(subjects, "erase_batch", batches.real)
    clock.advance(minutes=5)

    again = client.delete(f"/v1/holds/{hold_id}", headers=api_key("privacy"))

    assert again.status_code == 200, again.json
    assert again.json["erased_again"]["subjects"] == 1
    # The rest (the stopped lift's two are recorded nowhere), and it says so.
    assert again.json["erased_again"]["removed"]["messages"] == 3
    assert again.json["erased_again"]["rest_of_a_stopped_lift"] is True
    assert _requesters_texts(db) == 0
    [event] = _audit(db, "hold.lifted")
    assert event.details == {"erased_again": again.json["erased_again"]}
    # Lifted once, then as any lifted hold: the same answer, nothing more written.
    third = client.delete(f"/v1/holds/{hold_id}", headers=api_key("privacy"))
    assert third.json["erased_again"] == again.json["erased_again"]
    assert len(list(db.scalars(select(AuditEvent).where(AuditEvent.action == "hold.lifted")))) == 1


def test_a_lift_killed_between_batches_is_ended_though_audit_retention_purged_since(
        client, api_key, db, clock, person, batches, monkeypatch):
    """Nothing tells a lift stopped before its end from one whose hold.lifted the purge took
    but what is left to erase: the rest is erased and the lift's event written, once."""
    from commsvc.records import audit

    hold_id = _held_and_erased(client, api_key, db)
    batches.clear()
    _killed_at_second_batch(batches, monkeypatch)
    with pytest.raises(Killed):
        client.delete(f"/v1/holds/{hold_id}", headers=api_key("privacy"))
    monkeypatch.setattr(subjects, "erase_batch", batches.real)
    clock.advance(days=3000)
    while audit.purge_expired_audit(db, clock() - 100 * DAY, clock()):
        db.commit()

    again = client.delete(f"/v1/holds/{hold_id}", headers=api_key("privacy"))

    assert again.status_code == 200, again.json
    assert again.json["erased_again"]["removed"]["messages"] == 3
    assert _requesters_texts(db) == 0
    assert len(_audit(db, "hold.lifted")) == 1


def _fails_at(batches, monkeypatch, n: int) -> None:
    """The n-th batch (1: the first) fails as a database outage does (a 503)."""
    real = batches.real

    def fails(*args, **kwargs):
        if len(batches) == n - 1:
            batches.append("failed")
            raise OperationalError("DELETE", {}, Exception("disk I/O error"))
        batches.append(real(*args, **kwargs))
        return batches[-1]

    monkeypatch.setattr(subjects, "erase_batch", fails)


def test_an_erasure_that_failed_at_its_first_batch_is_counted_by_the_replay_and_finished_by_a_retry(
        client, api_key, db, clock, runner, person, batches, monkeypatch):
    """A 503 at the first batch leaves the person's sessions closed and an unfinished ledger
    entry that removed nothing. A replay (after a restore) erases them, says that their
    erasure is unfinished, and the entry counts what it removed; sending the erasure again
    finishes it, the ledger counting the whole."""
    _fails_at(batches, monkeypatch, 1)
    assert _erase(client, api_key).status_code == 503
    assert [e.result for e in db.scalars(select(Erasure))] == [subjects.UNFINISHED]
    assert _requesters_texts(db) == 6
    monkeypatch.setattr(subjects, "erase_batch", batches.real)
    clock.advance(days=1)

    replay = runner.invoke(args=["erasures", "replay"])

    assert replay.exit_code == 0, replay.output
    assert "1 found again and erased" in replay.output
    assert ("1 of them with an erasure that stopped before its end (unfinished in the ledger,"
            " which now counts what this removed): send their erasure again to finish it"
            ) in replay.output
    assert _requesters_texts(db) == 0
    db.expunge_all()
    [entry] = db.scalars(select(Erasure))
    assert entry.result == {**subjects.UNFINISHED, "removed": {
        "messages": 6, "calls": 1, "outbound_messages": 1, "sessions": 2, "lifted_holds": 0}}

    again = _erase(client, api_key)

    assert again.status_code == 200, again.json
    assert again.json["removed"]["messages"] == 0
    db.expunge_all()
    [entry] = db.scalars(select(Erasure))
    assert "unfinished" not in entry.result
    assert entry.result["removed"]["messages"] == 6 and entry.result["removed"]["calls"] == 1


def test_a_replay_stopped_between_batches_counts_what_they_removed(
        client, api_key, db, clock, runner, person, batches, monkeypatch):
    assert _erase(client, api_key).status_code == 200
    _restore(db, clock, n=5)
    clock.advance(days=1)
    batches.clear()
    _fails_at(batches, monkeypatch, 2)

    stopped = runner.invoke(args=["erasures", "replay"])

    assert stopped.exit_code == 1
    assert "messages                   2 removed" in stopped.output
    assert ("stopped at +1******0101 (its batches done so far are counted above; a new replay"
            " removes the rest of it): those above are erased") in stopped.output
    assert _requesters_texts(db) == 3
    monkeypatch.setattr(subjects, "erase_batch", batches.real)

    again = runner.invoke(args=["erasures", "replay"])

    assert again.exit_code == 0, again.output
    assert "messages                   3 removed" in again.output
    assert _requesters_texts(db) == 0


def test_two_erasures_of_one_person_at_once_count_each_removal_once_in_the_ledger(
        app, db, clock, config, person, batches):
    """Two erasures of the person run at once, each on its own unit of work (a client that
    gave up on a long one sends it again): the second takes the first's unfinished ledger
    entry over (begin_erasure), its batches count there, then the first finishes the entry.
    The second's own entry counted those batches again: the ledger said 12 texts and 2 calls
    of the person's 6 and 1."""
    now = clock()
    units = (db, app.extensions["db"].sessionmaker())

    def begin(unit) -> tuple[int, int]:
        held = subjects.stop_routing(unit, REQUESTER, config=config, now=now, actor="test",
                                     reason="r")
        begun = subjects.begin_erasure(unit, REQUESTER, config=config, now=now, actor="test",
                                       reason="r")
        unit.commit()
        return held, begun

    def end(unit, held: int, begun: int, batches_removed: dict) -> dict:
        result = subjects.erase_subject(unit, REQUESTER, config=config, now=now, actor="test",
                                        reason="r", held_closed=held, begun=begun,
                                        removed_in_batches=batches_removed)
        unit.commit()
        return result["removed"]

    try:
        first, second = begin(units[0]), begin(units[1])
        assert first[1] == second[1]  # one unfinished entry, taken over
        second_batches = subjects.erase_in_batches(units[1], REQUESTER, now=now,
                                                   entry=second[1])
        first_batches = subjects.erase_in_batches(units[0], REQUESTER, now=now,
                                                  entry=first[1])
        answered = [end(units[0], *first, first_batches),
                    end(units[1], *second, second_batches)]
    finally:
        units[1].close()

    assert (_requesters_texts(db), second_batches["messages"], first_batches["messages"]) == (
        0, 6, 0)
    assert [r["messages"] for r in answered] == [0, 6]  # each answers what it removed
    db.expunge_all()
    entries = list(db.scalars(select(Erasure).order_by(Erasure.id)))
    assert not [e for e in entries if "unfinished" in e.result]
    ledger = [e.result["removed"] for e in entries]
    assert ledger[0]["messages"] == 6 and ledger[0]["calls"] == 1, ledger
    for kind, whole in (("messages", 6), ("calls", 1), ("outbound_messages", 1)):
        assert sum(removed.get(kind, 0) for removed in ledger) == whole, ledger
