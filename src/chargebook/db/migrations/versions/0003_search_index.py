"""search index: latitude bands and listable power on locations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:00:00.000000

Adds the columns of search's spatial index (see ``chargebook/domain/geocells.py``) and the
covering index on them, fills them in for locations stored before, and drops the
``(latitude, longitude)`` index that only the old bounding-box search used.

The backfill repeats, frozen here, what ``services/catalogue.store_location`` computes:
``lat_band = floor(latitude * 100)``; ``search_power_kw`` = the highest connector power of
the location's EVSEs that are not REMOVED; ``bookable_power_kw`` = the same over reservable
EVSEs that are in service; both NULL when the location is not published.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OUT_OF_SERVICE = ("INOPERATIVE", "OUTOFORDER", "PLANNED", "REMOVED")
BATCH = 5000

locations = sa.table(
    "locations",
    sa.column("pk", sa.Integer()),
    sa.column("latitude", sa.Float()),
    sa.column("publish", sa.Boolean()),
    sa.column("lat_band", sa.Integer()),
    sa.column("search_power_kw", sa.Float()),
    sa.column("bookable_power_kw", sa.Float()),
)
evses = sa.table(
    "evses",
    sa.column("pk", sa.Integer()),
    sa.column("location_pk", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("reservable", sa.Boolean()),
)
connectors = sa.table(
    "connectors", sa.column("evse_pk", sa.Integer()), sa.column("power_kw", sa.Float())
)


def _max_power(*conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect[float]:
    return (
        sa.select(sa.func.max(connectors.c.power_kw))
        .select_from(evses.join(connectors, connectors.c.evse_pk == evses.c.pk))
        .where(evses.c.location_pk == locations.c.pk, *conditions)
        .scalar_subquery()
    )


def _backfill() -> None:
    bind = op.get_bind()
    # floor() in Python, not SQL: SQLite may be built without math functions, and CAST
    # truncates on one dialect and rounds on the other.
    rows = bind.execute(sa.select(locations.c.pk, locations.c.latitude)).all()
    update = (
        sa.update(locations)
        .where(locations.c.pk == sa.bindparam("b_pk"))
        .values(lat_band=sa.bindparam("b_band"))
    )
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        bind.execute(update, [{"b_pk": pk, "b_band": math.floor(lat * 100)} for pk, lat in chunk])
    bind.execute(
        sa.update(locations)
        .where(locations.c.publish == sa.true())
        .values(
            search_power_kw=_max_power(evses.c.status != "REMOVED"),
            bookable_power_kw=_max_power(
                evses.c.reservable == sa.true(), evses.c.status.not_in(OUT_OF_SERVICE)
            ),
        )
    )


def upgrade() -> None:

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lat_band", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("search_power_kw", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("bookable_power_kw", sa.Float(), nullable=True))

    _backfill()

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("ix_locations_lat_lng")
        batch_op.create_index(
            "ix_locations_search",
            ["lat_band", "longitude", "latitude", "search_power_kw", "bookable_power_kw", "pk"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("ix_locations_search")
        batch_op.create_index("ix_locations_lat_lng", ["latitude", "longitude"], unique=False)
        batch_op.drop_column("bookable_power_kw")
        batch_op.drop_column("search_power_kw")
        batch_op.drop_column("lat_band")
