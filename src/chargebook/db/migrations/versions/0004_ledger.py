"""ledger entries

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("booking_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", chargebook.db.types.Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_ledger_entries_booking_id_bookings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_ledger_entries_client_id_clients"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index("ix_ledger_entries_client_period", ["client_id", "period"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_client_period")
        batch_op.drop_index(batch_op.f("ix_ledger_entries_booking_id"))
    op.drop_table("ledger_entries")
