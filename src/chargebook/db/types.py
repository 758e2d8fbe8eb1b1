"""Column types that behave the same on SQLite and PostgreSQL.

* :class:`Money` stores a Decimal as a scaled integer (10^-4 units) in a BIGINT. SQLite has no
  exact decimal type (NUMERIC columns hold floats), so an integer is the only storage that is
  exact on both and still sums in SQL. Four places cover OCPI tariff prices; amounts with
  more places are refused rather than silently rounded.
* :class:`UTCDateTime` stores naive UTC and hands back aware UTC datetimes; naive input is a
  programming error and raises.
* :class:`StrEnumColumn` stores a ``StrEnum`` as its string value and hands back the member;
  a value outside the enum raises on the way in and on the way out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCALE = 10_000
E = TypeVar("E", bound=StrEnum)


def money_from_units(units: int) -> Decimal:
    """What a Money column holds (a scaled integer, or a SUM of them) as the amount it means."""
    return (Decimal(units) / SCALE).quantize(Decimal("0.0001"))


class Money(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"Money columns take Decimal, not {type(value).__name__}")
        scaled = value * SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than 4 decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return money_from_units(int(value))


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class StrEnumColumn(TypeDecorator[E]):
    """A ``StrEnum`` in a plain string column (no database enum type: adding a member needs no
    migration beyond the column's CHECK constraint)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum(value)
