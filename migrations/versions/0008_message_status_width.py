"""relay: room for every delivery status Twilio reports

Twilio reports an MMS that reached its recipient only in part as `partially_delivered` (19
characters), which messages.status (16) could not hold. On PostgreSQL widening a varchar is a
change of the catalogue only (no table rewrite); SQLite rebuilds the table in batch mode.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(16), type_=sa.String(24),
                              existing_nullable=False)


def downgrade() -> None:
    # The one status 16 characters cannot hold: the nearest one that fits.
    op.execute("UPDATE messages SET status = 'delivered' WHERE status = 'partially_delivered'")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(24), type_=sa.String(16),
                              existing_nullable=False)
