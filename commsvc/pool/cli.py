"""`commsvc numbers add/list/retire`: the same pool functions as the API."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from commsvc.errors import (
    Conflict,
    ProblemError,
    ServiceUnavailable,
    ValidationFailed,
    cut,
    flat_errors,
)
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.paging import MAX_LIMIT
from commsvc.phones import InvalidPhone, normalise
from commsvc.pool import service
from commsvc.records import audit


def _session():
    return current_app.extensions["db"].sessionmaker()


def _e164(raw: str) -> str:
    try:
        return normalise(raw, _config().default_region)
    except InvalidPhone as exc:
        raise click.BadParameter(f"{cut(raw)!r}: {exc}", param_hint="PHONE") from None


@click.group("numbers")
def numbers_group():
    """The pool of proxy numbers."""


@numbers_group.command("add")
@click.argument("phones", nargs=-1, required=True, metavar="PHONE [PHONE ...]")
@click.option("--capabilities", default=",".join(service.DEFAULT_CAPABILITIES),
              show_default=True, help="Comma-separated: sms, mms, voice.")
@click.option("--reactivate", is_flag=True,
              help="Bring retired numbers back, with these capabilities.")
@with_appcontext
def add_command(phones: tuple[str, ...], capabilities: str, reactivate: bool):
    """Add numbers to the pool; numbers already in it are left as they are (retired ones come
    back with --reactivate). A number that is someone's phone in a session on record, or
    retired without --reactivate, is refused (exit 1)."""
    wanted = [c.strip() for c in capabilities.split(",") if c.strip()]
    numbers, refused = [], []
    for raw in phones:  # a number that is no number is refused; the others are still added
        try:
            numbers.append(normalise(raw, _config().default_region))
        except InvalidPhone as exc:
            refused.append(f"not added: {cut(raw)!r}: {exc}")
    now = _now()
    with _session() as db:
        try:
            service.check_capabilities(wanted)
        except ProblemError as exc:
            raise click.BadParameter(" ".join(exc.errors["capabilities"]),
                                     param_hint="--capabilities") from None
        handled = []  # each said on stdout once committed, whatever a later number meets
        for e164 in dict.fromkeys(numbers):
            try:
                added = service.add_number(db, phone_number=e164, capabilities=wanted,
                                           actor=audit.cli_actor(), now=now,
                                           retention=_config().retention,
                                           reactivate=reactivate)
                # Each number in its own transaction: an add holds session writes back until
                # its transaction ends (service._hold_session_creation), so one for the whole
                # batch stalled every session creation for as long as hundreds of adds took.
                db.commit()
                verb = "reactivated" if added.reactivated else "added"
                click.echo(f"{verb} {e164} ({','.join(added.number.capabilities)})")
                handled.append(e164)
            except service.AlreadyInPool as exc:
                if "retired" in exc.detail:  # not in service: a script must not go on as if
                    refused.append(f"not added: {e164} is in the pool but retired"
                                   " (--reactivate brings it back)")
                else:
                    click.echo(f"already in the pool: {e164}")
                    handled.append(e164)
            except Conflict as exc:
                refused.append(f"not added: {exc.detail}")
            except ValidationFailed as exc:  # a number no one should be given (premium rate)
                why = "; ".join(m for ms in flat_errors(exc.errors).values() for m in ms)
                refused.append(f"not added: {e164} {why}")
            except ServiceUnavailable as exc:  # session writes held the lock too long
                refused.append(f"nothing added{f' from {e164} on' if handled else ''}:"
                               f" {exc.detail}")
                break
            finally:
                db.rollback()  # a refusal's hold on session writes ends here too
    if refused:
        raise click.ClickException("\n".join(refused))


@numbers_group.command("list")
@click.option("--status", type=click.Choice(service.STATUSES), help="Only this status.")
@with_appcontext
def list_command(status: str | None):
    """Every pool number with its capabilities, status and open sessions."""
    now = _now()
    # It only reads: no write lock, so on SQLite it never waits for a writer.
    with current_app.extensions["db"].read_sessionmaker() as db:
        cursor, header = None, True
        while True:
            page = service.list_numbers(db, now=now, status=status, limit=MAX_LIMIT,
                                        cursor=cursor)
            if header:  # only once the database has answered: an error is then its one line
                click.echo(f"{'NUMBER':<16} {'CAPABILITIES':<14} {'STATUS':<8} OPEN SESSIONS")
                header = False
            for row in page.rows:
                number = row.number
                click.echo(f"{number.phone_number:<16} {','.join(number.capabilities):<14} "
                           f"{number.status:<8} {row.open_sessions}")
            if (cursor := page.next_cursor) is None:
                break


@numbers_group.command("retire")
@click.argument("phone")
@with_appcontext
def retire_command(phone: str):
    """Retire a number: no new session gets it; open sessions keep it until they end."""
    e164 = _e164(phone)
    with _session() as db:
        try:
            number = service.retire_number(db, e164, actor=audit.cli_actor(), now=_now())
        except ProblemError as exc:
            raise click.ClickException(exc.detail) from None
        db.commit()
        click.echo(f"retired {number.phone_number}")


commands = [numbers_group]
