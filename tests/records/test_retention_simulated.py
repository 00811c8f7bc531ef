"""Without TWILIO_ACCOUNT_SID nothing goes to Twilio: retention's output and its audit event say
the deletions were simulated, never that Twilio's copies are gone."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.records import remote
from commsvc.records.cli import ClockJobs
from commsvc.records.models import AuditEvent
from tests.records.test_retention import DAY, make_message


def test_retention_run_without_twilio_prints_and_audits_its_deletions_as_simulated(
        app, db, clock, runner, twilio):
    assert twilio.simulated
    make_message(db, created_at=clock() - 91 * DAY)  # two SIDs: received and forwarded
    db.commit()

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    [line] = [x for x in result.output.splitlines() if "twilio deletions" in x]
    assert line == "  twilio deletions   simulated 2"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.run")).one()
    assert event.details["remote_deletions"] == {"simulated": 2}


def test_clock_tick_without_twilio_reports_its_deletions_as_simulated(app, db, clock, twilio):
    remote.enqueue_message(db, ["SM" + "1" * 32, "SM" + "2" * 32], action=remote.DELETE,
                           cause="test", now=clock())
    db.commit()

    lines = ClockJobs(app).tick()

    assert "twilio deletions: simulated 2" in lines
    assert not any("done" in line for line in lines)


def test_the_clocks_daily_retention_run_prints_the_deletions_it_asked_for(
        app, db, clock, twilio):
    """Found by an audit: the clock printed only the counts of its retention run; the Twilio
    deletions that run made were in its audit event and nowhere in the clock's output."""
    make_message(db, created_at=clock() - 91 * DAY)  # two SIDs: received and forwarded
    db.commit()

    lines = ClockJobs(app).tick()

    assert any(line.startswith("retention: ") for line in lines), lines
    assert "twilio deletions: simulated 2" in lines
