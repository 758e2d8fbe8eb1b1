"""OCPI CiString columns compare case-insensitively in the database, on both dialects
(migration 0016, ``db/types.py: CiString``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, select
from sqlalchemy.exc import IntegrityError

from chargebook.db.engine import Database, sync_url
from chargebook.db.migrate import alembic_config, upgrade
from chargebook.db.models import Base, Location, Party
from chargebook.db.types import CiString
from chargebook.services.catalogue import store_location
from tests.factories import evse, unique_party_id


def _ci_columns_in_models() -> set[tuple[str, str]]:
    return {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns
            if isinstance(c.type, CiString)}


def _ci_columns_in_database(url: str) -> set[tuple[str, str]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                rows = conn.execute(sa.text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND collation_name = 'ocpi_ci'")).all()
                return {(t, c) for t, c in rows}
            found = set()
            for name, sql in conn.execute(sa.text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL")):
                for column in re.findall(r'^\s*"?(\w+)"?\s+VARCHAR\(\d+\)\s+COLLATE\s+NOCASE', sql, re.MULTILINE | re.IGNORECASE):
                    found.add((name, column))
            return found
    finally:
        engine.dispose()


def test_every_cistring_column_and_no_other_is_case_insensitive(fresh_database_url: str) -> None:
    assert ("locations", "id") in _ci_columns_in_models()
    assert _ci_columns_in_database(fresh_database_url) == _ci_columns_in_models()


def test_downgrade_restores_case_sensitive_columns_and_upgrade_returns(fresh_database_url: str) -> None:
    command.downgrade(alembic_config(fresh_database_url), "0015")
    assert _ci_columns_in_database(fresh_database_url) == set()
    upgrade(fresh_database_url)
    assert _ci_columns_in_database(fresh_database_url) == _ci_columns_in_models()


def test_ids_differing_only_in_case_stop_the_upgrade_and_change_nothing(fresh_database_url: str) -> None:
    command.downgrade(alembic_config(fresh_database_url), "0015")
    engine = create_engine(sync_url(fresh_database_url))
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        for pk, cc, pid in (("cpo_a", "DE", "XTW"), ("cpo_b", "de", "xtw")):
            conn.execute(sa.text(
                "INSERT INTO parties (id, country_code, party_id, name, max_reservation_minutes, "
                "created_at, status, reserve_lead_minutes, command_timeout_seconds) "
                "VALUES (:pk, :cc, :pid, 'x', 240, :now, 'local', 60, 60)"),
                {"pk": pk, "cc": cc, "pid": pid, "now": now})
    engine.dispose()
    with pytest.raises(RuntimeError, match="differ only in case"):
        upgrade(fresh_database_url)
    assert _ci_columns_in_database(fresh_database_url) == set()


async def test_equality_and_unique_keys_ignore_case(db: Database) -> None:
    party_id = unique_party_id()
    location_id = f"Loc-{party_id}"
    body = {"id": location_id, "name": "x", "address": "Street 1", "city": "Berlin", "country": "DEU",
            "coordinates": {"latitude": "52.52000", "longitude": "13.40500"}, "time_zone": "Europe/Berlin",
            "evses": [evse("Evse-1")], "last_updated": "2026-01-01T00:00:00Z"}
    async with db.write() as session:
        party = Party(id=f"cpo_{party_id}", country_code="DE", party_id=party_id, name="x",
                      created_at=datetime.now(UTC))
        session.add(party)
        await session.flush()
        await store_location(session, party, body)
    async with db.read() as session:
        found = await session.scalar(select(Location.id).where(Location.id == location_id.lower()))
        by_party = await session.scalar(select(Party.id).where(
            Party.country_code == "de", Party.party_id == party_id.lower()))
    assert found == location_id  # kept as written, found in any case
    assert by_party == f"cpo_{party_id}"
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(Location(party_pk=f"cpo_{party_id}", id=location_id.upper(), address="a", city="b",
                                 country="DEU", latitude=52.5, longitude=13.4, time_zone="UTC",
                                 data={}, last_updated=datetime.now(UTC)))


def test_sqlite_rebuild_keeps_indexes_triggers_and_views(backend: str, fresh_database_url: str) -> None:
    if backend != "sqlite":
        pytest.skip("the table rebuild is SQLite's; PostgreSQL alters the columns in place")
    command.downgrade(alembic_config(fresh_database_url), "0015")
    engine = create_engine(sync_url(fresh_database_url))
    schema = sa.text("SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') "
                     "AND sql IS NOT NULL")
    with engine.begin() as conn:
        # A trigger on another table and a view, both naming a table the upgrade rebuilds.
        conn.execute(sa.text("CREATE TRIGGER trg_evse_touch AFTER UPDATE ON evses BEGIN "
                             "UPDATE locations SET name = name WHERE pk = NEW.location_pk; END"))
        conn.execute(sa.text("CREATE VIEW v_location_ids AS SELECT id FROM locations"))
        before = dict(conn.execute(schema).all())
    upgrade(fresh_database_url)
    with engine.connect() as conn:
        assert dict(conn.execute(schema).all()) == before
        assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
