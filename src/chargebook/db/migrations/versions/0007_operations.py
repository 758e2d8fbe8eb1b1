"""worker heartbeats and request correlation on commands

Revision ID: 0007
Revises: 0006

``worker_heartbeats``: one row per running ``chargebook worker`` process, written every pass
(readiness and the heartbeat gauges read it). ``bookings.request_id``: the X-Request-ID of
the call that created the booking. ``ocpi_commands.correlation_id``: the request id sent as
OCPI X-Correlation-ID with the command; ``ocpi_commands.claimed_by``: the worker that last
claimed it for sending. All new columns are nullable, so adding them rewrites no rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.Column("beat_at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_pass_seconds", sa.Float(), nullable=True),
        sa.Column("lag_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeats_beat_at"), ["beat_at"], unique=False)

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))

    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correlation_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("correlation_id")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("request_id")

    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_beat_at"))
    op.drop_table("worker_heartbeats")
