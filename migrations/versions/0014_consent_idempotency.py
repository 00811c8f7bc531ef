"""consent: Idempotency-Key on POST /v1/consent/{phone}

A grant or revocation posted by the booking app whose answer was lost (a timeout, a dropped
connection) was retried as a second event, and a retried grant could land after the person's
STOP and overrule it. The caller's actor and key are stored with the event, under a unique
index, so that the retry finds the event instead (as POST /v1/messages does with
outbound_messages). Two nullable columns, added in place on PostgreSQL and SQLite (no table
rebuild, so migration 0011's AUTOINCREMENT stays); the unique index reads consent_events once
while it is built, holding back new consent events (not relayed texts) meanwhile.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consent_events", sa.Column("requested_by", sa.String(64), nullable=True))
    op.add_column("consent_events", sa.Column("idempotency_key", sa.String(100), nullable=True))
    op.create_index("uq_consent_events_requested_by_idempotency_key", "consent_events",
                    ["requested_by", "idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_consent_events_requested_by_idempotency_key", table_name="consent_events")
    # In place on SQLite 3.35+ and PostgreSQL (batch mode would rebuild without AUTOINCREMENT).
    op.execute("ALTER TABLE consent_events DROP COLUMN idempotency_key")
    op.execute("ALTER TABLE consent_events DROP COLUMN requested_by")
