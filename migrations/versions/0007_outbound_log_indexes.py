"""sending: indexes for listing platform sends in the messages log

The messages log (GET /v1/logs/messages, `commsvc logs messages`) now lists the outbox's
platform sends newest first by (created_at, id), filtered by phone (the recipient has
ix_outbound_messages_to_phone; the sender is a pool number shared by many sends) or booking.
Without these the log would scan outbound_messages sequentially.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_outbound_messages_created_at_id": ["created_at", "id"],
    "ix_outbound_messages_from_phone": ["from_phone", "created_at"],
    "ix_outbound_messages_booking_id": ["booking_id", "created_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
