"""A database that answers but holds no schema (`commsvc db upgrade` never ran): the API says
503 in problem+json, the CLI says what to run in one line; neither shows a traceback."""
from __future__ import annotations

import dataclasses
import logging

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner

from commsvc import migrate
from commsvc.app import create_app
from commsvc.auth import service as key_service
from commsvc.cli import main
from tests.conftest import AUTH_TOKEN, BASE_URL, TEST_KEY
from tests.twilio_signing import TwilioPoster

MISSING = ("Error: the database has no commsvc schema, or not this code's: run `commsvc db upgrade`"
           "\n")


@pytest.fixture
def empty_url(engine, tmp_path):
    """A database URL the service can reach, with no commsvc tables in it."""
    if engine.dialect.name == "sqlite":
        (tmp_path / "empty.db").touch()  # a file with no tables (none at all: not set up)
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS unmigrated CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA unmigrated"))
    url = engine.url.set(query={"options": "-csearch_path=unmigrated"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA unmigrated CASCADE"))


def settings(database_url: str) -> dict:
    """Complete production settings (development would generate secrets and say so)."""
    return {"DATABASE_URL": database_url, "COMMSVC_ENV": "production",
            "ENCRYPTION_KEYS": TEST_KEY, "HMAC_KEY": "h" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            # Else start-up warns that it simulates sends and shows the placeholder brand.
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "BRAND_NAME": "Fixit",
            "SUPPORT_CONTACT": "help@fixit.example",
            "PUBLIC_BASE_URL": BASE_URL}


def _inbound_text(client, body: str):
    return TwilioPoster(client, AUTH_TOKEN, BASE_URL)("/webhooks/twilio/sms", {
        "MessageSid": "SM" + "0" * 32, "AccountSid": "AC" + "0" * 32,
        "From": "+14155550101", "To": "+14155550202", "Body": body, "NumMedia": "0"})


@pytest.mark.parametrize("args", [["keys", "list"], ["logs", "messages"],
                                  ["numbers", "add", "+14155550100"]])
def test_cli_on_a_database_without_schema_says_what_to_run(empty_url, args):
    result = CliRunner().invoke(main, args, env=settings(empty_url), prog_name="commsvc")
    assert result.stderr == MISSING
    assert result.exit_code == 1


@pytest.mark.parametrize("args", [["keys", "list"], ["numbers", "list"]])
def test_cli_on_a_database_that_does_not_answer_says_so_in_one_line(args):
    # Nothing listens on port 1. (A SQLite file in a directory that does not exist is now a
    # setting to fix, named as such: tests/test_db.py.)
    env = settings("postgresql://postgres@127.0.0.1:1/commsvc")
    result = CliRunner().invoke(main, args, env=env, prog_name="commsvc")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the database is not answering: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""  # no table header before the error


def _readyz(app, caplog):
    """The app's answer to GET /readyz, its log lines in caplog; the app's engine disposed."""
    commsvc_log = logging.getLogger("commsvc")
    commsvc_log.addHandler(caplog.handler)  # the service's logger does not propagate
    try:
        return app.test_client().get("/readyz")
    finally:
        commsvc_log.removeHandler(caplog.handler)
        app.extensions["db"].dispose()


def test_a_database_the_server_does_not_have_is_named_as_missing_not_as_down(
        engine, config, clock, twilio, caplog):
    """Found in review: a DATABASE_URL naming a database the PostgreSQL server lacks (a typo,
    no createdb yet) made the CLI and /readyz's log line say "the database is not answering",
    sending the operator to a server that answered; the URL's password stays out of it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite file has its own message")
    url = engine.url.set(database="commsvc_no_such_db", password="s3cret-pw")
    url = url.render_as_string(hide_password=False)
    said = ('Error: the database server answered, but it has no database "commsvc_no_such_db":'
            " create it (createdb), or give DATABASE_URL the name of one that exists\n")

    result = CliRunner().invoke(main, ["keys", "list"], env=settings(url), prog_name="commsvc")

    assert (result.exit_code, result.stderr, result.stdout) == (1, said, "")
    app = create_app(dataclasses.replace(config, database_url=url), clock=clock, twilio=twilio)
    response = _readyz(app, caplog)
    assert (response.status_code, response.get_json()["database"]) == (503, "down")
    assert said[len("Error: "):-1] in caplog.text and "s3cret-pw" not in caplog.text


def test_api_and_webhooks_on_a_database_without_schema_answer_503(config, clock, twilio,
                                                                    empty_url):
    app = create_app(dataclasses.replace(config, database_url=empty_url), clock=clock,
                     twilio=twilio)
    client = app.test_client()
    try:
        api = client.get("/v1/consent/check?phone=%2B14155550101&channel=sms&purpose=relay",
                         headers={"Authorization": "Bearer csk_" + "k" * 43})
        webhook = _inbound_text(client, "hello")
    finally:
        app.extensions["db"].dispose()
    for response in (api, webhook):
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["title"] == "Database unavailable"


def test_readyz_is_not_ready_until_the_schema_is_at_this_codes_migrations(config, clock, twilio,
                                                                          empty_url, caplog):
    """Found by an operator's audit: /readyz ran SELECT 1, so a process on a database never
    migrated was "ready" while it answered every request with 503. Its log line, the one an
    operator sees every few seconds from the load balancer's probe, says what to run (it said
    only "the database has no commsvc schema", where every other process names the step)."""
    head, older = migrate.revisions()
    app = create_app(dataclasses.replace(config, database_url=empty_url), clock=clock,
                     twilio=twilio)
    client = app.test_client()
    commsvc_log = logging.getLogger("commsvc")
    commsvc_log.addHandler(caplog.handler)  # the service's logger does not propagate
    said = []
    try:
        states = [client.get("/readyz")]
        said.append(caplog.text)
        caplog.clear()
        migrate.upgrade(empty_url, revision=older[0])  # the release step not run for this code
        states.append(client.get("/readyz"))
        said.append(caplog.text)
        migrate.upgrade(empty_url)
        states.append(client.get("/readyz"))
    finally:
        commsvc_log.removeHandler(caplog.handler)
        app.extensions["db"].dispose()
    assert [(r.status_code, r.get_json()["database"]) for r in states] == [
        (503, "not migrated"), (503, "not migrated"), (200, "up")]
    assert ["run `commsvc db upgrade`" in text for text in said] == [True, True]


@pytest.mark.parametrize("emptied", ["downgraded to the base", "its row deleted"])
def test_readyz_says_what_to_do_when_alembic_version_names_no_revision(
        config, clock, twilio, empty_url, caplog, emptied):
    """Found by a review: with an alembic_version table and no row in it (a downgrade to the
    base drops every table and leaves it empty; a row deleted by hand leaves every table), the
    log line said "the schema is at None". `commsvc db upgrade` is the step for the first; for
    the second it would create the tables again and fail, so the line says to stamp first."""
    migrate.upgrade(empty_url)
    if emptied == "downgraded to the base":
        command.downgrade(migrate.alembic_config(empty_url), "base")
    else:
        engine = sa.create_engine(empty_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM alembic_version"))
        engine.dispose()
    response = _readyz(create_app(dataclasses.replace(config, database_url=empty_url),
                                  clock=clock, twilio=twilio), caplog)
    assert (response.status_code, response.get_json()["database"]) == (503, "not migrated")
    assert "None" not in caplog.text
    if emptied == "downgraded to the base":
        assert ("the database has no commsvc schema (its alembic_version table is empty: a"
                " downgrade to the base?), this code needs") in caplog.text
        assert "run `commsvc db upgrade`" in caplog.text
    else:
        assert ("the database holds commsvc's tables but its alembic_version table names no"
                " revision (its row deleted?)") in caplog.text
        assert "`alembic stamp REVISION`" in caplog.text


def test_api_and_webhooks_on_a_database_not_migrated_to_this_code_answer_503(config, clock,
                                                                             twilio, empty_url):
    """Found by an upgrade audit: the web process of a new release on a database still at
    0013 (the release step not run yet) answered a STOP text and POST /v1/consent with 500 and
    a traceback (column consent_events.requested_by does not exist), and on SQLite with a 503
    saying the database was not answering, though a database with no schema at all is a 503
    saying it is not ready (its log line: run `commsvc db upgrade`)."""
    migrate.upgrade(empty_url, revision="0013")
    app = create_app(dataclasses.replace(config, database_url=empty_url), clock=clock,
                     twilio=twilio)
    client = app.test_client()
    try:
        with app.app_context():
            with app.extensions["db"].sessionmaker() as session:
                _, key = key_service.create_key(session, name="booking", role="booking",
                                                now=clock())
                session.commit()
        grant = client.post("/v1/consent/+14155550101",
                            headers={"Authorization": f"Bearer {key}"},
                            json={"channel": "sms", "purpose": "marketing", "action": "grant",
                                  "source": "booking_app", "evidence": {"form": "signup"}})
        stop = _inbound_text(client, "STOP")
    finally:
        app.extensions["db"].dispose()
    for response in (grant, stop):
        assert response.status_code == 503
        # Not "The database is not answering; try again shortly." (SQLite's, before): it is.
        assert response.get_json()["detail"] == "The database is not ready for this service."


def test_cli_on_a_database_behind_this_codes_migrations_says_what_to_run(empty_url):
    """Code deployed before its release step ran: `logs messages` ended in a traceback on
    PostgreSQL (UndefinedColumn) and said 'the database is not answering' on SQLite."""
    migrate.upgrade(empty_url, revision="0009")  # before messages.reply_sid (0012)

    result = CliRunner().invoke(main, ["logs", "messages"], env=settings(empty_url),
                                prog_name="commsvc")

    assert result.stderr == ("Error: the database has no commsvc schema, or not this code's:"
                             " run `commsvc db upgrade`\n")
    assert result.exit_code == 1
