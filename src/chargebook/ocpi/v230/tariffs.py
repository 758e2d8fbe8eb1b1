"""OCPI 2.3.0 Tariffs module (mod_tariffs.asciidoc): what changed from 2.2.1.

Spec: branch ``2.3.0/release/bookings`` (2.3.0 edition 1 + Bookings 1.1).

Changes from 2.2.1:

* Tariff gains the required ``tax_included``; ``PriceComponent.price`` includes or
  excludes taxes according to it (North-American tariffs leave ``vat`` out).
* ``min_price``/``max_price`` are PriceLimit ``{before_taxes, after_taxes}``.
* Bookings 1.1: TariffRestrictions gains ``booking`` (BookingRestrictionType).
* Tag ``v2.3.0`` (with Payments) also has ``preauthorize_amount``; the Bookings branch
  drops it. It is accepted here as an optional field so either edition round-trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import Field, model_validator

from chargebook.ocpi.v221 import tariffs as v221
from chargebook.ocpi.v221.tariffs import (
    DayOfWeek,
    LocalDate,
    PriceComponent,
    ReservationRestrictionType,
    TariffBase,
    TariffDimensionType,
    TariffType,
    require_flat_and_time_only,
)
from chargebook.ocpi.v230.types import Number, OcpiModel


class BookingRestrictionType(StrEnum):
    """OCPI 2.3.0 Bookings 1.1 mod_tariffs.asciidoc § BookingRestrictionType enum."""

    BOOKING = "BOOKING"
    BOOKING_EXPIRES = "BOOKING_EXPIRES"  # the booking was not started within its period
    BOOKING_CANCELLATION_FEES = "BOOKING_CANCELLATION_FEES"
    BOOKING_OVERTIME = "BOOKING_OVERTIME"  # charging after the booked slot


class TaxIncluded(StrEnum):
    """OCPI 2.3.0 mod_tariffs.asciidoc § TaxIncluded enum."""

    YES = "YES"
    NO = "NO"
    N_A = "N/A"


class PriceLimit(OcpiModel):
    """OCPI 2.3.0 mod_tariffs.asciidoc § PriceLimit class (Tariff min_price/max_price)."""

    before_taxes: Number = Field(ge=0)  # never negative, as 2.2.1's tariff amounts
    after_taxes: Number | None = Field(default=None, ge=0)


class TariffRestrictions(v221.TariffRestrictions):
    """OCPI 2.3.0 Bookings 1.1 mod_tariffs.asciidoc § TariffRestrictions class (+ booking)."""

    booking: BookingRestrictionType | None = None


class TariffElement(v221.TariffElement):
    """OCPI 2.3.0 mod_tariffs.asciidoc § TariffElement class."""

    restrictions: TariffRestrictions | None = None

    @model_validator(mode="after")
    def _booking_prices_flat_and_time_only(self) -> TariffElement:
        # TariffRestrictions.booking: "A booking can only have: FLAT and TIME".
        if self.restrictions is not None and self.restrictions.booking is not None:
            require_flat_and_time_only(self.price_components, "a booking")
        return self


class Tariff(TariffBase):
    """OCPI 2.3.0 mod_tariffs.asciidoc § Tariff Object.

    ``min_price``/``max_price`` clamp the session cost before and after taxes separately.
    """

    elements: Sequence[TariffElement] = Field(min_length=1)
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    tax_included: TaxIncluded
    preauthorize_amount: Number | None = None  # tag v2.3.0 (Payments) only


__all__ = [
    "BookingRestrictionType",
    "DayOfWeek",
    "LocalDate",
    "PriceComponent",
    "PriceLimit",
    "ReservationRestrictionType",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "TaxIncluded",
]
