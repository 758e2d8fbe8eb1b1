"""ocpi registrations: the pending registration of an `ocpi connect`, keyed by token B; the
identity an invite (token A) is for

Revision ID: 0015
Revises: 0010

``ocpi_registrations``: while our credentials POST is in flight, the token B we gave the CPO
(hashed), bound to a party once its identity is known, until it expires. ``ocpi_invites`` gains
``country_code``/``party_id``: the identity the invite registers (given by the operator, or
recorded by the first registration). New table and nullable columns: no row is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = chargebook.db.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "ocpi_registrations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("versions_url", sa.String(length=255), nullable=False),
        sa.Column("party_pk", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_pk"],
            ["parties.id"],
            name=op.f("fk_ocpi_registrations_party_pk_parties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_registrations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ocpi_registrations_token_hash")),
    )
    with op.batch_alter_table("ocpi_invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country_code", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("party_id", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ocpi_invites", schema=None) as batch_op:
        batch_op.drop_column("party_id")
        batch_op.drop_column("country_code")
    op.drop_table("ocpi_registrations")
