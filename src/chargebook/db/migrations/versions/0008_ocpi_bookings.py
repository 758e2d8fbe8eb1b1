"""OCPI 2.3.0 Bookings module: booking locations and their timeslots, the CPO's bookings,
our booking requests; per party the Bookings URL and a credentials update in flight

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bookings_url", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pending_token_hash", sa.String(length=64), nullable=True))

    op.create_table(
        "booking_locations",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("party_pk", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("evse_uid", sa.String(length=36), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_updated", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["party_pk"], ["parties.id"],
                                name=op.f("fk_booking_locations_party_pk_parties"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_booking_locations")),
        sa.UniqueConstraint("party_pk", "id", name=op.f("uq_booking_locations_party_pk")),
    )
    with op.batch_alter_table("booking_locations", schema=None) as batch_op:
        batch_op.create_index("ix_booking_locations_party_location", ["party_pk", "location_id"], unique=False)

    op.create_table(
        "booking_timeslots",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("booking_location_pk", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.String(length=36), nullable=False),
        sa.Column("start_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.Column("end_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_location_pk"], ["booking_locations.pk"],
                                name=op.f("fk_booking_timeslots_booking_location_pk_booking_locations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_booking_timeslots")),
    )
    with op.batch_alter_table("booking_timeslots", schema=None) as batch_op:
        batch_op.create_index("ix_booking_timeslots_location_start", ["booking_location_pk", "start_at"],
                              unique=False)

    op.create_table(
        "ocpi_bookings",
        sa.Column("booking_id", sa.String(length=40), nullable=False),
        sa.Column("party_pk", sa.String(length=40), nullable=False),
        sa.Column("booking_location_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("cpo_booking_id", sa.String(length=36), nullable=True),
        sa.Column("reservation_status", sa.String(length=16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("last_updated", chargebook.db.types.UTCDateTime(), nullable=True),
        sa.Column("answer_due_at", chargebook.db.types.UTCDateTime(), nullable=True),
        sa.Column("poll_at", chargebook.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_ocpi_bookings_booking_id_bookings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["party_pk"], ["parties.id"],
                                name=op.f("fk_ocpi_bookings_party_pk_parties"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_ocpi_bookings")),
    )
    with op.batch_alter_table("ocpi_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_ocpi_bookings_party_cpo_id", ["party_pk", "cpo_booking_id"], unique=False)
        batch_op.create_index("ix_ocpi_bookings_poll_at", ["poll_at"], unique=False)

    op.create_table(
        "ocpi_booking_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("booking_id", sa.String(length=40), nullable=False),
        sa.Column("party_pk", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_ocpi_booking_requests_booking_id_bookings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["party_pk"], ["parties.id"],
                                name=op.f("fk_ocpi_booking_requests_party_pk_parties"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_booking_requests")),
    )
    with op.batch_alter_table("ocpi_booking_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ocpi_booking_requests_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index("ix_ocpi_booking_requests_state_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ocpi_booking_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_ocpi_booking_requests_state_due")
        batch_op.drop_index(batch_op.f("ix_ocpi_booking_requests_booking_id"))
    op.drop_table("ocpi_booking_requests")
    with op.batch_alter_table("ocpi_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_ocpi_bookings_poll_at")
        batch_op.drop_index("ix_ocpi_bookings_party_cpo_id")
    op.drop_table("ocpi_bookings")
    with op.batch_alter_table("booking_timeslots", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_timeslots_location_start")
    op.drop_table("booking_timeslots")
    with op.batch_alter_table("booking_locations", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_locations_party_location")
    op.drop_table("booking_locations")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_column("pending_token_hash")
        batch_op.drop_column("bookings_url")
