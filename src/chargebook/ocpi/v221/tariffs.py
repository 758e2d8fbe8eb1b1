"""OCPI 2.2.1 Tariffs module: models and enums (mod_tariffs.asciidoc).

Data owner: CPO. chargebook is the Receiver (the CPO PUTs and DELETEs Tariffs; there is no
PATCH on Tariffs) and pulls with GET. Spec: branch ``release-2.2.1-bugfixes``.

Restriction times and dates are local to the Location's ``time_zone``; the cost engine in
``domain/`` interprets them, these models only check their syntax.

``TariffBase`` holds the fields 2.2.1 and 2.3.0 share; 2.3.0 swaps ``min_price`` and
``max_price`` for PriceLimit and adds ``tax_included``, so each edition's Tariff extends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from chargebook.ocpi.v221.locations import EnergyMix
from chargebook.ocpi.v221.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    DisplayText,
    Number,
    OcpiModel,
    Price,
    String3,
    Url,
)


def _real_day(value: str) -> str:
    date.fromisoformat(value)  # 2026-02-31 matches the pattern but names no day
    return value


# mod_tariffs.asciidoc § TariffRestrictions class: local date "YYYY-MM-DD".
LocalDate = Annotated[
    str,
    StringConstraints(
        pattern=r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    ),
    AfterValidator(_real_day),
]
# mod_tariffs.asciidoc § TariffRestrictions class: start_time/end_time "HH:MM" (24h). Some
# CPOs end a day with "24:00", which means the spec's 00:00 end; accepted (the engine reads it
# so, docs/ocpi-conformance.md).
ClockTime = Annotated[
    str, StringConstraints(pattern=r"^(([0-1][0-9]|2[0-3]):[0-5][0-9]|24:00)$")
]
# Prices, amounts and bounds of a Tariff are never negative: the engine cannot price a
# negative one, and a stored tariff it cannot price would be quoted as free.
Amount = Annotated[Number, Field(ge=0)]


class DayOfWeek(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § DayOfWeek enum."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § ReservationRestrictionType enum."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffDimensionType(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffDimensionType enum.

    ENERGY per kWh (step unit 1 Wh), FLAT (no unit), PARKING_TIME and TIME per hour (step
    unit 1 s). Erratum: PARKING_TIME is time the vehicle is not requesting power.
    """

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TariffType(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffType enum."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class PriceComponent(OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § PriceComponent class.

    ``price`` is per unit excl. VAT. ``vat`` absent means no VAT applies (not the same as
    0.0). ``step_size`` 0 occurs in the official free-of-charge example, so only negative
    values are refused.
    """

    type: TariffDimensionType
    price: Amount
    vat: Amount | None = None
    step_size: int = Field(ge=0)


class TariffRestrictions(OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffRestrictions class (all set fields ANDed)."""

    start_time: ClockTime | None = None
    end_time: ClockTime | None = None  # < start_time wraps past midnight; 00:00 = end of day
    start_date: LocalDate | None = None  # inclusive
    end_date: LocalDate | None = None  # exclusive
    min_kwh: Amount | None = None
    max_kwh: Amount | None = None
    min_current: Amount | None = None  # A, sum over phases
    max_current: Amount | None = None
    min_power: Amount | None = None  # kW
    max_power: Amount | None = None
    min_duration: int | None = Field(default=None, ge=0)  # s
    max_duration: int | None = Field(default=None, ge=0)
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffElement class."""

    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None

    @model_validator(mode="after")
    def _reservation_prices_flat_and_time_only(self) -> TariffElement:
        # TariffRestrictions.reservation: "A reservation can only have: FLAT and TIME".
        if self.restrictions is not None and self.restrictions.reservation is not None:
            require_flat_and_time_only(self.price_components, "a reservation")
        return self


def require_flat_and_time_only(components: Sequence[PriceComponent], what: str) -> None:
    """Raise unless every component prices FLAT or TIME (reservation/booking elements)."""
    allowed = {TariffDimensionType.FLAT, TariffDimensionType.TIME}
    if any(component.type not in allowed for component in components):
        raise ValueError(f"{what} element may only price FLAT and TIME")


class TariffBase(OcpiModel):
    """Fields of OCPI mod_tariffs.asciidoc § Tariff Object common to 2.2.1 and 2.3.0.

    Not a wire object by itself: use :class:`Tariff` (or ``v230.Tariff``).
    """

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    currency: Annotated[String3, Field(min_length=3)]  # ISO 4217
    type: TariffType | None = None  # absent: valid for all sessions
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: Url | None = None
    elements: Sequence[TariffElement] = Field(min_length=1)
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


class Tariff(TariffBase):
    """OCPI 2.2.1 mod_tariffs.asciidoc § Tariff Object.

    ``min_price``/``max_price`` clamp the session cost, excl. and incl. VAT separately.
    """

    min_price: Price | None = None
    max_price: Price | None = None

    @model_validator(mode="after")
    def _limits_not_negative(self) -> Tariff:
        for limit in (self.min_price, self.max_price):
            if limit is not None and (limit.excl_vat < 0 or (limit.incl_vat or 0) < 0):
                raise ValueError("min_price and max_price are never negative")
        return self
