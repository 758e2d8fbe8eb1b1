"""one outbox: booking requests carry a correlation id and their claimer; both outbox tables
hold only the outbox's states

Revision ID: 0010
Revises: 0008

``ocpi_booking_requests.correlation_id`` (the request id sent as OCPI X-Correlation-ID) and
``claimed_by`` (the worker that last claimed it), as ``ocpi_commands`` has had since 0007;
both nullable, so adding them rewrites no rows. ``CHECK (state in (…))`` on both tables, with
the states of ``domain/outbox.py`` (rows written before hold only these values).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0014"
branch_labels = None
depends_on = None

# Frozen here: a migration describes the schema of its own day, not of today's enum.
STATES = "state in ('due', 'sending', 'sent', 'answered', 'failed', 'withdrawn')"


def upgrade() -> None:
    with op.batch_alter_table("ocpi_booking_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correlation_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_ocpi_booking_requests_state"), STATES)

    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_ocpi_commands_state"), STATES)


def downgrade() -> None:
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_ocpi_commands_state"), type_="check")

    with op.batch_alter_table("ocpi_booking_requests", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_ocpi_booking_requests_state"), type_="check")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("correlation_id")
