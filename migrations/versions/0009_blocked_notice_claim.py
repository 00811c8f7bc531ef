"""relay: the "could not be delivered" notice is claimed once, by the database

A sender whose recipient revoked texts is told once per session and revocation. The check
("was this sender told since the revocation?") and the insert were two statements, so two texts
arriving together were both told. messages.notice_of names the revocation a told text
answered (when it began, in microseconds since the epoch), and a partial unique index on (session_id, from_phone, notice_of) lets
only one such row exist: the second insert conflicts and is stored as blocked, untold. On
PostgreSQL adding a nullable column is a change of the catalogue only, and the index covers
only the few told rows.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TOLD = sa.text("notice_of IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_of", sa.BigInteger().with_variant(
            sa.Integer(), "sqlite"), nullable=True))
    op.create_index("uq_messages_notice_of", "messages", ["session_id", "from_phone", "notice_of"],
                    unique=True, postgresql_where=TOLD, sqlite_where=TOLD)


def downgrade() -> None:
    op.drop_index("uq_messages_notice_of", table_name="messages")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("notice_of")
