"""Column types that behave the same on SQLite and PostgreSQL.

* :class:`Money` stores a Decimal as a scaled integer (10^-4 units) in a BIGINT. SQLite has no
  exact decimal type (NUMERIC columns hold floats), so an integer is the only storage that is
  exact on both and still sums in SQL. Four places cover OCPI tariff prices; amounts with
  more places are refused rather than silently rounded.
* :class:`UTCDateTime` stores naive UTC and hands back aware UTC datetimes; naive input is a
  programming error and raises.
* :class:`StrEnumColumn` stores a ``StrEnum`` as its string value and hands back the member;
  a value outside the enum raises on the way in and on the way out.
* :class:`CiString` is an OCPI CiString id (OCPI 2.2.1 types.asciidoc § CiString: compared
  case-insensitively): a string column whose collation makes ``=``, ``IN``, joins and unique
  indexes ignore case, on both databases. It keeps the case it was written in.
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

#: PostgreSQL: a nondeterministic ICU collation at level 2 (letters compare without case,
#: accents still count), created by migration 0016. SQLite: the built-in NOCASE (ASCII case
#: folding, which is all a CiString can hold: printable ASCII).
PG_CI_COLLATION = "ocpi_ci"
SQLITE_CI_COLLATION = "NOCASE"
#: PostgreSQL cannot LIKE (or use pattern operators) on a nondeterministic collation: a
#: pattern match on a CiString column names this one explicitly there, e.g.
#: ``Location.id.collate(PG_DETERMINISTIC).ilike(...)`` (SQLite's LIKE ignores collations).
PG_DETERMINISTIC = "C"


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


class CiString(TypeDecorator[str]):
    """An OCPI CiString id in a case-insensitive column (see the module docstring and
    ``db/README.md``): ``LOC1`` and ``loc1`` are equal in every query and in unique indexes."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(String(self.length, collation=ci_collation(dialect.name)))


def ci_collation(dialect_name: str) -> str:
    """The case-insensitive collation of a dialect (what :class:`CiString` columns carry)."""
    return PG_CI_COLLATION if dialect_name == "postgresql" else SQLITE_CI_COLLATION
