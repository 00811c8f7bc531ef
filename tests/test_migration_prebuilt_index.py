"""Migration 0013's index built beforehand without a lock, as the README tells operators with
a large messages table: the release step takes it, or builds it again when the concurrent
build left it invalid."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alembic import command

from commsvc import migrate
from commsvc.migrate import ROOT
from tests.test_db_upgrade_cli import HEAD, upgrade
from tests.test_unmigrated_database import empty_url  # noqa: F401  (a fixture)

INDEX = "ix_messages_told_notice"
README_STATEMENT = re.search(r"```sql\n(CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_told_"
                             r"notice\b.*?);\n```", (ROOT / "README.md").read_text(), re.S)[1]


@pytest.fixture()
def at_0012(empty_url, backend):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: CREATE INDEX CONCURRENTLY")
    migrate.upgrade(empty_url, revision="0012")
    engine = sa.create_engine(empty_url, isolation_level="AUTOCOMMIT")
    yield empty_url, engine
    engine.dispose()


def _index(engine) -> tuple[bool | None, str | None]:
    with engine.connect() as connection:
        row = connection.execute(sa.text(
            "SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index"
            f" WHERE indexrelid = to_regclass('{INDEX}')")).first()
    return (row[0], row[1]) if row else (None, None)


def test_the_readme_statement_builds_the_index_the_migration_then_takes_as_it_is(at_0012):
    url, engine = at_0012
    with engine.connect() as connection:
        connection.execute(sa.text(README_STATEMENT))  # outside a transaction, as psql runs it
    prebuilt = _index(engine)

    assert upgrade(url) == f"upgraded the database from 0012 to {HEAD}\n"
    assert _index(engine) == prebuilt

    command.downgrade(migrate.alembic_config(url), "0012")  # for the migration's own build
    assert _index(engine) == (None, None)
    migrate.upgrade(url)
    assert _index(engine) == prebuilt == (True, prebuilt[1])


def test_an_index_left_invalid_by_a_failed_concurrent_build_is_built_again(at_0012):
    url, engine = at_0012
    with engine.connect() as connection:
        connection.execute(sa.text(README_STATEMENT))
        # What a cancelled CREATE INDEX CONCURRENTLY leaves behind: the index, marked invalid.
        connection.execute(sa.text("UPDATE pg_index SET indisvalid = false"
                                   f" WHERE indexrelid = to_regclass('{INDEX}')"))
    assert _index(engine)[0] is False

    assert upgrade(url) == f"upgraded the database from 0012 to {HEAD}\n"
    assert _index(engine)[0] is True
