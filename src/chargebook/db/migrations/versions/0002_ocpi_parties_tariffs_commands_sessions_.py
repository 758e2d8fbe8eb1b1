"""ocpi parties, tariffs, commands, sessions, cdrs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 19:33:56.886745
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('cdrs',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('party_pk', sa.String(length=40), nullable=False),
    sa.Column('id', sa.String(length=39), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('booking_id', sa.String(length=40), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_cost_excl_vat', chargebook.db.types.Money(), nullable=False),
    sa.Column('total_cost_incl_vat', chargebook.db.types.Money(), nullable=True),
    sa.Column('our_cost_excl_vat', chargebook.db.types.Money(), nullable=True),
    sa.Column('flag', sa.String(length=24), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('received_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['party_pk'], ['parties.id'], name=op.f('fk_cdrs_party_pk_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_cdrs'))
    )
    with op.batch_alter_table('cdrs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cdrs_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_cdrs_party_id', ['party_pk', 'id'], unique=False)

    op.create_table('ocpi_invites',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', chargebook.db.types.UTCDateTime(), nullable=True),
    sa.Column('party_pk', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['party_pk'], ['parties.id'], name=op.f('fk_ocpi_invites_party_pk_parties'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_invites')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_ocpi_invites_token_hash'))
    )
    op.create_table('sessions',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('party_pk', sa.String(length=40), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('booking_id', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('token_uid', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('evse_uid', sa.String(length=36), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('last_updated', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['party_pk'], ['parties.id'], name=op.f('fk_sessions_party_pk_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_sessions')),
    sa.UniqueConstraint('party_pk', 'id', name=op.f('uq_sessions_party_pk'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_booking_id'), ['booking_id'], unique=False)

    op.create_table('tariffs',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('party_pk', sa.String(length=40), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('last_updated', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['party_pk'], ['parties.id'], name=op.f('fk_tariffs_party_pk_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_tariffs')),
    sa.UniqueConstraint('party_pk', 'id', name=op.f('uq_tariffs_party_pk'))
    )
    op.create_table('ocpi_commands',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('party_pk', sa.String(length=40), nullable=False),
    sa.Column('booking_id', sa.String(length=40), nullable=True),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('response', sa.String(length=24), nullable=True),
    sa.Column('result', sa.String(length=24), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('timeout_at', chargebook.db.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_ocpi_commands_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_pk'], ['parties.id'], name=op.f('fk_ocpi_commands_party_pk_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_commands'))
    )
    with op.batch_alter_table('ocpi_commands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ocpi_commands_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_ocpi_commands_state_due', ['state', 'due_at'], unique=False)

    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='local'))
        batch_op.add_column(sa.Column('version', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('versions_url', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('endpoints', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('token_for_them', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('token_from_them_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reserve_lead_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.add_column(sa.Column('command_timeout_seconds', sa.Integer(), nullable=False, server_default='60'))
        batch_op.add_column(sa.Column('last_sync_at', chargebook.db.types.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_parties_token_from_them_hash'), ['token_from_them_hash'])




def downgrade() -> None:

    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_parties_token_from_them_hash'), type_='unique')
        batch_op.drop_column('last_sync_at')
        batch_op.drop_column('command_timeout_seconds')
        batch_op.drop_column('reserve_lead_minutes')
        batch_op.drop_column('token_from_them_hash')
        batch_op.drop_column('token_for_them')
        batch_op.drop_column('endpoints')
        batch_op.drop_column('versions_url')
        batch_op.drop_column('version')
        batch_op.drop_column('status')

    with op.batch_alter_table('ocpi_commands', schema=None) as batch_op:
        batch_op.drop_index('ix_ocpi_commands_state_due')
        batch_op.drop_index(batch_op.f('ix_ocpi_commands_booking_id'))

    op.drop_table('ocpi_commands')
    op.drop_table('tariffs')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_booking_id'))

    op.drop_table('sessions')
    op.drop_table('ocpi_invites')
    with op.batch_alter_table('cdrs', schema=None) as batch_op:
        batch_op.drop_index('ix_cdrs_party_id')
        batch_op.drop_index(batch_op.f('ix_cdrs_booking_id'))

    op.drop_table('cdrs')

