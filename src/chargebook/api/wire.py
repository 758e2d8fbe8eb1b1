"""Wire conventions: UTC timestamps with a `Z`, money as a JSON number in major units."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def iso_z(value: datetime) -> str:
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def money_number(value: Decimal) -> float:
    # Cents-rounded Decimals convert to the float whose shortest repr is the same digits.
    return float(value)


WireTime = Annotated[datetime, PlainSerializer(iso_z, return_type=str)]
WireMoney = Annotated[Decimal, PlainSerializer(money_number, return_type=float)]
