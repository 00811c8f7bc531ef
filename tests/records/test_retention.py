"""Retention with a controlled clock: bodies blanked, metadata kept then deleted, holds kept."""
from __future__ import annotations

import datetime as dt
import itertools
import os
import signal

import pytest
from sqlalchemy import select

from commsvc.records import audit, holds, remote, retention
from commsvc.records.audit import cli_actor
from commsvc.records.models import AuditEvent, RemoteDeletion
from commsvc.relay.models import Call, Message
from commsvc.sending.models import OutboundMessage
from commsvc.sessions.models import Participant, Session

REQUESTER = "+14155550101"
PRO = "+14155550202"
PROXY_A = "+16465550001"
PROXY_B = "+16465550002"
DAY = dt.timedelta(days=1)
_ids = itertools.count(1)


def _sid(prefix: str) -> str:
    return f"{prefix}{next(_ids):032x}"


def make_session(db, *, created_at, booking_id=None, requester=REQUESTER, pro=PRO,
                 status="closed", ended_at=None) -> Session:
    """A session of two participants; it ends (closes or expires) at ended_at (default: a day
    after creation)."""
    n = next(_ids)
    ended_at = ended_at or created_at + DAY
    session = Session(id=f"ses_{n:08d}", booking_id=booking_id or f"bk_{n}", status=status,
                      mode="sms_and_voice", record_calls=False, created_at=created_at,
                      expires_at=ended_at, closed_at=ended_at if status == "closed" else None)
    active = status == "open"
    session.participants = [
        Participant(role="requester", phone=requester, proxy_number=PROXY_A,
                    counterpart_phone=pro, active=active, created_at=created_at),
        Participant(role="pro", phone=pro, proxy_number=PROXY_B, counterpart_phone=requester,
                    active=active, created_at=created_at),
    ]
    db.add(session)
    db.flush()
    return session


def make_message(db, *, created_at, session=None, from_phone=REQUESTER, to_phone=PROXY_A,
                 forward_to=PRO, body="the gate code is 4321", media=None) -> Message:
    message = Message(
        session_id=session.id if session else None,
        booking_id=session.booking_id if session else None, direction="inbound",
        from_phone=from_phone, to_phone=to_phone, body=body, media_count=len(media or []),
        media_urls=None if media is None else str(media), twilio_sid=_sid("SM"),
        outcome="forwarded" if forward_to else "no_session", forward_to=forward_to,
        forward_from=PROXY_B if forward_to else None,
        forward_sid=_sid("SM") if forward_to else None, status="delivered",
        created_at=created_at, updated_at=created_at)
    db.add(message)
    db.flush()
    return message


def make_call(db, *, created_at, session=None, from_phone=REQUESTER, to_phone=PROXY_A,
              forward_to=PRO, recording=True) -> Call:
    call = Call(
        session_id=session.id if session else None,
        booking_id=session.booking_id if session else None, direction="inbound",
        from_phone=from_phone, to_phone=to_phone, twilio_sid=_sid("CA"), dial_sid=_sid("CA"),
        outcome="bridged",
        forward_to=forward_to, forward_from=PROXY_B, status="completed", duration_seconds=61,
        recording_sid=_sid("RE") if recording else None,
        recording_duration=60 if recording else None,
        recording_status="completed" if recording else None,
        created_at=created_at, updated_at=created_at)
    db.add(call)
    db.flush()
    return call


def make_outbound(db, *, created_at, to_phone=REQUESTER, status="delivered",
                  booking_id=None) -> OutboundMessage:
    row = OutboundMessage(
        id=f"msg_{next(_ids):012d}", to_phone=to_phone, from_phone=PROXY_A,
        body="Your pro is on the way", purpose="transactional", booking_id=booking_id,
        status=status, next_attempt_at=created_at, attempts=1, twilio_sid=_sid("SM"),
        created_at=created_at, updated_at=created_at, sent_at=created_at)
    db.add(row)
    db.flush()
    return row


def run(app, clock, **kwargs):
    config = app.extensions["config"]
    return retention.run(app.extensions["db"], retention=config.retention, now=clock(),
                         gateway=kwargs.pop("gateway", None), **kwargs)


def deletions(db) -> set[tuple[str, str, str]]:
    db.expunge_all()
    return {(d.resource, d.sid, d.action) for d in db.scalars(select(RemoteDeletion))}


def test_bodies_past_their_period_are_blanked_and_their_metadata_kept(app, db, clock):
    old = make_message(db, created_at=clock() - 91 * DAY, media=["https://x/1.jpg"])
    recent = make_message(db, created_at=clock() - 89 * DAY)
    db.commit()

    report = run(app, clock)

    db.expunge_all()
    old_row, recent_row = db.get(Message, old.id), db.get(Message, recent.id)
    assert (old_row.body, old_row.media_urls, old_row.body_removed_at) == (None, None, clock())
    assert (old_row.from_phone, old_row.forward_to, old_row.status) == (REQUESTER, PRO,
                                                                        "delivered")
    assert recent_row.body == "the gate code is 4321" and recent_row.body_removed_at is None
    assert report.counts["message_bodies"] == 1
    assert deletions(db) == {("message", old.twilio_sid, "redact"),
                             ("message", old.forward_sid, "redact")}


def test_metadata_past_its_period_is_deleted(app, db, clock):
    gone = [make_message(db, created_at=clock() - 731 * DAY),
            make_call(db, created_at=clock() - 731 * DAY)]
    kept = [make_message(db, created_at=clock() - 700 * DAY),
            make_call(db, created_at=clock() - 700 * DAY, recording=False)]
    db.commit()
    message_id, message_sid = gone[0].id, gone[0].twilio_sid
    call_id, recording_sid = gone[1].id, gone[1].recording_sid

    report = run(app, clock)

    db.expunge_all()
    assert db.get(Message, message_id) is None and db.get(Call, call_id) is None
    assert db.get(Message, kept[0].id).body is None  # past the body period, row kept
    assert db.get(Call, kept[1].id).duration_seconds == 61
    assert report.counts["messages"] == 1 and report.counts["calls"] == 1
    assert ("recording", recording_sid, "delete") in deletions(db)
    assert ("message", message_sid, "delete") in deletions(db)


def test_recording_references_past_their_period_are_removed_and_deleted_at_twilio(
        app, db, clock, twilio):
    old = make_call(db, created_at=clock() - 91 * DAY)
    recent = make_call(db, created_at=clock() - 30 * DAY)
    db.commit()
    old_sid = old.recording_sid

    report = run(app, clock, gateway=twilio)

    db.expunge_all()
    old_row = db.get(Call, old.id)
    assert (old_row.recording_sid, old_row.recording_duration) == (None, None)
    assert old_row.recording_removed_at == clock() and old_row.duration_seconds == 61
    assert db.get(Call, recent.id).recording_sid == recent.recording_sid
    assert twilio.deleted == [("recording", old_sid)]
    assert report.counts["recordings"] == 1 and report.remote == {"simulated": 1}
    pending = db.scalars(select(RemoteDeletion)).one()
    assert pending.done_at == clock()


def test_closed_sessions_past_their_period_go_with_their_participants_but_messages_stay(
        app, db, clock):
    old = make_session(db, created_at=clock() - 800 * DAY)
    message = make_message(db, created_at=clock() - 700 * DAY, session=old)
    recent = make_session(db, created_at=clock() - 100 * DAY)
    still_open = make_session(db, created_at=clock() - 800 * DAY, status="open",
                              ended_at=clock() + DAY)
    db.commit()
    old_id, old_booking = old.id, old.booking_id

    report = run(app, clock)

    db.expunge_all()
    assert db.get(Session, old_id) is None
    assert db.scalars(select(Participant).where(Participant.session_id == old_id)).all() == []
    assert db.get(Session, recent.id) is not None and db.get(Session, still_open.id)
    kept = db.get(Message, message.id)
    assert kept is not None and kept.session_id is None and kept.booking_id == old_booking
    assert report.counts["sessions"] == 1


def test_outbox_bodies_and_rows_follow_the_same_periods_once_sent(app, db, clock):
    old_body = make_outbound(db, created_at=clock() - 91 * DAY)
    unsent = make_outbound(db, created_at=clock() - 91 * DAY, status="scheduled")
    ancient = make_outbound(db, created_at=clock() - 731 * DAY)
    db.commit()
    ancient_id = ancient.id

    report = run(app, clock)

    db.expunge_all()
    assert db.get(OutboundMessage, old_body.id).body is None
    assert db.get(OutboundMessage, unsent.id).body == "Your pro is on the way"
    assert db.get(OutboundMessage, ancient_id) is None
    assert report.counts["outbound_bodies"] == 1 and report.counts["outbound_messages"] == 1


def _old_data(db, clock) -> dict:
    """Old data of one session, one row past each period; the ids by kind."""
    session = make_session(db, created_at=clock() - 800 * DAY, booking_id="bk_held")
    return {
        "session": session.id,
        "message": make_message(db, created_at=clock() - 731 * DAY, session=session).id,
        "body": make_message(db, created_at=clock() - 91 * DAY, session=session).id,
        "call": make_call(db, created_at=clock() - 91 * DAY, session=session).id,
        "outbound": make_outbound(db, created_at=clock() - 731 * DAY, booking_id="bk_held").id,
    }


HOLD_VALUES = {"phone": lambda data: REQUESTER, "session": lambda data: data["session"],
               "booking": lambda data: "bk_held"}


@pytest.mark.parametrize("scope", ["phone", "session", "booking"])
def test_data_under_an_active_hold_survives_retention(app, db, clock, scope):
    data = _old_data(db, clock)
    holds.place_hold(db, scope=scope, value=HOLD_VALUES[scope](data), reason="litigation",
                     actor="test", now=clock())
    db.commit()

    report = run(app, clock)

    db.expunge_all()
    assert db.get(Session, data["session"]) is not None
    assert db.get(Message, data["message"]) is not None
    assert db.get(Message, data["body"]).body == "the gate code is 4321"
    assert db.get(Call, data["call"]).recording_sid is not None
    if scope != "session":  # the outbox belongs to no session
        assert db.get(OutboundMessage, data["outbound"]) is not None
    assert report.counts["messages"] == report.counts["message_bodies"] == 0
    assert deletions(db) == set() or scope == "session"


def test_lifting_a_hold_makes_the_data_eligible_at_the_next_run(app, db, clock, config):
    data = _old_data(db, clock)
    hold = holds.place_hold(db, scope="phone", value=PRO, reason="litigation", actor="test",
                            now=clock())
    db.commit()
    assert run(app, clock).counts["messages"] == 0

    holds.lift_hold(db, hold.id, actor="test", now=clock(), config=config)
    db.commit()
    clock.advance(days=1)
    report = run(app, clock)

    db.expunge_all()
    assert db.get(Message, data["message"]) is None
    assert db.get(Message, data["body"]).body is None
    assert db.get(Session, data["session"]) is None
    assert report.counts["messages"] == 1 and report.counts["sessions"] == 1


def test_dry_run_counts_what_would_go_and_changes_nothing(app, db, clock, runner):
    data = _old_data(db, clock)
    db.commit()
    before_audit = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))

    result = runner.invoke(args=["retention", "run", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "nothing was changed" in result.output
    assert "messages" in result.output
    db.expunge_all()
    assert db.get(Message, data["message"]) is not None
    assert db.get(Message, data["body"]).body == "the gate code is 4321"
    assert db.get(Session, data["session"]) is not None
    assert deletions(db) == set()
    assert db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == \
        before_audit
    report = run(app, clock, dry_run=True)
    assert report.counts["messages"] == 1 and report.counts["message_bodies"] == 1
    assert report.counts["recordings"] == 1 and report.counts["sessions"] == 1
    assert run(app, clock).counts == report.counts  # the real run does what it counted


def test_a_run_prints_and_records_one_audit_event_with_counts_per_kind(app, db, clock, runner):
    make_message(db, created_at=clock() - 91 * DAY)
    db.commit()

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "message_bodies" in result.output and "1" in result.output
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.run")).all()
    assert len(events) == 1
    assert events[0].details["counts"]["message_bodies"] == 1
    assert events[0].actor == cli_actor()


def test_a_chunk_failing_midway_rolls_back_whole_and_earlier_chunks_stay(
        app, db, clock, monkeypatch):
    messages = [make_message(db, created_at=clock() - 100 * DAY) for _ in range(5)]
    db.commit()
    real_enqueue, calls = remote.enqueue_many, []

    def failing_enqueue(db_, **kwargs):
        calls.append(kwargs["sids"])
        real_enqueue(db_, **kwargs)
        if len(calls) == 2:  # the second chunk: bodies blanked, deletions queued, then boom
            raise RuntimeError("injected failure")

    monkeypatch.setattr(remote, "enqueue_many", failing_enqueue)

    with pytest.raises(RuntimeError, match="injected"):
        run(app, clock, chunk_size=2)

    db.expunge_all()
    bodies = [db.get(Message, m.id).body for m in messages]
    assert bodies[:2] == [None, None]
    assert bodies[2:] == ["the gate code is 4321"] * 3
    queued = {sid for _, sid, _ in deletions(db)}
    assert queued == {sid for m in messages[:2] for sid in (m.twilio_sid, m.forward_sid)}
    # The run lock was released: the next run completes the work.
    monkeypatch.setattr(remote, "enqueue_many", real_enqueue)
    assert run(app, clock, chunk_size=2).counts["message_bodies"] == 3


def test_batches_walk_past_held_rows_and_large_gaps_in_ids(app, db, clock, monkeypatch):
    monkeypatch.setattr(retention, "SCAN_WINDOW", 3)
    kept = make_message(db, created_at=clock() - 100 * DAY, from_phone="+14155550303")
    holds.place_hold(db, scope="phone", value="+14155550303", reason="x", actor="t",
                     now=clock())
    old = [make_message(db, created_at=clock() - 100 * DAY) for _ in range(7)]
    db.commit()

    report = run(app, clock, chunk_size=2)

    db.expunge_all()
    assert report.counts["message_bodies"] == 7
    assert all(db.get(Message, m.id).body is None for m in old)
    assert db.get(Message, kept.id).body is not None


def test_rows_sharing_the_newest_old_created_at_are_all_processed(app, db, clock):
    """Found when a full run failed: the walk's upper bound was whichever of the rows with the
    newest created_at past retention the index gave first. On PostgreSQL that is the one with
    the highest row address, here the first, updated last, so the other four stayed."""
    when = clock() - 100 * DAY
    messages = [make_message(db, created_at=when) for _ in range(5)]
    db.commit()
    first = db.get(Message, messages[0].id)
    first.created_at = when - DAY  # a new index entry, then another at `when`, both newest
    db.commit()
    first.created_at = when
    db.commit()

    report = run(app, clock, chunk_size=2)

    db.expunge_all()
    assert report.counts["message_bodies"] == 5
    assert [db.get(Message, m.id).body for m in messages] == [None] * 5


def test_audit_events_past_their_period_are_purged_with_an_anchor_event(app, db, clock):
    for years_ago in (8, 8, 1):
        audit.record(db, actor="test", action="key.created",
                     now=clock() - dt.timedelta(days=365 * years_ago), target={"key_id": "k"})
    db.commit()

    report = run(app, clock, chunk_size=1)

    assert report.counts["audit_events"] == 2
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["key.created", "audit.purged", "audit.purged", "retention.run"]


def test_ctrl_c_stops_a_run_after_its_current_batch_and_the_next_run_does_the_rest(
        app, db, clock, runner, monkeypatch):
    messages = [make_message(db, created_at=clock() - 100 * DAY) for _ in range(6)]
    db.commit()
    real_enqueue, chunks = remote.enqueue_many, []

    def ctrl_c_in_the_second_chunk(db_, **kwargs):
        chunks.append(kwargs["sids"])
        real_enqueue(db_, **kwargs)
        if len(chunks) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as the operator's Ctrl-C

    monkeypatch.setattr(remote, "enqueue_many", ctrl_c_in_the_second_chunk)

    result = runner.invoke(args=["retention", "run", "--batch-size", "2"])

    assert result.exit_code == 1, result.output
    assert "stopped before the end" in result.output
    assert len(chunks) == 2  # the batch in progress was finished, no other was started
    db.expunge_all()
    assert [db.get(Message, m.id).body for m in messages] == [None] * 4 + [
        "the gate code is 4321"] * 2
    actions = db.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("retention.%"))).all()
    assert actions == ["retention.stopped"]  # not a run: the clock does not skip the day's
    monkeypatch.setattr(remote, "enqueue_many", real_enqueue)
    rerun = runner.invoke(args=["retention", "run", "--batch-size", "2"])
    assert rerun.exit_code == 0, rerun.output
    assert run(app, clock, dry_run=True).counts["message_bodies"] == 0


def test_ctrl_c_stops_a_dry_run_after_the_count_in_progress(app, db, clock, runner,
                                                            monkeypatch):
    """Found in review: a dry run's counts (one query over each table) went on to the end
    after Ctrl-C, which the stop handler had swallowed, then said nothing of it, exit 0."""
    make_message(db, created_at=clock() - 100 * DAY)
    db.commit()
    real_count, counted = retention._count, []

    def ctrl_c_in_the_first_count(database, spec, *args):
        counted.append(spec.kind)
        if len(counted) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # as the operator's Ctrl-C
        return real_count(database, spec, *args)

    monkeypatch.setattr(retention, "_count", ctrl_c_in_the_first_count)

    result = runner.invoke(args=["retention", "run", "--dry-run"])

    assert result.exit_code == 1, result.output
    assert "dry run, nothing was changed" in result.output
    assert "stopped before the end" in result.output
    assert counted == ["messages"]  # the count in progress was finished, no other started
    assert db.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("retention.%"))).all() == []
