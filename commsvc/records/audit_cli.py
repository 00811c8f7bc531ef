"""`commsvc audit verify`: walk the hash chain, name the first broken link, print the head."""
from __future__ import annotations

import re

import click
from flask import current_app
from flask.cli import with_appcontext

from commsvc.records.audit_verify import verify_chain

_HEAD = re.compile(r"[0-9a-f]{64}")


@click.group("audit")
def audit_group():
    """The audit log."""


@audit_group.command("verify")
@click.option("--expect-head", metavar="HASH",
              help="A head hash kept outside the database: detects a truncated tail.")
@with_appcontext
def verify_command(expect_head: str | None):
    """Verify the chain; exit 1 at the first edited, inserted or deleted event."""
    if expect_head is not None:
        expect_head = expect_head.strip().lower()
        if not _HEAD.fullmatch(expect_head):  # a typo or a shortened head is no tampering
            raise click.BadParameter(
                "give the whole head as `audit verify` printed it: 64 hexadecimal digits",
                param_hint="--expect-head")
    # One snapshot for the whole walk: read at each chunk's own time, a retention purge deleting
    # events not reached yet read as a deletion (a false BROKEN). It takes no write lock (on
    # SQLite that held every webhook's write off while a long chain was hashed).
    with current_app.extensions["db"].snapshot_sessionmaker() as db:
        result = verify_chain(db, expect_head=expect_head)
    if result.ok:
        click.echo(f"audit chain OK: {result.events} events verified")
    else:
        where = (f"event {result.first_break.event_id}" if result.first_break.event_id
                 else "the tail")
        click.echo(f"audit chain BROKEN at {where}: {result.first_break.problem}")
        click.echo(f"{result.events} events verified before the break")
    click.echo(f"head: {result.head or 'none (the log is empty)'}")
    if not result.ok:
        raise SystemExit(1)


commands = [audit_group]
