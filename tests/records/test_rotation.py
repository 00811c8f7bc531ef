"""Encryption at rest: keys newest first, rotation re-encrypts, a lost key reads as unavailable."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from commsvc import crypto
from commsvc.config import dev_secrets
from commsvc.config.loader import load_config
from commsvc.config.settings import ConfigError
from commsvc.records import rotation
from commsvc.records.models import AuditEvent
from commsvc.relay.models import Message
from commsvc.sending.models import OutboundMessage
from tests.conftest import TEST_KEY
from tests.records.test_retention import DAY, REQUESTER, make_message, make_outbound

NEW_KEY = Fernet.generate_key().decode()
LOST_KEY = Fernet.generate_key().decode()


def use_keys(monkeypatch, *keys: str) -> crypto.Keyring:
    keyring = crypto.Keyring(keys)
    monkeypatch.setitem(crypto._state, "keyring", keyring)
    return keyring


def _raw(db, table: str, column: str, key) -> str:
    return db.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": key}).scalar()


def _opens(key: str, token: str) -> bool:
    try:
        Fernet(key).decrypt(token.encode())
        return True
    except InvalidToken:
        return False


def test_rotation_re_encrypts_old_rows_so_only_the_new_key_is_needed(
        app, db, clock, runner, monkeypatch):
    old = [make_message(db, created_at=clock() - DAY, media=["https://m/1.jpg"])
           for _ in range(3)]
    outbox = make_outbound(db, created_at=clock() - DAY)
    db.commit()
    assert _opens(TEST_KEY, _raw(db, "messages", "body", old[0].id))

    use_keys(monkeypatch, NEW_KEY, TEST_KEY)
    db.expunge_all()
    assert db.get(Message, old[0].id).body == "the gate code is 4321"  # old rows still read
    fresh = make_message(db, created_at=clock())
    db.commit()
    assert _opens(NEW_KEY, _raw(db, "messages", "body", fresh.id))

    result = runner.invoke(args=["encryption", "rotate", "--batch-size", "2"])

    assert result.exit_code == 0, result.output
    assert "messages.body" in result.output and "rotated         3" in result.output
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "encryption.rotated"))
    assert event.actor.startswith("cli:")  # a privileged act, audited: counts, never a key
    assert event.details["messages.body"] == {"rotated": 3, "current": 1, "unavailable": 0,
                                              "interrupted": False}
    use_keys(monkeypatch, NEW_KEY)
    db.expunge_all()
    for message in old:
        row = db.get(Message, message.id)
        assert (row.body, row.media_urls) == ("the gate code is 4321", "['https://m/1.jpg']")
        assert _opens(NEW_KEY, _raw(db, "messages", "media_urls", message.id))
    for message in [*old, fresh]:
        assert _opens(NEW_KEY, _raw(db, "messages", "body", message.id))
    assert db.get(OutboundMessage, outbox.id).body == "Your pro is on the way"


def test_rotation_counts_rows_no_configured_key_opens_and_leaves_them(app, db, clock,
                                                                      monkeypatch):
    use_keys(monkeypatch, LOST_KEY)
    lost = make_message(db, created_at=clock() - DAY)
    db.commit()
    token = _raw(db, "messages", "body", lost.id)
    keyring = use_keys(monkeypatch, NEW_KEY, TEST_KEY)

    report = rotation.rotate(app.extensions["db"], keyring=keyring)

    assert report["messages.body"].unavailable == 1 and report["messages.body"].rotated == 0
    assert _raw(db, "messages", "body", lost.id) == token
    db.expunge_all()
    assert db.get(Message, lost.id).body is crypto.UNAVAILABLE


def test_rotation_never_brings_back_a_body_blanked_meanwhile(app, db, clock, monkeypatch,
                                                            connection):
    message = make_message(db, created_at=clock() - DAY)
    db.commit()
    keyring = use_keys(monkeypatch, NEW_KEY, TEST_KEY)
    real_rotate = keyring.rotate

    def rotate_while_retention_blanks(token):
        # Another writer (retention) blanks the row between rotation's read and its write.
        connection.exec_driver_sql(f"UPDATE messages SET body = NULL WHERE id = {message.id}")
        return real_rotate(token)

    monkeypatch.setattr(keyring, "rotate", rotate_while_retention_blanks)
    report = rotation.rotate(app.extensions["db"], keyring=keyring)

    assert _raw(db, "messages", "body", message.id) is None
    assert report["messages.body"].rotated == 0  # the audit counts what the run wrote


@pytest.mark.pg_only
def test_a_row_locked_past_the_timeout_interrupts_its_column_and_the_next_run_resumes(
        committed_app, clock, monkeypatch):
    """An erasure holding a row is no database down: the run says interrupted (never done,
    after which the docs say the old key may go), rotates the other columns, and audits that."""
    monkeypatch.setattr(rotation, "LOCK_TIMEOUT", "200ms")
    database = committed_app.extensions["db"]
    with database.sessionmaker() as db:
        locked, other = (make_message(db, created_at=clock() - DAY) for _ in range(2))
        make_outbound(db, created_at=clock() - DAY)
        db.commit()
    use_keys(monkeypatch, NEW_KEY, TEST_KEY)
    runner = committed_app.test_cli_runner()
    with database.engine.connect() as erasure:
        erasure.execute(text("SELECT id FROM messages WHERE id = :id FOR UPDATE"),
                        {"id": locked.id})
        result = runner.invoke(args=["encryption", "rotate"])
        erasure.rollback()

    assert result.exit_code == 1, result.output
    assert "encryption rotate: interrupted" in result.stdout and "done" not in result.stdout
    # Said as every other CLI error is (click's "Error: ..."), exit status 1.
    assert "Error: messages.body: stopped by a lock timeout" in result.stderr
    assert "keep the old keys" in result.stderr and "not answering" not in result.output
    with database.sessionmaker() as db:
        [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "encryption.rotated"))
        assert event.details["messages.body"] == {
            "rotated": 0, "current": 0, "unavailable": 0, "interrupted": True}
        assert event.details["outbound_messages.body"]["rotated"] == 1
        assert _opens(TEST_KEY, _raw(db, "messages", "body", other.id))  # its batch rolled back

    again = runner.invoke(args=["encryption", "rotate"])

    assert again.exit_code == 0 and "encryption rotate: done" in again.stdout
    with database.sessionmaker() as db:
        for message in (locked, other):
            assert _opens(NEW_KEY, _raw(db, "messages", "body", message.id))


def test_a_body_whose_key_is_gone_reads_as_unavailable_in_export_and_logs(
        app, db, clock, client, api_key, monkeypatch):
    use_keys(monkeypatch, LOST_KEY)
    make_message(db, created_at=clock() - DAY)
    db.commit()
    use_keys(monkeypatch, TEST_KEY)
    headers = {**api_key("privacy"), "X-Access-Reason": "subject access request"}

    export = client.get(f"/v1/subjects/{REQUESTER}/export", headers=headers)
    logs = client.get(f"/v1/logs/messages?phone={REQUESTER.replace('+', '%2B')}",
                      headers=headers)

    assert export.status_code == 200, export.json
    [message] = export.json["messages"]
    assert message["body"] is None and message["body_unavailable"] is True
    assert logs.status_code == 200, logs.json
    assert logs.json["data"][0]["body"] is None
    assert logs.json["data"][0]["body_unavailable"] is True


def test_a_read_under_a_key_no_longer_configured_is_logged_once_a_process_with_no_secret(
        app, db, clock, client, api_key, monkeypatch, caplog):
    """An operator who removed a key too early learns it from the log, not from a customer."""
    use_keys(monkeypatch, LOST_KEY)
    [first, second] = [make_message(db, created_at=clock() - DAY) for _ in range(2)]
    db.commit()
    encrypted_at = Fernet(LOST_KEY).extract_timestamp(
        _raw(db, "messages", "body", first.id).encode())
    use_keys(monkeypatch, NEW_KEY, TEST_KEY)
    headers = {**api_key("privacy"), "X-Access-Reason": "subject access request"}

    for _ in range(2):  # read whole: the export decrypts each body as it writes it
        export = client.get(f"/v1/subjects/{REQUESTER}/export", headers=headers)
        assert export.status_code == 200 and len(export.json["messages"]) == 2

    [warning] = [r for r in caplog.records if r.name == "commsvc.crypto"]
    assert warning.levelname == "WARNING"
    line = warning.getMessage()
    stamp = dt.datetime.fromtimestamp(encrypted_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"(first encrypted at {stamp})" in line
    assert "none of the 2 keys in ENCRYPTION_KEYS" in line
    assert "4321" not in line and REQUESTER[-4:] not in line
    assert NEW_KEY not in line and TEST_KEY not in line


def test_production_refuses_to_start_without_encryption_keys():
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        load_config({"COMMSVC_ENV": "production", "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": "t",
                     "PUBLIC_BASE_URL": "https://commsvc.example.com"})


def test_a_malformed_key_is_refused_at_start():
    with pytest.raises(ConfigError, match="not a Fernet key"):
        load_config({"COMMSVC_ENV": "production", "ENCRYPTION_KEYS": "not-a-key",
                     "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": "t",
                     "PUBLIC_BASE_URL": "https://commsvc.example.com"})


def test_the_generated_secrets_line_says_which_setting_the_environment_gives(
        tmp_path, monkeypatch, capsys):
    """Found by an audit: it said a webhook auth token was generated while TWILIO_AUTH_TOKEN
    was set, and hand-made webhooks signed with the file's token got 403."""
    monkeypatch.setattr(dev_secrets, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(dev_secrets, "DEV_SECRETS_FILE", tmp_path / "dev-secrets.json")

    config = load_config({"COMMSVC_ENV": "development", "TWILIO_AUTH_TOKEN": "audittoken123"})

    told = capsys.readouterr().err
    assert config.twilio_auth_token == "audittoken123"
    assert "generated development secrets (encryption key, HMAC key) in" in told
    assert "TWILIO_AUTH_TOKEN from the environment" in told


def test_development_generates_a_key_into_instance_once_and_says_so(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dev_secrets, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(dev_secrets, "DEV_SECRETS_FILE", tmp_path / "dev-secrets.json")

    first = load_config({"COMMSVC_ENV": "development"})
    told = capsys.readouterr().err
    second = load_config({"COMMSVC_ENV": "development"})

    assert "generated development secrets" in told
    assert capsys.readouterr().err == ""
    assert first.encryption_keys == second.encryption_keys
    stored = json.loads((tmp_path / "dev-secrets.json").read_text())
    assert first.encryption_keys == (stored["encryption_key"],)
    Fernet(first.encryption_keys[0])  # a real key
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_keys_are_taken_newest_first_from_the_environment():
    keys = f"{NEW_KEY}, {TEST_KEY}"
    config = load_config({"COMMSVC_ENV": "development", "ENCRYPTION_KEYS": keys,
                          "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": "t"})
    assert config.encryption_keys == (NEW_KEY, TEST_KEY)
    keyring = crypto.Keyring(config.encryption_keys)
    assert _opens(NEW_KEY, keyring.encrypt("x")) and not _opens(TEST_KEY, keyring.encrypt("x"))


def test_ctrl_c_stops_rotation_after_its_current_batch_and_audits_what_it_did(
        app, db, clock, runner, monkeypatch):
    old = [make_message(db, created_at=clock() - DAY) for _ in range(4)]
    db.commit()
    use_keys(monkeypatch, NEW_KEY, TEST_KEY)
    real_batch = rotation._rotate_batch

    def ctrl_c_in_the_first_batch(*args):
        done = real_batch(*args)
        os.kill(os.getpid(), signal.SIGINT)  # as the operator's Ctrl-C
        return done

    monkeypatch.setattr(rotation, "_rotate_batch", ctrl_c_in_the_first_batch)

    result = runner.invoke(args=["encryption", "rotate", "--batch-size", "2"])

    assert result.exit_code == 1, result.output
    assert "stopped before the end" in result.output
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "encryption.rotated"))
    assert event.details == {"messages.body": {"rotated": 2, "current": 0, "unavailable": 0,
                                               "interrupted": False},
                             "stopped": True}
    assert [_opens(NEW_KEY, _raw(db, "messages", "body", m.id)) for m in old] == [
        True, True, False, False]


def test_rotation_with_one_key_refuses_rather_than_say_done(app, db, clock, runner, monkeypatch):
    """Found walking the docs as an operator: `ENCRYPTION_KEYS="$NEW,$OLD"` typed in a shell that
    had not exported the variable left the command with the one key it had (in development,
    dev-secrets.json's). It printed `done` and `unavailable 0`, the docs' sign that the old key
    may go, having rotated nothing: removing it then left every body unreadable. With one key
    there is nothing to rotate to; the command says so and changes and records nothing."""
    message = make_message(db, created_at=clock() - DAY)
    db.commit()
    token = _raw(db, "messages", "body", message.id)
    use_keys(monkeypatch, TEST_KEY)

    result = runner.invoke(args=["encryption", "rotate"])

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ENCRYPTION_KEYS holds one key")
    assert result.stderr.count("\n") == 1
    assert _raw(db, "messages", "body", message.id) == token
    rotated = select(AuditEvent).where(AuditEvent.action == "encryption.rotated")
    assert db.scalars(rotated).all() == []
