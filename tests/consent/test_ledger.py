"""The ledger and the state derived from it (service level)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from commsvc.consent import decisions, service
from commsvc.consent.models import ConsentEvent, ConsentState
from commsvc.errors import ValidationFailed
from tests.concurrency import a_lock_wait_begins

PHONE = "+14155550101"


def _revoke(db, now, **kw):
    args = dict(phone=PHONE, channel="sms", purpose="relay", action="revoke", source="api",
                evidence={"form": "settings", "version": "1"}, now=now)
    args.update(kw)
    return service.record_event(db, **args)


def test_relay_and_transactional_are_allowed_until_revoked_and_marketing_needs_a_grant(db, clock):
    for purpose in ("relay", "transactional"):
        assert decisions.check(db, phone=PHONE, channel="sms", purpose=purpose, now=clock()) == \
            decisions.Decision(True, "default_allowed")
    assert decisions.check(db, phone=PHONE, channel="sms", purpose="marketing", now=clock()) == \
        decisions.Decision(False, "no_grant")
    assert decisions.check(db, phone=PHONE, channel="sms", purpose="marketing", now=clock(),
                         marketing_requires_grant=False).allowed


def test_a_revocation_is_an_event_and_the_state_follows_it(db, clock):
    event = _revoke(db, clock())
    assert (event.channel, event.purpose, event.action) == ("sms", "relay", "revoke")
    assert decisions.check(db, phone=PHONE, channel="sms", purpose="relay", now=clock()) == \
        decisions.Decision(False, "revoked")
    clock.advance(hours=1)
    service.record_event(db, phone=PHONE, channel="sms", purpose="relay", action="grant",
                         source="sms_keyword", evidence={}, now=clock())
    assert decisions.check(db, phone=PHONE, channel="sms", purpose="relay", now=clock()) == \
        decisions.Decision(True, "granted")
    assert db.scalar(select(func.count()).select_from(ConsentEvent)) == 2


def test_one_event_for_all_sets_the_state_of_every_channel_and_purpose(db, clock):
    event = _revoke(db, clock(), channel="all", purpose="all")
    assert (event.channel, event.purpose) == ("all", "all")
    assert db.scalar(select(func.count()).select_from(ConsentEvent)) == 1
    state = decisions.current_state(db, PHONE)
    assert len(state) == 6
    assert all(not row["allowed"] and row["reason"] == "revoked" for row in state)
    assert {(row["basis"], row["event_id"]) for row in state} == {("event", event.id)}


def test_an_event_for_one_channel_and_all_purposes_leaves_the_other_channel(db, clock):
    _revoke(db, clock(), channel="voice", purpose="all")
    state = {(r["channel"], r["purpose"]): r for r in decisions.current_state(db, PHONE)}
    assert all(not state[("voice", p)]["allowed"] for p in ("relay", "transactional",
                                                             "marketing"))
    assert state[("sms", "relay")]["basis"] == "default"


def test_a_repeated_revocation_keeps_the_since_of_the_first(db, clock):
    first = clock()
    _revoke(db, first)
    clock.advance(days=2)
    second = _revoke(db, clock())
    state = db.scalars(select(ConsentState)).one()
    db.refresh(state)
    assert state.since == first
    assert state.event_id == second.id


def test_current_state_shows_defaults_without_since(db, clock):
    state = {(r["channel"], r["purpose"]): r for r in decisions.current_state(db, PHONE)}
    assert state[("voice", "relay")] == {
        "channel": "voice", "purpose": "relay", "allowed": True, "reason": "default_allowed",
        "since": None, "basis": "default", "event_id": None,
    }
    assert state[("sms", "marketing")]["allowed"] is False


@pytest.mark.parametrize("field,value", [
    ("channel", "email"), ("purpose", "sales"), ("action", "maybe"), ("source", ""),
    ("source", "x" * 40), ("evidence", ["not", "an", "object"]),
    ("evidence", {"blob": "x" * 9000}),
])
def test_bad_input_is_refused_and_nothing_is_recorded(db, clock, field, value):
    with pytest.raises(ValidationFailed) as caught:
        _revoke(db, clock(), **{field: value})
    assert field in caught.value.errors
    assert db.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_history_is_oldest_first_and_cursor_paged(db, clock):
    for _ in range(5):
        _revoke(db, clock())
        clock.advance(minutes=1)
    _revoke(db, clock(), phone="+14155550202")
    page = decisions.history(db, PHONE, limit=2, hmac_key="k")
    seen = [e.id for e in page.rows]
    while page.next_cursor:
        page = decisions.history(db, PHONE, cursor=page.next_cursor, limit=2, hmac_key="k")
        seen += [e.id for e in page.rows]
    assert len(seen) == 5
    assert seen == sorted(seen)


def test_a_phones_history_runs_forward_in_time_as_in_order_when_requests_race(db, clock):
    """Found by an audit: a grant and a revocation POSTed together for one phone (8 at a time,
    PostgreSQL and SQLite alike); the revocation's request began first (its time) but was
    recorded second (its id). The history, oldest first, then went back in time, and the
    event in force (the last) was dated before the grant it overruled: read by time, the
    person looked granted. A phone's events now take one order, of ids and times alike."""
    began = clock()
    grant = service.record_event(db, phone=PHONE, channel="sms", purpose="relay",
                                 action="grant", source="api", evidence={"form": "f"},
                                 now=began + dt.timedelta(milliseconds=40))
    db.commit()
    revoke = _revoke(db, began)  # began first, recorded second
    db.commit()

    history = decisions.history(db, PHONE, hmac_key="k").rows
    assert [e.id for e in history] == [grant.id, revoke.id]
    assert history[1].created_at >= history[0].created_at
    state = db.scalars(select(ConsentState)).one()
    db.refresh(state)
    assert (state.allowed, state.event_id) == (False, revoke.id)
    assert state.since == history[1].created_at >= grant.created_at


@pytest.mark.parametrize("cursor", ["abc", "17", ""])
def test_history_refuses_a_cursor_it_did_not_give(db, cursor):
    with pytest.raises(ValidationFailed) as caught:
        decisions.history(db, PHONE, cursor=cursor, hmac_key="k")
    assert "cursor" in caught.value.errors


@pytest.mark.pg_only
@pytest.mark.parametrize("statement", [
    "UPDATE consent_events SET action = 'grant'",
    "DELETE FROM consent_events",
    "TRUNCATE consent_events",
])
def test_the_database_refuses_to_change_or_delete_ledger_events(db, connection, clock, statement):
    _revoke(db, clock())
    db.flush()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with connection.begin_nested():
            connection.execute(sa.text(statement))
    assert connection.scalar(sa.text("SELECT action FROM consent_events")) == "revoke"


@pytest.mark.pg_only
def test_the_test_cleanup_may_truncate_the_ledger_when_it_says_so(db, connection, clock):
    _revoke(db, clock())
    db.flush()
    with connection.begin_nested():
        connection.execute(sa.text("SET LOCAL commsvc.allow_truncate = 'on'"))
        connection.execute(sa.text("TRUNCATE consent_events"))
        assert connection.scalar(sa.text("SELECT count(*) FROM consent_events")) == 0


@pytest.mark.pg_only
def test_concurrent_first_events_for_a_phone_both_land_and_the_state_follows_the_later(
        committed_database, clock):
    import threading

    first_written = threading.Event()
    errors: list[BaseException] = []
    overlapped: list[bool] = []

    def write(action: str, wait: threading.Event | None, signal: threading.Event | None):
        try:
            with committed_database.sessionmaker() as session:
                if wait is not None:
                    wait.wait(5)
                service.record_event(session, phone=PHONE, channel="sms", purpose="relay",
                                     action=action, source="api", evidence={}, now=clock())
                if signal is not None:
                    signal.set()  # hold the uncommitted state row until the other waits for it
                    overlapped.append(a_lock_wait_begins(committed_database.engine))
                session.commit()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    a = threading.Thread(target=write, args=("revoke", None, first_written))
    b = threading.Thread(target=write, args=("grant", first_written, None))
    a.start()
    b.start()
    a.join(10)
    b.join(10)
    assert errors == [] and overlapped == [True]  # the grant waited for the revoke's row
    with committed_database.sessionmaker() as session:
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert [e.action for e in events] == ["revoke", "grant"]
        state = session.scalars(select(ConsentState)).one()
        assert (state.allowed, state.event_id) == (True, events[-1].id)
