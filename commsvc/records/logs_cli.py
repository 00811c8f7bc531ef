"""`commsvc logs messages|calls`: the log queries for ops, masked unless --reason is given."""
from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import dataclass, field

import click
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from commsvc.errors import ProblemError, ValidationFailed
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.fields import NO_ACCESS_REASON, UtcDateTime, reason_problem
from commsvc.paging import DEFAULT_LIMIT, MAX_LIMIT
from commsvc.records import log_presenters, logs_service
from commsvc.records.audit import cli_actor
from commsvc.records.schemas import CallLogQuery, MessageLogQuery, PagingQuery

BODY_WIDTH = 40
_QUERIES = {"messages": MessageLogQuery, "calls": CallLogQuery}
# Characters that act on the operator's terminal instead of showing: C0/C1 controls (TAB, CR,
# ESC, the 8-bit CSI U+009B), format characters such as the bidi override U+202E, and the line
# and paragraph separators. The zero-width (non-)joiners stay: emoji and several scripts need
# them, and they move nothing.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_HARMLESS_FORMAT = frozenset({"\u200c", "\u200d"})


@dataclass(frozen=True)
class CliReader:
    """The operator at the console: sees full numbers and bodies only with a stated reason."""

    reason: str | None
    actor: str = field(default_factory=cli_actor)

    @property
    def sees_full_numbers(self) -> bool:
        return self.reason is not None


class UtcTime(click.ParamType):
    """A time read by the API's own rule (fields.UtcDateTime: `t` and `z` may be lower case,
    no zone is UTC), so `--since` takes exactly the times `?since=` takes."""

    name = "TIME"
    _API_FIELD = UtcDateTime()
    _NOT_A_TIME = _API_FIELD.error_messages["invalid"].format(obj_type="datetime")

    def convert(self, value, param, ctx):
        if isinstance(value, dt.datetime):
            return value
        try:
            return self._API_FIELD.deserialize(value)
        except ValidationError as error:
            if error.messages == [self._NOT_A_TIME]:
                self.fail("expected an ISO 8601 time such as 2026-06-01T12:00:00Z", param, ctx)
            self.fail(f"{value} {' '.join(error.messages)}", param, ctx)


class PageSize(click.ParamType):
    """`--limit` read by the API's own rule for `?limit=` (ASCII digits, 1-200): click's int
    also took `1_0`, `+5` and other scripts' digits, which the API answers with a 422."""

    name = "INTEGER"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return PagingQuery().fields["limit"].deserialize(value)
        except ValidationError as error:
            self.fail(f"{value!r}: {' '.join(error.messages)}", param, ctx)


def _once(ctx, param, values):
    """An option given twice is an error (exit 2), as the API's 422 for a repeated query
    argument: click would keep the last and filter on it alone without a word."""
    if len(values) > 1:
        raise click.BadParameter("given more than once: give each option once", ctx, param)
    return values[0] if values else None


ONCE = {"multiple": True, "callback": _once}


def _filter_options(command):
    options = [
        click.option("--phone", help="Sender, recipient or forwarded-to number.", **ONCE),
        click.option("--session-id", help="Only this session's (ses_...).", **ONCE),
        click.option("--booking-id", help="Only this booking's.", **ONCE),
        click.option("--status", help="Only this delivery or call status (delivered, failed,"
                                      " completed, no-answer, ...).", **ONCE),
        click.option("--direction", type=click.Choice(logs_service.DIRECTIONS),
                     help="Inbound (to a proxy number) or outbound (the platform's own texts;"
                          " calls have none).", **ONCE),
        click.option("--since", type=UtcTime(), **ONCE,
                     help="From this time (inclusive): ISO 8601, UTC unless it names a zone."),
        click.option("--until", type=UtcTime(),
                     help="Before this time: ISO 8601, UTC unless it names a zone.", **ONCE),
        click.option("--limit", type=PageSize(),
                     help=f"Rows per page, 1-{MAX_LIMIT}.  [default: {DEFAULT_LIMIT}]",
                     **ONCE),
        click.option("--cursor", help="The next cursor printed by the previous page.", **ONCE),
        click.option("--reason", help="Why you need full numbers and bodies (audited).", **ONCE),
        click.option("--json", "as_json", is_flag=True, help="One JSON object a line."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _table_escape(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")  # \t, \x9b, \u202e


def _json_escape(char: str) -> str:
    return json.dumps(char)[1:-1]  # \u009b, \u202e; the parsed value is unchanged


def terminal_safe(text: str, escape=_table_escape) -> str:
    """The text with every character the terminal would obey escaped."""
    if text.isprintable():  # the fast path: isprintable() is false for every unsafe class
        return text
    return "".join(escape(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES
                   and char not in _HARMLESS_FORMAT else char for char in text)


def _cell(value, width: int | None = None) -> str:
    """A table cell: one line, and nothing in it that the terminal would obey (escaped)."""
    text = "-" if value is None else str(value).replace("\r\n", " ").replace("\n", " ")
    if width and len(text) > width:  # cut before escaping, never inside an escape (\x1b)
        text = text[: width - 1] + "…"
    return terminal_safe(text)


def _table(kind: str, rows: list[dict]) -> list[str]:
    # A text's ERROR is Twilio's code for why it was not delivered (30034, 30007, 21610, ...).
    extra = (["ERROR", "MEDIA", "BODY"] if kind == "messages" else ["SECONDS", "RECORDING"])
    header = ["ID", "CREATED", "DIR", "FROM", "TO", "STATUS", "OUTCOME", "SESSION", "BOOKING",
              *extra]
    lines = [header]
    for row in rows:
        if kind == "messages":
            body = "[unavailable]" if row.get("body_unavailable") else row["body"]
            tail = [row.get("error_code"), row["media_count"], _cell(body, BODY_WIDTH)]
        else:
            recording = row["recording"]["sid"] if row["recording"] else None
            tail = [row["duration_seconds"], recording]
        lines.append([row["id"], row["created_at"], row["direction"], row["from"], row["to"],
                      row["status"], row["outcome"], row["session_id"], row["booking_id"],
                      *tail])
    cells = [[_cell(v) for v in line] for line in lines]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in cells]


def _run(kind: str, *, limit, cursor, reason, as_json, **raw):
    limit = DEFAULT_LIMIT if limit is None else limit
    if cursor == "":  # an unset shell variable: the first page again would loop a pager
        raise click.BadParameter("must not be empty (leave it out for the first page)",
                                 param_hint="--cursor")
    reason = reason.strip() if reason is not None else None
    if reason is not None and (problem := reason_problem(reason, empty=NO_ACCESS_REASON)):
        raise click.UsageError(f"--reason {problem}")
    # The API's own query schema judges the options first, so what `?booking_id=` or
    # `?session_id=` refuses (too long for any id, ...) exits 2 here too instead of listing
    # nothing. An empty option, which the API takes as not given, is left to build_filter,
    # which refuses it.
    given = {name: value for name, value in {**raw, "limit": limit, "cursor": cursor}.items()
             if value is not None and value != ""}
    if errors := _QUERIES[kind]().validate(given):
        raise click.UsageError(ValidationFailed(errors=errors).describe())
    reader = CliReader(reason)
    config = _config()
    now = _now()
    database = current_app.extensions["db"]
    # Only a reasoned read writes (its audit event); any other takes no write lock, so on
    # SQLite it never waits for a writer (an erasure, a migration), as the API's reads.
    unit_of_work = (database.sessionmaker if reader.sees_full_numbers
                    else database.read_sessionmaker)
    with unit_of_work() as db:
        try:
            log_filter = logs_service.build_filter(kind, region=config.default_region, **raw)
            page = logs_service.query_logs(
                db, kind, log_filter, limit=limit, cursor=cursor, hmac_key=config.hmac_key,
                retention=config.retention, now=now, with_content=reader.sees_full_numbers)
        except ProblemError as exc:
            raise click.UsageError(exc.describe()) from None
        logs_service.audit_read(db, reader, kind, log_filter, page.rows, now)
        rows = [log_presenters.PRESENTERS[kind](row, reader) for row in page.rows]
        db.commit()
    if as_json:
        for row in rows:
            # json.dumps escapes C0 controls only; C1, bidi and separators go out escaped too.
            click.echo(terminal_safe(json.dumps(row, ensure_ascii=False), _json_escape))
    else:
        for line in _table(kind, rows):
            click.echo(line)
    if page.next_cursor:
        click.echo(f"more: --cursor {page.next_cursor}", err=True)


@click.group("logs")
def logs_group():
    """The communication logs (numbers masked, no bodies, unless --reason)."""


@logs_group.command("messages")
@_filter_options
@with_appcontext
def messages_command(**options):
    """Messages, newest first: relayed (inbound) and sent by the platform (outbound)."""
    _run("messages", **options)


@logs_group.command("calls")
@_filter_options
@with_appcontext
def calls_command(**options):
    """Calls, newest first."""
    _run("calls", **options)


commands = [logs_group]
