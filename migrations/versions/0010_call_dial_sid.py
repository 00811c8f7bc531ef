"""relay: the SID of the leg Twilio dials for a bridged call

A bridged call is two entries in Twilio's call log: the caller's inbound leg (calls.twilio_sid)
and the leg `<Dial>` places to the other participant, whose SID Twilio posts to the Dial
action as DialCallSid. Only the dialled leg holds the callee's real number, so erasure and
retention must delete it at Twilio too. A nullable column: PostgreSQL adds it without a
rewrite; SQLite rebuilds the table in batch mode.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dial_sid", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("dial_sid")
