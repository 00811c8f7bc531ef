"""SQLite: ids of deleted rows are never given again (AUTOINCREMENT)

Without AUTOINCREMENT SQLite gives a new row the highest id in use plus one, so after an
erasure or retention deleted the newest message, call or participant (or a purge every audit
event), the next one took its id: an audit event's `details.ids` and an export's ids could
then point at another person's row. PostgreSQL's sequences never give an id twice; nothing
changes there.

SQLite sets AUTOINCREMENT only when a table is created: each table is made again from its own
CREATE TABLE statement with its id declared `PRIMARY KEY AUTOINCREMENT`, its rows copied with
their ids, and its indexes made again from their own statements (partial ones keep their
WHERE).

Revision ID: 0011
Revises: 0010
"""
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


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=False)
