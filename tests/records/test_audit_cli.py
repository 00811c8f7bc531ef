"""`commsvc audit verify`: OK with the head hash and exit 0; the first break and exit 1."""
from __future__ import annotations

import datetime as dt
import os
import pwd

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from commsvc.records import audit, audit_verify
from commsvc.records.models import AuditEvent


def _events(db, clock, n=3):
    events = [audit.record(db, actor="cli", action="key.created", now=clock(),
                           target={"key_id": f"key_{i}"}) for i in range(n)]
    db.commit()
    return events


def test_verify_prints_ok_and_the_head_and_exits_0(runner, db, clock):
    events = _events(db, clock)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["audit chain OK: 3 events verified",
                                          f"head: {events[-1].hash}"]


def test_verify_names_the_edited_event_and_exits_1(runner, db, clock, backend):
    events = _events(db, clock)
    if backend == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    db.execute(sa.update(AuditEvent).where(AuditEvent.id == events[1].id)
               .values(target={"key_id": "key_other"}))
    db.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"audit chain BROKEN at event {events[1].id}: edited")
    assert lines[1] == "1 events verified before the break"
    assert lines[-1] == f"head: {events[-1].hash}"


def test_verify_with_a_kept_head_detects_a_truncated_tail(runner, db, clock, backend):
    events = _events(db, clock)
    if backend == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id == events[-1].id))
    db.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify", "--expect-head", events[-1].hash])
    assert result.exit_code == 1
    assert "BROKEN at the tail: truncated" in result.output


def test_verify_on_an_empty_log(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "head: none" in result.output


def test_a_cli_act_names_the_account_that_ran_it_not_what_user_says(runner, db,
                                                                    monkeypatch):
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    monkeypatch.setattr("pwd.getpwuid", lambda uid: type("Entry", (), {"pw_name": "alice"}))

    result = runner.invoke(args=["keys", "create", "--name", "ops-tool", "--role", "ops"])

    assert result.exit_code == 0, result.output
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "key.created")).all()
    assert event.actor == "cli:alice"


@pytest.mark.parametrize("head", ["nothex", "5be1…e90c", "5be1e90c"])
def test_a_mistyped_or_shortened_expected_head_is_a_usage_error_not_tampering(runner, head):
    """Found by an audit: it printed "audit chain BROKEN" (exit 1), a false tamper alarm."""
    result = runner.invoke(args=["audit", "verify", "--expect-head", head])

    assert result.exit_code == 2
    assert "64 hexadecimal digits" in result.output
    assert "BROKEN" not in result.output



def test_verify_reads_one_snapshot_so_a_purge_committed_during_the_walk_is_no_break(
        committed_app, clock, monkeypatch):
    """Found by an audit: on PostgreSQL each chunk of the walk read the latest commit, so the
    daily retention purge (03:00 UTC) deleting events the walk had not reached yet read as
    "audit chain BROKEN ... deleted" (exit 1): a false tamper alarm."""
    database = committed_app.extensions["db"]
    with database.sessionmaker() as db:
        _events(db, clock, n=6)
    monkeypatch.setattr(audit_verify, "CHUNK", 2)
    check, purged = audit_verify._check, []

    def purge_once_the_walk_has_begun(db, previous, event, anchors):
        if previous is not None and not purged:  # the first chunk is read
            with database.sessionmaker() as other:
                purged.append(audit.purge_expired_audit(
                    other, clock() + dt.timedelta(days=1), clock(), batch_size=4))
                other.commit()
        return check(db, previous, event, anchors)

    monkeypatch.setattr(audit_verify, "_check", purge_once_the_walk_has_begun)
    result = committed_app.test_cli_runner().invoke(args=["audit", "verify"])

    assert purged == [4]
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "audit chain OK: 6 events verified"
    monkeypatch.undo()  # the chain as it is now verifies too, from the purge's anchor
    assert committed_app.test_cli_runner().invoke(args=["audit", "verify"]).output.startswith(
        "audit chain OK: 3 events verified")


def test_the_cli_actor_under_sudo_is_the_user_who_ran_sudo(monkeypatch):
    """Found in review: run with sudo, every CLI act was audited as cli:root, which says
    nothing of whose shell it was; sudo names that user in SUDO_UID."""
    try:
        invoker = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' account to stand for the user who ran sudo")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("SUDO_UID", str(invoker.pw_uid))
    monkeypatch.setenv("SUDO_USER", "someone-else")  # anyone may set it: the uid decides
    assert audit.cli_actor() == f"cli:{invoker.pw_name} (sudo)"
    monkeypatch.setenv("SUDO_UID", "0")  # root's own sudo: root
    assert audit.cli_actor() == f"cli:{pwd.getpwuid(0).pw_name}"
    monkeypatch.setenv("SUDO_UID", "\u00b2")  # a digit to str.isdigit, not to int: no sudo
    assert audit.cli_actor() == f"cli:{pwd.getpwuid(0).pw_name}"
    monkeypatch.delenv("SUDO_UID")
    assert audit.cli_actor() == f"cli:{pwd.getpwuid(0).pw_name}"
    monkeypatch.setattr(os, "geteuid", lambda: invoker.pw_uid)  # no sudo: SUDO_UID left over
    monkeypatch.setenv("SUDO_UID", "0")
    assert audit.cli_actor() == f"cli:{invoker.pw_name}"
