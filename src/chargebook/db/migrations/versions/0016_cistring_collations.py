"""OCPI CiString ids compare case-insensitively: a case-insensitive collation on every column
that holds one

Revision ID: 0016
Revises: 0010

OCPI 2.2.1 types.asciidoc § CiString: ids (location ids, EVSE uids, connector, tariff, session,
CDR and token ids, ``country_code``/``party_id``) are case-insensitive, and real CPOs re-case
them, ours included (a reservation id or ``authorization_reference`` echoed in lower case).
The columns that hold them (and the foreign keys to ``bookings.id``, our reservation id) get
a case-insensitive collation, so that ``=``, ``IN``, joins and
unique indexes ignore case everywhere (``db/types.py: CiString``; ``db/README.md``):

* PostgreSQL: the nondeterministic ICU collation ``ocpi_ci`` (level 2: case does not count),
  created here; ``ALTER COLUMN … TYPE … COLLATE`` rebuilds the indexes on those columns.
* SQLite: ``NOCASE``. SQLite cannot change a column's collation in place, so each table is
  rebuilt from its own stored ``CREATE TABLE`` text with only those column definitions
  changed, and every index and trigger of the table is re-created from its stored text
  (a generic batch rebuild would re-derive them from reflection and lose triggers).

Ids that differ only in case become duplicates under the new unique indexes; the upgrade
checks first and stops with a list of them (nothing is changed) rather than pick one.
Downgrade restores the default collations and drops ``ocpi_ci``.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PG_COLLATION = "ocpi_ci"

# Frozen here: the CiString columns of this revision, per table, with their lengths.
CI_COLUMNS: dict[str, dict[str, int]] = {
    "parties": {"country_code": 2, "party_id": 3},
    "tariffs": {"id": 36},
    "locations": {"id": 36},
    "evses": {"uid": 36},
    "connectors": {"id": 36},
    "tokens": {"uid": 36, "contract_id": 36, "scope_location_id": 36, "scope_evse_uid": 36},
    "ocpi_commands": {"id": 40, "booking_id": 40},
    "sessions": {"id": 36, "token_uid": 36, "location_id": 36, "evse_uid": 36},
    "cdrs": {"id": 39, "session_id": 36},
    "bookings": {"id": 40, "location_id": 36, "evse_uid": 36, "connector_id": 36,
                 "token_uid": 36, "cpo_reservation_id": 36},
    "booking_locations": {"id": 36, "location_id": 36, "evse_uid": 36},
    "booking_timeslots": {"calendar_id": 36},
    "ocpi_bookings": {"booking_id": 40, "booking_location_id": 36, "request_id": 36, "cpo_booking_id": 36},
    # Foreign keys to bookings.id take its collation (as the models' columns take its type).
    "ocpi_booking_requests": {"booking_id": 40},
    "booking_transitions": {"booking_id": 40},
    "ledger_entries": {"booking_id": 40},
    "webhook_deliveries": {"booking_id": 40},
}

# The unique keys that become case-insensitive: rows that would collide are refused first.
UNIQUE_KEYS: list[tuple[str, tuple[str, ...]]] = [
    ("parties", ("country_code", "party_id")),
    ("tariffs", ("party_pk", "id")),
    ("locations", ("party_pk", "id")),
    ("evses", ("location_pk", "uid")),
    ("connectors", ("evse_pk", "id")),
    ("tokens", ("uid",)),
    ("tokens", ("contract_id",)),
    ("ocpi_commands", ("id",)),
    ("sessions", ("party_pk", "id")),
    ("bookings", ("id",)),
    ("booking_locations", ("party_pk", "id")),
]


def upgrade() -> None:
    _refuse_case_duplicates()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE COLLATION IF NOT EXISTS {PG_COLLATION} "
            "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
        )
        _alter_postgresql(f" COLLATE {PG_COLLATION}")
    else:
        for table, columns in CI_COLUMNS.items():
            _rebuild_sqlite(table, columns, " COLLATE NOCASE")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _alter_postgresql(' COLLATE "default"')
        op.execute(f"DROP COLLATION IF EXISTS {PG_COLLATION}")
    else:
        for table, columns in CI_COLUMNS.items():
            _rebuild_sqlite(table, columns, "")


def _refuse_case_duplicates() -> None:
    bind = op.get_bind()
    found = []
    for table, key in UNIQUE_KEYS:
        folded = ", ".join(f"lower({c})" if _is_ci(table, c) else c for c in key)
        rows = bind.execute(sa.text(
            f"SELECT {folded}, count(*) FROM {table} GROUP BY {folded} HAVING count(*) > 1 LIMIT 5"
        )).all()
        found += [f"{table} {key} = {tuple(row[:-1])} ({row[-1]} rows)" for row in rows]
    if found:
        raise RuntimeError(
            "ids that differ only in case cannot coexist once CiStrings compare "
            "case-insensitively (OCPI types § CiString); merge or delete these first: "
            + "; ".join(found)
        )


def _is_ci(table: str, column: str) -> bool:
    return column in CI_COLUMNS.get(table, {})


def _alter_postgresql(collate: str) -> None:
    for table, columns in CI_COLUMNS.items():
        changes = ", ".join(
            f"ALTER COLUMN {column} TYPE VARCHAR({length}){collate}" for column, length in columns.items()
        )
        op.execute(f"ALTER TABLE {table} {changes}")


def _rebuild_sqlite(table: str, columns: dict[str, int], collate: str) -> None:
    """The rebuild SQLite documents for schema changes ALTER TABLE cannot make (lang_altertable
    § Making Other Kinds Of Table Schema Changes): new table, copy, drop, rename, then the
    table's indexes and triggers again. Foreign keys are off on the migration's connection."""
    bind = op.get_bind()
    create = bind.execute(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}).scalar_one()
    extras = bind.execute(sa.text(
        "SELECT sql FROM sqlite_master WHERE tbl_name = :t AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name"), {"t": table}).scalars().all()
    new_sql, named = re.subn(rf'^(\s*CREATE\s+TABLE\s+)"?{table}"?', rf'\1"_ci_{table}"', create, count=1)
    assert named == 1, f"unexpected CREATE TABLE text for {table}"
    for column, length in columns.items():
        pattern = rf'^(\s*"?{column}"?\s+VARCHAR\({length}\))(\s+COLLATE\s+\w+)?'
        new_sql, changed = re.subn(pattern, rf"\1{collate}", new_sql, count=1, flags=re.MULTILINE | re.IGNORECASE)
        assert changed == 1, f"column {table}.{column} not found in its CREATE TABLE text"
    op.execute(new_sql)
    op.execute(f'INSERT INTO "_ci_{table}" SELECT * FROM "{table}"')
    op.execute(f'DROP TABLE "{table}"')
    # Legacy rename: do not re-check other tables' triggers and views, which name the table
    # that is briefly missing here (the modern rename refuses: "no such table").
    op.execute("PRAGMA legacy_alter_table = ON")
    op.execute(f'ALTER TABLE "_ci_{table}" RENAME TO "{table}"')
    op.execute("PRAGMA legacy_alter_table = OFF")
    for sql in extras:
        op.execute(sql)
