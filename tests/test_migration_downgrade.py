"""Downgrades, the release-rollback path: refused with a clear reason where the older schema
cannot hold the data, and nothing changed."""
from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from commsvc.consent import service as consent
from commsvc.db.engine import make_engine
from commsvc.migrate import alembic_config


def _revision(engine) -> str:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT version_num FROM alembic_version"))


def _revision_of(connection) -> str:
    return connection.scalar(text("SELECT version_num FROM alembic_version"))


def test_a_downgrade_below_0006_is_refused_once_an_event_covers_all(tmp_path):
    url = f"sqlite:///{tmp_path / 'rollback.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    head = _revision(engine)
    with Session(engine) as db:  # a carrier opt-out (21610) revokes every purpose at once
        consent.record_carrier_opt_out(db, phone="+14155550101", evidence={"outbound_id": "m"},
                                       now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        db.commit()
    with pytest.raises(RuntimeError, match="1 consent events were recorded for channel or"
                                           " purpose 'all'"):
        command.downgrade(alembic_config(url), "0005")
    assert _revision(engine) == head
    engine.dispose()


def test_a_downgrade_to_0005_and_back_works_without_such_events(tmp_path):
    url = f"sqlite:///{tmp_path / 'rollback.db'}"
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "0005")
    engine = make_engine(url)
    assert _revision(engine) == "0005"
    command.upgrade(alembic_config(url), "head")
    assert _revision(engine) != "0005"
    engine.dispose()


def _indexes(connection, table: str) -> set[str]:
    return {index["name"] for index in inspect(connection).get_indexes(table)}


def _columns(connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


# A migration that adds one thing: the revision before it, the table, and what it adds.
ADDED = [
    pytest.param("0012", _indexes, "messages", "ix_messages_told_notice", id="0013-index"),
    pytest.param("0014", _columns, "outbound_messages", "sid_from_lookup", id="0015-column"),
]


@pytest.mark.parametrize(("before", "names", "table", "added"), ADDED)
def test_a_downgrade_drops_what_the_next_migration_added_and_an_upgrade_makes_it_again(
        connection, before, names, table, added):
    assert added in names(connection, table)
    command.downgrade(alembic_config(connection=connection), before)
    assert _revision_of(connection) == before
    assert added not in names(connection, table)
    command.upgrade(alembic_config(connection=connection), "head")
    assert added in names(connection, table)
