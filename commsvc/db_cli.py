"""`commsvc db upgrade`: the Procfile's release step."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from commsvc import migrate


@click.group("db")
def db_group():
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def upgrade_command():
    """Apply every pending migration."""
    engine = current_app.extensions["db"].engine
    try:
        with migrate.migration_transaction(engine) as connection:
            before, after = migrate.upgrade_connection(connection)
    except migrate.UnknownRevision as exc:
        raise click.ClickException(str(exc)) from None
    if before == after:
        click.echo(f"database is up to date (at {after})")
    else:
        click.echo(f"upgraded the database from {before or 'nothing'} to {after}")


commands = [db_group]
