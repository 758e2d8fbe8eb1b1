"""client API parity: reusable external ids, contracts, billing periods, unique eMA ids

Revision ID: 0011
Revises: 0008

- ``bookings``: ``UNIQUE(client_id, external_id)`` becomes a partial unique index over live
  bookings only (an ended booking frees its external_id), plus a plain index for
  ``GET /bookings?external_id=``; ``cpo_request_at``, when the request to the CPO goes out.
- ``clients.all_cpos`` and ``client_cpos``: the CPOs a client's contract covers.
- ``ledger_entries``: ``service_period`` (the booking's month) and the amount's parts;
  existing rows are filled in (the charge takes the booking's breakdown, adjustments count as
  CPO cost, so each entry's parts still add up to its amount).
- ``billing_periods``: a client's months, open or closed, with the closed statement kept.
- ``tokens.contract_id`` is unique; duplicates made by the old ``uid[:8]`` rule get new ids.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

LIVE_EXTERNAL_ID = sa.text(
    "external_id IS NOT NULL AND status IN ('REQUESTED', 'PENDING', 'CONFIRMED', 'ATTENDING')"
)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint("uq_bookings_client_id", type_="unique")
        batch_op.add_column(sa.Column("cpo_request_at", chargebook.db.types.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_bookings_client_external", ["client_id", "external_id"], unique=False)
    # Outside the batch: SQLite's table copy would not keep the index's WHERE clause.
    op.create_index("uq_bookings_live_external_id", "bookings", ["client_id", "external_id"], unique=True,
                    sqlite_where=LIVE_EXTERNAL_ID, postgresql_where=LIVE_EXTERNAL_ID)

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("all_cpos", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "client_cpos",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("party_pk", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_client_cpos_client_id_clients"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["party_pk"], ["parties.id"], name=op.f("fk_client_cpos_party_pk_parties"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "party_pk", name=op.f("pk_client_cpos")),
    )

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_period", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("cpo_cost", chargebook.db.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("reservation_fee", chargebook.db.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("commission", chargebook.db.types.Money(), nullable=True))
    _fill_ledger_parts()

    op.create_table(
        "billing_periods",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closed_at", chargebook.db.types.UTCDateTime(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("statement_csv", sa.Text(), nullable=True),
        sa.CheckConstraint("status in ('open', 'closed')", name=op.f("ck_billing_periods_status")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_billing_periods_client_id_clients"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "period", name=op.f("pk_billing_periods")),
    )

    _renumber_duplicate_contract_ids()
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_tokens_contract_id"), ["contract_id"])


def _fill_ledger_parts() -> None:
    """Existing entries get their parts: a booking's first entry the fee and commission of its
    breakdown and the rest of its amount as CPO cost; later entries (adjustments from CDRs)
    their whole amount as CPO cost. Every entry's parts add up to its amount."""
    bind = op.get_bind()
    entries = sa.table("ledger_entries", sa.column("pk", sa.Integer()), sa.column("booking_id", sa.String()),
                       sa.column("amount", chargebook.db.types.Money()), sa.column("period", sa.String()),
                       sa.column("service_period", sa.String()),
                       sa.column("cpo_cost", chargebook.db.types.Money()),
                       sa.column("reservation_fee", chargebook.db.types.Money()),
                       sa.column("commission", chargebook.db.types.Money()))
    bookings = sa.table("bookings", sa.column("id", sa.String()), sa.column("price_breakdown", sa.JSON()))
    rows = bind.execute(
        sa.select(entries.c.pk, entries.c.booking_id, entries.c.amount, bookings.c.price_breakdown)
        .join(bookings, bookings.c.id == entries.c.booking_id).order_by(entries.c.pk)
    ).all()
    by_booking: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_booking[row.booking_id].append(row)
    for booking_rows in by_booking.values():
        first, *later = booking_rows
        parts = first.price_breakdown or {}
        fee = Decimal(str(parts.get("reservation_fee") or 0))
        cut = Decimal(str(parts.get("commission") or 0))
        bind.execute(entries.update().where(entries.c.pk == first.pk).values(
            cpo_cost=first.amount - fee - cut, reservation_fee=fee, commission=cut))
        for r in later:
            bind.execute(entries.update().where(entries.c.pk == r.pk).values(
                cpo_cost=r.amount, reservation_fee=Decimal(0), commission=Decimal(0)))
    bind.execute(entries.update().values(service_period=entries.c.period))


def _renumber_duplicate_contract_ids() -> None:
    bind = op.get_bind()
    tokens = sa.table("tokens", sa.column("id", sa.String()), sa.column("contract_id", sa.String()),
                      sa.column("last_updated", chargebook.db.types.UTCDateTime()))
    seen: set[str] = set()
    rows = bind.execute(sa.select(tokens.c.id, tokens.c.contract_id).order_by(tokens.c.last_updated,
                                                                              tokens.c.id)).all()
    taken = {r.contract_id for r in rows}
    now = datetime.now(UTC)
    for token_id, contract_id in rows:
        if contract_id not in seen:
            seen.add(contract_id)
            continue
        prefix = contract_id.rsplit("-", 1)[0] if contract_id.count("-") >= 2 else "DE-CBK"
        while True:
            fresh = f"{prefix}-C" + "".join(secrets.choice(_ALPHABET) for _ in range(8))
            if fresh not in taken:
                break
        taken.add(fresh)
        # A new last_updated, so CPOs that pull tokens incrementally see the new id.
        bind.execute(tokens.update().where(tokens.c.id == token_id).values(contract_id=fresh, last_updated=now))


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tokens_contract_id"), type_="unique")
    op.drop_table("billing_periods")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_column("commission")
        batch_op.drop_column("reservation_fee")
        batch_op.drop_column("cpo_cost")
        batch_op.drop_column("service_period")
    op.drop_table("client_cpos")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("all_cpos")
    op.drop_index("uq_bookings_live_external_id", table_name="bookings")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_client_external")
        batch_op.drop_column("cpo_request_at")
        batch_op.create_unique_constraint("uq_bookings_client_id", ["client_id", "external_id"])
