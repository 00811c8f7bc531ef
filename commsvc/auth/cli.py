"""`commsvc keys create/list/revoke`: the only way API keys are made."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from commsvc.auth import service
from commsvc.auth.roles import ROLES
from commsvc.clock import isoformat
from commsvc.errors import ProblemError
from commsvc.extensions import now as _now
from commsvc.records import audit
from commsvc.records.logs_cli import terminal_safe


def _session():
    return current_app.extensions["db"].sessionmaker()


@click.group("keys")
def keys_group():
    """API keys."""


@keys_group.command("create")
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="What the key may do (API.md's roles table).")
@with_appcontext
def create_command(name: str, role: str):
    """Create a key and print it, only it, on stdout (it is shown once)."""
    if sys.stdout is None:  # started with stdout closed (`>&-`): click.echo writes nowhere
        raise click.ClickException("stdout is closed, so the key could be shown to no one:"
                                   " nothing was created")
    now = _now()
    with _session() as db:
        try:
            key, raw = service.create_key(db, name=name, role=role, now=now)
        except ProblemError as exc:
            raise click.UsageError(exc.describe()) from None
        audit.record(db, actor=audit.cli_actor(), action="key.created", now=now,
                     target={"key_id": key.id}, details={"role": role, "name": key.name})
        # Shown before it is stored: output that cannot be written (`> file` on a full disk)
        # stores nothing, rather than an active key whose secret no one ever saw.
        click.echo(raw)
        db.commit()
    click.echo(f"created {key.id} ({role}); store the key now, it is not shown again",
               err=True)


@keys_group.command("list")
@with_appcontext
def list_command():
    """List keys (never their secrets)."""
    # It only reads: no write lock, so on SQLite it never waits for a writer.
    with current_app.extensions["db"].read_sessionmaker() as db:
        rows = service.list_keys(db)
    click.echo(f"{'ID':<22} {'ROLE':<8} {'STATUS':<8} {'CREATED':<28} NAME")
    for key in rows:
        status = "revoked" if key.revoked_at else "active"
        # Names made before control characters were refused are shown escaped.
        click.echo(f"{key.id:<22} {key.role:<8} {status:<8} {isoformat(key.created_at):<28} "
                   f"{terminal_safe(key.name)}")


@keys_group.command("revoke")
@click.argument("key_id")
@with_appcontext
def revoke_command(key_id: str):
    """Revoke a key; requests with it get 401 from now on. KEY_ID as `keys list` shows it
    (key_...), or as the audit log names it (key:key_...)."""
    if not key_id.strip():  # a usage error (exit 2), as every other empty argument
        raise click.BadParameter("give the key's id, as `keys list` shows it (key_...)",
                                 param_hint="KEY_ID")
    key_id = service.key_id_of(key_id)
    now = _now()
    with _session() as db:
        if key_id.startswith(service.KEY_PREFIX):
            raise click.ClickException(_secret_given(db, key_id))
        try:
            key, revoked_now = service.revoke_key(db, key_id, now=now)
        except ProblemError as exc:
            raise click.ClickException(exc.detail) from None
        if revoked_now:  # revoking a revoked key again changes nothing, so audits nothing
            audit.record(db, actor=audit.cli_actor(), action="key.revoked", now=now,
                         target={"key_id": key.id})
            db.commit()
    click.echo(f"revoked {key_id}")


def _secret_given(db, raw: str) -> str:
    """What to say when a key's secret is passed where its id belongs (never the secret)."""
    principal = service.authenticate(db, raw)
    if principal is None:  # unknown or already revoked
        return ("that is a key's secret, not its id: revoke by the id `commsvc keys list` shows"
                " (key_...)")
    return (f"that is a key's secret, not its id: it is the secret of {principal.key_id};"
            f" run `commsvc keys revoke {principal.key_id}`")


commands = [keys_group]
