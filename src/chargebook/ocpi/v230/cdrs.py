"""OCPI 2.3.0 CDRs module (mod_cdrs.asciidoc) with Bookings 1.1: what changed from 2.2.1.

Spec: branch ``2.3.0/release/bookings``.

Changes from 2.2.1:

* Every cost field is the 2.3.0 Price (``before_taxes`` + ``taxes``); ``tariffs`` are
  2.3.0 Tariffs (with ``tax_included``).
* Bookings 1.1: CDR gains ``booking_id``; CdrDimensionType gains ``RESERVATION_EXPIRES``
  and ``RESERVATION_OVERTIME`` (and RESERVATION_TIME now means the reserved time).
* Kept from the 2.2.1 errata although edition 1 still prints the older text:
  ``SignedValue.plain_data`` is string(5000), and PARKING_TIME is time the vehicle is not
  requesting power (both fixed again in 2.3.0 edition 2).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from chargebook.ocpi.v221.cdrs import (
    AuthMethod,
    CdrBase,
    CdrLocation,
    CdrToken,
    SignedData,
    SignedValue,
)
from chargebook.ocpi.v230.tariffs import Tariff
from chargebook.ocpi.v230.types import CiString36, DateTime, Number, OcpiModel, Price


class CdrDimensionType(StrEnum):
    """OCPI 2.3.0 Bookings 1.1 mod_cdrs.asciidoc § CdrDimensionType enum."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"  # reserved and not used
    RESERVATION_OVERTIME = "RESERVATION_OVERTIME"  # charging beyond the reserved slot
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class CdrDimension(OcpiModel):
    """OCPI 2.3.0 mod_cdrs.asciidoc § CdrDimension class."""

    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    """OCPI 2.3.0 mod_cdrs.asciidoc § ChargingPeriod class."""

    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: CiString36 | None = None


class CDR(CdrBase):
    """OCPI 2.3.0 Bookings 1.1 mod_cdrs.asciidoc § CDR Object.

    ``booking_id``: the Booking this CDR is also sent for. The text says it may only be
    left out "when the Session was reserved", which cannot be checked here, so optional.
    """

    booking_id: CiString36 | None = None
    tariffs: list[Tariff] | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy_cost: Price | None = None
    total_time_cost: Price | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None


__all__ = [
    "CDR",
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrToken",
    "ChargingPeriod",
    "SignedData",
    "SignedValue",
]
