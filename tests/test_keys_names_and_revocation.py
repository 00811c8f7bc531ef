"""API keys: a name that would break the `keys list` table is refused at creation; revoking a
revoked key again answers as before and audits nothing more."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from commsvc.auth import service
from commsvc.auth.models import ApiKey
from commsvc.records.models import AuditEvent


@pytest.mark.parametrize("name", [
    "ops\nadmin", "ops\r", "tab\there", "bell\x07", "red\x1b[31m", "nul\x00x",
    "\u202egnikoob", "line\u2028break", "del\x7f", "c1\x85next"])
def test_a_key_name_with_a_control_character_is_refused_with_exit_2(runner, db, name):
    result = runner.invoke(args=["keys", "create", "--name", name, "--role", "booking"])
    assert result.exit_code == 2
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error == ("Error: name: must not contain control characters (a newline, a tab, an"
                     " escape, ...)")
    assert result.stdout == ""
    assert db.scalars(select(ApiKey)).all() == []
    assert db.scalars(select(AuditEvent)).all() == []


def test_a_name_with_letters_of_any_language_and_spaces_is_kept(runner, db):
    result = runner.invoke(args=["keys", "create", "--name", "équipe ops – Zürich",
                                 "--role", "ops"])
    assert result.exit_code == 0, result.output
    assert db.scalars(select(ApiKey.name)).one() == "équipe ops – Zürich"
    listed = runner.invoke(args=["keys", "list"])
    assert len(listed.output.splitlines()) == 2  # the header and one row


def _revocations(db):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == "key.revoked")).all()


def test_revoking_a_revoked_key_again_answers_the_same_and_audits_nothing(
        runner, client, db, api_key, clock):
    headers = api_key("admin")
    key_id = db.scalars(select(ApiKey.id)).one()
    first = runner.invoke(args=["keys", "revoke", key_id])
    revoked_at = db.get(ApiKey, key_id).revoked_at
    clock.advance(minutes=5)
    db.expire_all()

    again = runner.invoke(args=["keys", "revoke", key_id])

    assert (first.exit_code, again.exit_code) == (0, 0)
    assert first.output == again.output == f"revoked {key_id}\n"
    assert [e.target for e in _revocations(db)] == [{"key_id": key_id}]
    assert db.get(ApiKey, key_id).revoked_at == revoked_at
    assert client.get("/v1/numbers", headers=headers).status_code == 401


def test_revoke_key_says_whether_this_call_revoked_it(db, api_key, clock):
    api_key("ops")
    key_id = db.scalars(select(ApiKey.id)).one()
    key, revoked = service.revoke_key(db, key_id, now=clock())
    assert (key.id, revoked, key.revoked_at is not None) == (key_id, True, True)
    assert service.revoke_key(db, key_id, now=clock())[1] is False
