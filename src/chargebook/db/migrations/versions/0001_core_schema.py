"""core schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 18:59:06.197284
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('clients',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reservation_fee', chargebook.db.types.Money(), nullable=False),
    sa.Column('commission_percent', chargebook.db.types.Money(), nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('monthly_quota', sa.Integer(), nullable=False),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status in ('active', 'suspended')", name=op.f('ck_clients_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients'))
    )
    op.create_table('parties',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('party_id', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('max_reservation_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties')),
    sa.UniqueConstraint('country_code', 'party_id', name=op.f('uq_parties_country_code'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', chargebook.db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_api_keys_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_client_id'), ['client_id'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_customers_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_client_id'), ['client_id'], unique=False)

    op.create_table('fleet_groups',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('monthly_limit', chargebook.db.types.Money(), nullable=True),
    sa.Column('session_limit', chargebook.db.types.Money(), nullable=True),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_fleet_groups_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fleet_groups'))
    )
    with op.batch_alter_table('fleet_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fleet_groups_client_id'), ['client_id'], unique=False)

    op.create_table('locations',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('party_pk', sa.String(length=40), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('city', sa.String(length=45), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=True),
    sa.Column('country', sa.String(length=3), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('time_zone', sa.String(length=255), nullable=False),
    sa.Column('publish', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('last_updated', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['party_pk'], ['parties.id'], name=op.f('fk_locations_party_pk_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_locations')),
    sa.UniqueConstraint('party_pk', 'id', name=op.f('uq_locations_party_pk'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index('ix_locations_id', ['id'], unique=False)
        batch_op.create_index('ix_locations_lat_lng', ['latitude', 'longitude'], unique=False)

    op.create_table('evses',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('location_pk', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('evse_id', sa.String(length=48), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reservable', sa.Boolean(), nullable=False),
    sa.Column('max_power_kw', sa.Float(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('last_updated', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['location_pk'], ['locations.pk'], name=op.f('fk_evses_location_pk_locations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_evses')),
    sa.UniqueConstraint('location_pk', 'uid', name=op.f('uq_evses_location_pk'))
    )
    with op.batch_alter_table('evses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evses_location_pk'), ['location_pk'], unique=False)

    op.create_table('tokens',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('fleet_group_id', sa.String(length=40), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('contract_id', sa.String(length=36), nullable=False),
    sa.Column('visual_number', sa.String(length=64), nullable=True),
    sa.Column('issuer', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=True),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('whitelist', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('last_updated', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('booking_id', sa.String(length=40), nullable=True),
    sa.Column('scope_location_id', sa.String(length=36), nullable=True),
    sa.Column('scope_evse_uid', sa.String(length=36), nullable=True),
    sa.Column('valid_from', chargebook.db.types.UTCDateTime(), nullable=True),
    sa.Column('valid_until', chargebook.db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_tokens_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tokens_customer_id_customers')),
    sa.ForeignKeyConstraint(['fleet_group_id'], ['fleet_groups.id'], name=op.f('fk_tokens_fleet_group_id_fleet_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    sa.UniqueConstraint('uid', name=op.f('uq_tokens_uid'))
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tokens_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tokens_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tokens_fleet_group_id'), ['fleet_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tokens_last_updated'), ['last_updated'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('evse_pk', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.String(length=36), nullable=False),
    sa.Column('location_city', sa.String(length=45), nullable=True),
    sa.Column('evse_uid', sa.String(length=36), nullable=False),
    sa.Column('connector_id', sa.String(length=36), nullable=True),
    sa.Column('reservation_start', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('reservation_end', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('token_strategy', sa.String(length=16), nullable=False),
    sa.Column('token_pk', sa.String(length=40), nullable=True),
    sa.Column('token_uid', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('fleet_group_id', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=40), nullable=True),
    sa.Column('status_message', sa.Text(), nullable=True),
    sa.Column('status_updated_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.Column('cpo_reservation_id', sa.String(length=36), nullable=True),
    sa.Column('client_price', chargebook.db.types.Money(), nullable=True),
    sa.Column('client_price_currency', sa.String(length=3), nullable=False),
    sa.Column('price_breakdown', sa.JSON(), nullable=True),
    sa.Column('created_at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('reservation_end > reservation_start', name=op.f('ck_bookings_window')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_bookings_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evse_pk'], ['evses.pk'], name=op.f('fk_bookings_evse_pk_evses')),
    sa.ForeignKeyConstraint(['fleet_group_id'], ['fleet_groups.id'], name=op.f('fk_bookings_fleet_group_id_fleet_groups')),
    sa.ForeignKeyConstraint(['token_pk'], ['tokens.id'], name=op.f('fk_bookings_token_pk_tokens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('client_id', 'external_id', name=op.f('uq_bookings_client_id'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_client_created', ['client_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_bookings_evse_window', ['evse_pk', 'reservation_start', 'reservation_end'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_fleet_group_id'), ['fleet_group_id'], unique=False)
        batch_op.create_index('ix_bookings_status_start', ['status', 'reservation_start'], unique=False)

    op.create_table('connectors',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('evse_pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('standard', sa.String(length=32), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('power_type', sa.String(length=16), nullable=False),
    sa.Column('power_kw', sa.Float(), nullable=False),
    sa.Column('tariff_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['evse_pk'], ['evses.pk'], name=op.f('fk_connectors_evse_pk_evses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_connectors')),
    sa.UniqueConstraint('evse_pk', 'id', name=op.f('uq_connectors_evse_pk'))
    )
    with op.batch_alter_table('connectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connectors_evse_pk'), ['evse_pk'], unique=False)

    op.create_table('booking_transitions',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('booking_id', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('at', chargebook.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_transitions_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_booking_transitions'))
    )
    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_transitions_booking_id'), ['booking_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_transitions_booking_id'))

    op.drop_table('booking_transitions')
    with op.batch_alter_table('connectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connectors_evse_pk'))

    op.drop_table('connectors')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_status_start')
        batch_op.drop_index(batch_op.f('ix_bookings_fleet_group_id'))
        batch_op.drop_index('ix_bookings_evse_window')
        batch_op.drop_index('ix_bookings_client_created')

    op.drop_table('bookings')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tokens_last_updated'))
        batch_op.drop_index(batch_op.f('ix_tokens_fleet_group_id'))
        batch_op.drop_index(batch_op.f('ix_tokens_customer_id'))
        batch_op.drop_index(batch_op.f('ix_tokens_client_id'))

    op.drop_table('tokens')
    with op.batch_alter_table('evses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evses_location_pk'))

    op.drop_table('evses')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index('ix_locations_lat_lng')
        batch_op.drop_index('ix_locations_id')

    op.drop_table('locations')
    with op.batch_alter_table('fleet_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fleet_groups_client_id'))

    op.drop_table('fleet_groups')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_client_id'))

    op.drop_table('customers')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_client_id'))

    op.drop_table('api_keys')
    op.drop_table('parties')
    op.drop_table('clients')

