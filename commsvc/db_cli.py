"""`commsvc db upgrade`: the Procfile's release step."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from commsvc import migrate
from commsvc.db.failures import lock_timed_out


@click.group("db")
def db_group():
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def upgrade_command():
    """Apply every pending migration."""
    engine = current_app.extensions["db"].engine
    try:
        with migrate.migration_transaction(engine, _say_waiting) as connection:
            before, after = migrate.upgrade_connection(connection, _say_waiting)
    except migrate.NotMigratable as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        if not lock_timed_out(exc):
            raise
        raise click.ClickException(
            f"a migration waited {migrate.MIGRATION_LOCK_TIMEOUT} for a table that another"
            f" transaction holds (a backup such as pg_dump, a long query, a transaction left"
            f" open) and gave up rather than hold back the service's requests to it; nothing"
            f" was changed: run `commsvc db upgrade` again once that transaction ends") from None
    if before == after:
        click.echo(f"database is up to date (at {after})")
    else:
        click.echo(f"upgraded the database from {before or 'nothing'} to {after}")


def _say_waiting(waited_for: str) -> None:
    """A release step queued behind another says so: it waited in silence, for as long as the
    other's migrations took (minutes for an index on a large table), and looked hung."""
    click.echo(f"waiting for {waited_for}", err=True)


commands = [db_group]
