"""relay: an index for "was this sender told today that the conversation has ended?"

A text to a proxy number with no conversation (or one taking calls only) is answered once a
day per sender and number (relay.notices.told_lately). The check filtered on sender, number,
outcome and the last 24 hours but had only the one-column phone indexes, or the primary key,
to walk: it read texts newest first back to the first notice, all of them when there was none
(tests/webhooks/test_told_lately_plan.py: 120k rows read, 86 ms). This index holds the
told notices alone (partial on their two outcomes), so the check reads at most the row it finds
and a relayed text, the hot path, pays nothing to keep it. Phone numbers are plain E.164 in
messages (only bodies and media URLs are encrypted), so they are indexed as they are.

On PostgreSQL the index is built under a lock that holds back writes to messages while the
table is read once; on a large table, build it beforehand without that lock (README,
Operations: CREATE INDEX CONCURRENTLY IF NOT EXISTS, the same definition), and this migration
takes the valid index it finds; one left invalid by a failed concurrent build is made again.
On SQLite, as for any migration, stop the processes first (README, Operations).

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TOLD = sa.text("outcome IN ('no_session', 'mode_not_allowed')")


def _prebuilt_index_is_valid() -> bool:
    """True when an operator built the index beforehand (PostgreSQL); an invalid one, the
    remains of a failed CREATE INDEX CONCURRENTLY, is dropped so that it is made again."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    valid = bind.scalar(sa.text("SELECT indisvalid FROM pg_index"
                                " WHERE indexrelid = to_regclass('ix_messages_told_notice')"))
    if valid is False:
        op.drop_index("ix_messages_told_notice", table_name="messages")
    return bool(valid)


def upgrade() -> None:
    if _prebuilt_index_is_valid():
        return
    op.create_index("ix_messages_told_notice", "messages",
                    ["from_phone", "to_phone", "outcome", "created_at"],
                    unique=False, postgresql_where=TOLD, sqlite_where=TOLD)


def downgrade() -> None:
    op.drop_index("ix_messages_told_notice", table_name="messages")
