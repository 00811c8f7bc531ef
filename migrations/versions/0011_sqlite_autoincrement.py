"""SQLite: ids of deleted rows are never given again (AUTOINCREMENT)

Without AUTOINCREMENT SQLite gives a new row the highest id in use plus one, so after an
erasure or retention deleted the newest message, call or participant (or a purge every audit
event), the next one took its id: an audit event's `details.ids` and an export's ids could
then point at another person's row. PostgreSQL's sequences never give an id twice; nothing
changes there.

SQLite sets AUTOINCREMENT only when a table is created: each table is made again from its own
CREATE TABLE statement with its id declared `PRIMARY KEY AUTOINCREMENT`, its rows copied with
their ids, and its indexes made again from their own statements (partial ones keep their
WHERE). New ids of messages and calls then start above every id the audit trail names (a
reasoned read's `details.ids`), so that rows deleted before this migration are not named
again either.

It holds SQLite's write lock until it ends (about 15 s for a million messages): stop the web,
worker and clock processes first, as for any migration on SQLite (README, Operations).

Revision ID: 0011
Revises: 0010
"""
import json
import re

from alembic import op
from sqlalchemy import text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("messages", "calls", "session_participants", "audit_events")


def _rebuild(table: str, autoincrement: bool) -> None:
    bind = op.get_bind()
    create = bind.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                          {"t": table}).scalar_one()
    indexes = bind.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND "
                                "tbl_name = :t AND sql IS NOT NULL"), {"t": table}).scalars().all()
    plain_id, plain_pk = "id INTEGER NOT NULL, ", rf",\s*CONSTRAINT pk_{table} PRIMARY KEY \(id\)"
    counted_id = f"id INTEGER NOT NULL CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT, "
    if autoincrement:
        assert plain_id in create and re.search(plain_pk, create), create
        new = re.sub(plain_pk, "", create.replace(plain_id, counted_id, 1), count=1)
    else:
        assert counted_id in create, create
        new = create.replace(counted_id, plain_id, 1).replace(
            "\n)", f", \n\tCONSTRAINT pk_{table} PRIMARY KEY (id)\n)", 1)
    new = re.sub(r'^CREATE TABLE "?' + table + r'"? \(', f"CREATE TABLE {table}_rebuilt (", new)
    op.execute(new)
    op.execute(f"INSERT INTO {table}_rebuilt SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for index in indexes:
        op.execute(index)


# The tables whose ids a reasoned read names in the audit trail (target.resource).
NAMED_BY_AUDIT = {"messages": "logs.messages", "calls": "logs.calls"}


def _named_by_audit() -> dict[str, int]:
    """The highest id of each table in NAMED_BY_AUDIT that an audit event names."""
    highest = dict.fromkeys(NAMED_BY_AUDIT, 0)
    tables = {resource: table for table, resource in NAMED_BY_AUDIT.items()}
    rows = op.get_bind().execute(text(
        "SELECT target, details FROM audit_events WHERE action = 'pii.read'"))
    for target, details in rows:
        table = tables.get((json.loads(target) if isinstance(target, str) else target)
                           .get("resource"))
        ids = (json.loads(details) if isinstance(details, str) else details).get("ids") or []
        numbers = [i for i in ids if isinstance(i, int)]
        if table and numbers:
            highest[table] = max(highest[table], *numbers)
    return highest


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=True)
    for table, named in _named_by_audit().items():
        seq = op.get_bind().execute(text("SELECT seq FROM sqlite_sequence WHERE name = :t"),
                                    {"t": table}).scalar()
        if seq is None:
            op.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :n)")
                       .bindparams(t=table, n=named))
        elif named > seq:
            op.execute(text("UPDATE sqlite_sequence SET seq = :n WHERE name = :t")
                       .bindparams(t=table, n=named))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=False)
