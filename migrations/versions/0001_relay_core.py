"""relay core: keys, pool, sessions, messages, calls

Revision ID: 0001
Revises: 

"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_table('proxy_numbers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('phone_number', sa.String(length=16), nullable=False),
    sa.Column('country_code', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=8), nullable=True),
    sa.Column('sms', sa.Boolean(), nullable=False),
    sa.Column('voice', sa.Boolean(), nullable=False),
    sa.Column('mms', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_numbers')),
    sa.UniqueConstraint('phone_number', name=op.f('uq_proxy_numbers_phone_number'))
    )
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.create_index('ix_proxy_numbers_status_country_area', ['status', 'country_code', 'area_code'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('booking_id', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_reason', sa.String(length=16), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('record_calls', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_booking_id', ['booking_id', 'created_at'], unique=False)
        batch_op.create_index('ix_sessions_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_sessions_status_expires_at', ['status', 'expires_at'], unique=False)
        batch_op.create_index('uq_sessions_open_booking', ['booking_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    op.create_table('calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=True),
    sa.Column('booking_id', sa.String(length=128), nullable=True),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('from_phone', sa.String(length=16), nullable=False),
    sa.Column('to_phone', sa.String(length=16), nullable=False),
    sa.Column('twilio_sid', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('forward_to', sa.String(length=16), nullable=True),
    sa.Column('forward_from', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('recording_sid', sa.String(length=64), nullable=True),
    sa.Column('recording_duration', sa.Integer(), nullable=True),
    sa.Column('recording_status', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recording_removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_calls_session_id_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    sa.UniqueConstraint('twilio_sid', name=op.f('uq_calls_twilio_sid'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_booking_id_id', ['booking_id', 'id'], unique=False)
        batch_op.create_index('ix_calls_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_calls_forward_to_id', ['forward_to', 'id'], unique=False)
        batch_op.create_index('ix_calls_from_phone_id', ['from_phone', 'id'], unique=False)
        batch_op.create_index('ix_calls_session_id_id', ['session_id', 'id'], unique=False)
        batch_op.create_index('ix_calls_to_phone_id', ['to_phone', 'id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=True),
    sa.Column('booking_id', sa.String(length=128), nullable=True),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('from_phone', sa.String(length=16), nullable=False),
    sa.Column('to_phone', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('media_count', sa.Integer(), nullable=False),
    sa.Column('media_urls', sa.Text(), nullable=True),
    sa.Column('twilio_sid', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('forward_to', sa.String(length=16), nullable=True),
    sa.Column('forward_from', sa.String(length=16), nullable=True),
    sa.Column('forward_sid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body_removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_messages_session_id_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('twilio_sid', name=op.f('uq_messages_twilio_sid'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_booking_id_id', ['booking_id', 'id'], unique=False)
        batch_op.create_index('ix_messages_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_messages_forward_to_id', ['forward_to', 'id'], unique=False)
        batch_op.create_index('ix_messages_from_phone_id', ['from_phone', 'id'], unique=False)
        batch_op.create_index('ix_messages_session_id_id', ['session_id', 'id'], unique=False)
        batch_op.create_index('ix_messages_to_phone_id', ['to_phone', 'id'], unique=False)

    op.create_table('session_participants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('proxy_number', sa.String(length=16), nullable=False),
    sa.Column('counterpart_phone', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_participants_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_participants'))
    )
    with op.batch_alter_table('session_participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_phone_proxy', ['phone', 'proxy_number', 'ended_at'], unique=False)
        batch_op.create_index('ix_participants_proxy_active', ['proxy_number', 'active'], unique=False)
        batch_op.create_index('ix_participants_session_id', ['session_id'], unique=False)
        batch_op.create_index('uq_participants_active_route', ['phone', 'proxy_number'], unique=True, postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))



def downgrade() -> None:
    with op.batch_alter_table('session_participants', schema=None) as batch_op:
        batch_op.drop_index('uq_participants_active_route', postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))
        batch_op.drop_index('ix_participants_session_id')
        batch_op.drop_index('ix_participants_proxy_active')
        batch_op.drop_index('ix_participants_phone_proxy')

    op.drop_table('session_participants')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_to_phone_id')
        batch_op.drop_index('ix_messages_session_id_id')
        batch_op.drop_index('ix_messages_from_phone_id')
        batch_op.drop_index('ix_messages_forward_to_id')
        batch_op.drop_index('ix_messages_created_at')
        batch_op.drop_index('ix_messages_booking_id_id')

    op.drop_table('messages')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_to_phone_id')
        batch_op.drop_index('ix_calls_session_id_id')
        batch_op.drop_index('ix_calls_from_phone_id')
        batch_op.drop_index('ix_calls_forward_to_id')
        batch_op.drop_index('ix_calls_created_at')
        batch_op.drop_index('ix_calls_booking_id_id')

    op.drop_table('calls')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_sessions_open_booking', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_sessions_status_expires_at')
        batch_op.drop_index('ix_sessions_created_at_id')
        batch_op.drop_index('ix_sessions_booking_id')

    op.drop_table('sessions')
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_proxy_numbers_status_country_area')

    op.drop_table('proxy_numbers')
    op.drop_table('api_keys')
