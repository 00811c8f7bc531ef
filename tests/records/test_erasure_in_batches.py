"""On SQLite an erasure deletes the person's texts and calls in committed batches (other
writers get the lock between them): the same answer as one transaction, holds read again by
each batch, and an erasure stopped between two batches completed by erasing again."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from commsvc.records import holds, subject_views, subjects
from commsvc.records.models import Erasure, RemoteDeletion
from commsvc.relay.models import Call, Message
from tests.records import test_retention as rows
from tests.records.test_retention import DAY, REQUESTER
from tests.records.test_subjects import REASON, _audit


@pytest.fixture
def batches(backend, monkeypatch):
    """Batches of 2 with no pause; the list of what each batch removed, as it ends."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL erases in one transaction (it locks rows, not the database)")
    monkeypatch.setattr(subject_views, "ERASE_BATCH", 2)
    monkeypatch.setattr(subject_views, "BATCH_PAUSE_S", 0)
    done = []
    real = subjects.erase_batch

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
    assert db.scalars(select(Erasure)).all() == [] and _audit(db, "subject.erased") == []

    monkeypatch.setattr(subjects, "erase_batch", real)
    again = _erase(client, api_key)

    assert again.status_code == 200, again.json
    assert again.json["removed"] == {"messages": 4, "calls": 0, "outbound_messages": 1,
                                     "sessions": 2, "lifted_holds": 0}
    assert person <= _queued(db)
    assert db.scalar(select(func.count()).select_from(Message)) == 0
    assert len(db.scalars(select(Erasure)).all()) == 1 and len(_audit(db, "subject.erased")) == 1
    assert "erased before (1 earlier erasure)" in _erase(client, api_key).json["reasons"][-1]
