"""records: the erasure ledger and pending deletions at Twilio

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('erasures',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('subject_hmac', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures'))
    )
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.create_index('ix_erasures_subject_hmac', ['subject_hmac'], unique=False)

    op.create_table('remote_deletions',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_deletions'))
    )
    with op.batch_alter_table('remote_deletions', schema=None) as batch_op:
        batch_op.create_index('ix_remote_deletions_pending', ['done_at', 'next_attempt_at'], unique=False)
        batch_op.create_index('uq_remote_deletions_resource_sid_action', ['resource', 'sid', 'action'], unique=True)


def downgrade() -> None:
    op.drop_table('remote_deletions')
    op.drop_table('erasures')
