"""Migrations and column types, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from chargebook.db.engine import sync_url
from chargebook.db.migrate import pending_revisions, upgrade
from chargebook.db.models import Base
from chargebook.db.types import Money, StrEnumColumn, UTCDateTime
from chargebook.domain.outbox import OutboxState


def test_migrations_match_the_models(fresh_database_url: str) -> None:
    assert pending_revisions(fresh_database_url) == []
    upgrade(fresh_database_url)  # idempotent
    engine = create_engine(sync_url(fresh_database_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_money_is_exact_and_refuses_more_places() -> None:
    money = Money()
    dialect = None
    for value in (Decimal("0"), Decimal("18.75"), Decimal("0.0001"), Decimal("123456789.1234")):
        stored = money.process_bind_param(value, dialect)  # type: ignore[arg-type]
        assert money.process_result_value(stored, dialect) == value  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        money.process_bind_param(Decimal("0.00001"), dialect)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money.process_bind_param(1.5, dialect)  # type: ignore[arg-type]


def test_utc_datetime_round_trips_any_offset() -> None:
    column = UTCDateTime()
    berlin = datetime(2026, 2, 10, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    stored = column.process_bind_param(berlin, None)  # type: ignore[arg-type]
    back = column.process_result_value(stored, None)  # type: ignore[arg-type]
    assert back == berlin and back.tzinfo == UTC
    with pytest.raises(ValueError):
        column.process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]


def test_str_enum_column_stores_values_and_refuses_strangers() -> None:
    column = StrEnumColumn(OutboxState, 16)
    assert column.process_bind_param(OutboxState.SENDING, None) == "sending"  # type: ignore[arg-type]
    assert column.process_bind_param("due", None) == "due"  # type: ignore[arg-type]
    assert column.process_result_value("withdrawn", None) is OutboxState.WITHDRAWN  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        column.process_bind_param("lost", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        column.process_result_value("lost", None)  # type: ignore[arg-type]
