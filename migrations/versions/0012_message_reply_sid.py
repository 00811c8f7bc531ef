"""relay: the SID of the reply a sender was answered with

A text answered rather than (or besides being) forwarded (the no-session reply, STOP's
confirmation, HELP, "could not be delivered") makes one more message in Twilio's log,
addressed to the sender's real number. Its SID comes back on the reply's own statusCallback
(?r=<messages.id>), stored here, so that erasure and retention delete it at Twilio with the
text it answered. A nullable column, added in place on both PostgreSQL (no rewrite) and
SQLite (ALTER TABLE ADD COLUMN: no rebuild, so migration 0011's AUTOINCREMENT stays).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("reply_sid", sa.String(64), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (batch mode would rebuild the table without 0011's
    # AUTOINCREMENT); PostgreSQL likewise.
    op.execute("ALTER TABLE messages DROP COLUMN reply_sid")
