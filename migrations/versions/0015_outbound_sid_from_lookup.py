"""outbox: whether a text's Twilio SID came from a lookup or was proven

When a send's answer is lost, the worker looks the text up at Twilio and takes the first copy
with the same body that no other text holds. Two identical texts to one number make that a
guess: the pick may be the other text's copy. A SID Twilio names for the text itself (the
worker's own send answer, or a status callback for the text's own URL) is proof. Without
knowing which one a text holds, the text's own callback naming its real copy after a lookup
took the other's read as a second copy: its deletion was queued at Twilio, and the other
text, finding nothing it could take, was sent again (docs/sending.md, "No blind resend").

A NOT NULL boolean, false (proven, as every SID recorded before this release is taken to be),
added in place on PostgreSQL (a constant default: no table rewrite) and SQLite (ALTER TABLE
ADD COLUMN: no rebuild).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbound_messages", sa.Column("sid_from_lookup", sa.Boolean(), nullable=False,
                                                 server_default=sa.false()))


def downgrade() -> None:
    # In place on SQLite 3.35+ and PostgreSQL (batch mode would rebuild the table).
    op.execute("ALTER TABLE outbound_messages DROP COLUMN sid_from_lookup")
