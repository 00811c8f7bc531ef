"""`commsvc simulate` plays a conversation through the signed webhooks and the Sessions API."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.auth.models import ApiKey
from commsvc.relay import simulate
from commsvc.relay.models import Call, Message
from commsvc.sessions.models import Session
from tests.webhooks import factories as f


def test_simulate_relays_both_ways_refuses_the_stranger_and_cleans_up(runner, db, twilio):
    result = runner.invoke(args=["simulate"])

    assert result.exit_code == 0, result.output
    out = result.output
    assert "pool: added +16465550001, +16465550002" in out
    assert "pro's phone +1******0202 receives from +1646555000" in out
    assert '"Hi, is 9am tomorrow still good?"' in out
    assert "requester's phone +1******0101 receives from +1646555000" in out and "+ 1 photo" in out
    assert "stranger's phone +1******0303 receives from" in out and "conversation has ended" in out
    assert "pro's phone +1******0202 rings, showing +1646555000" in out
    assert "<Dial" in out and 'callerId="+1646555000' in out
    assert "admin key made for this run is revoked" in out

    db.expire_all()
    [session] = db.scalars(select(Session)).all()
    assert session.status == "closed"
    outcomes = [m.outcome for m in db.scalars(select(Message).order_by(Message.id))]
    assert outcomes == ["forwarded", "forwarded", "no_session", "no_session"]
    assert [m.status for m in f.messages(db)][:2] == ["delivered", "delivered"]
    [call] = db.scalars(select(Call)).all()
    assert (call.outcome, call.status, call.duration_seconds) == ("bridged", "completed", 42)
    assert all(key.revoked_at is not None for key in db.scalars(select(ApiKey)))
    assert twilio.sent == []


def test_simulate_runs_again_on_the_same_database(runner):
    assert runner.invoke(args=["simulate"]).exit_code == 0

    again = runner.invoke(args=["simulate"])

    assert again.exit_code == 0, again.output
    assert "pool: simulation numbers present" in again.output
    # The no-session reply goes once a day per sender and number (the run may be given the
    # other pool number): steps 3 and 5 show the reply, or say why there is none.
    answers = [line for line in again.output.splitlines()
               if "conversation has ended" in line or "nobody receives anything" in line]
    assert len(answers) == 2
    assert all("conversation has ended" in line or "earlier run today" in line
               for line in answers)


def test_simulate_refuses_a_production_configuration(config, clock, twilio, database):
    from commsvc.app import create_app

    app = create_app(config.with_overrides(env="production"), clock=clock, twilio=twilio,
                     database=database)

    result = app.test_cli_runner().invoke(args=["simulate"])

    assert result.exit_code != 0
    assert "production" in result.output


def test_simulate_on_a_database_whose_sessions_hold_its_numbers_adds_the_next_one(
        runner, db, clock):
    """Found reusing a database: the Quick tour's session (bk_1001) is made for the same two
    phones as the simulation's, and with one more open session of the requester's both
    simulation numbers were theirs, so `make simulate` stopped at "POST /v1/sessions answered
    503: No proxy number is free" (as after a run killed before it closed its session). The
    run adds the next simulation number and opens its session with it."""
    f.open_session(db, clock(), booking_id="bk_1001", requester=f.REQUESTER,
                   requester_proxy="+16465550001", pro=f.PRO, pro_proxy="+16465550002")
    f.open_session(db, clock(), booking_id="bk_1002", requester=f.REQUESTER,
                   requester_proxy="+16465550002", pro="+14155550404", pro_proxy="+16465550001")

    result = runner.invoke(args=["simulate"])

    assert result.exit_code == 0, result.output
    assert "pool: added +16465550003 (the simulation's phones" in result.output
    assert "requester +1******0101 uses +16465550003" in result.output
    assert "pro's phone +1******0202 receives from" in result.output
    db.expire_all()
    assert [s.booking_id for s in db.scalars(select(Session).where(
        Session.status == "open"))] == ["bk_1001", "bk_1002"]  # others' sessions left as they are


def test_simulate_with_no_free_number_says_so_and_still_revokes_its_key(runner, db):
    """Found by an operator's audit: with the simulation numbers retired, the session's 503
    left its transaction open (every request of the run shared the CLI's database session),
    so the run ended in "database is locked" on SQLite and its admin key stayed active."""
    numbers = [*simulate.POOL, *simulate.SPARE_POOL]
    assert runner.invoke(args=["numbers", "add", *numbers]).exit_code == 0
    for number in numbers:
        assert runner.invoke(args=["numbers", "retire", number]).exit_code == 0

    result = runner.invoke(args=["simulate"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: POST /v1/sessions answered 503: No proxy number is free for one of the"
        " participants; add numbers to the pool."]
    db.expire_all()
    assert all(key.revoked_at is not None for key in db.scalars(select(ApiKey)))
