"""Alembic environment: runs on a connection handed in (app, tests) or on DATABASE_URL."""
from __future__ import annotations

from alembic import context

from commsvc.models import metadata

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from commsvc.config.loader import load_config
    from commsvc.db.engine import make_engine

    url = config.attributes.get("url") or load_config().database_url
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


run_migrations_online()
