"""Quotes: what a booking costs the client, as a breakdown that adds up exactly.

client_price = cpo_cost + reservation_fee + commission, where commission is the client's
percentage of the CPO's cost. Amounts are Decimal, rounded half-up to cents per line, and the
total is the sum of the rounded lines, so the breakdown always reconciles with the price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chargebook.domain.money import commission, to_cents
from chargebook.domain.tariff import Tariff, TariffPrice, estimate_charging, estimate_reservation


@dataclass(frozen=True, slots=True)
class Quote:
    cpo_cost: Decimal
    reservation_fee: Decimal
    commission: Decimal
    currency: str = "EUR"
    vat: Decimal | None = None
    estimated: bool = True

    @property
    def client_price(self) -> Decimal:
        return self.cpo_cost + self.reservation_fee + self.commission

    def breakdown(self) -> dict[str, Any]:
        """JSON-ready, with money as strings so nothing is lost in storage."""
        return {
            "cpo_cost": str(self.cpo_cost),
            "reservation_fee": str(self.reservation_fee),
            "commission": str(self.commission),
            "currency": self.currency,
            "vat": None if self.vat is None else str(self.vat),
            "estimated": self.estimated,
        }


def quote(
    cpo_cost: Decimal, reservation_fee: Decimal, commission_percent: Decimal, currency: str = "EUR"
) -> Quote:
    cost = to_cents(cpo_cost)
    return Quote(
        cpo_cost=cost,
        reservation_fee=to_cents(reservation_fee),
        commission=commission(cost, commission_percent),
        currency=currency,
    )



def _paid(price: TariffPrice) -> Decimal:
    # incl. VAT when the tariff states VAT, else excl., as a completed booking counts its CDR
    # (``ocpi_sessions._complete``).
    return price.incl_vat if price.incl_vat is not None else price.excl_vat


def reservation_cost(tariff: Tariff, start: datetime, end: datetime) -> Decimal:
    """What the CPO charges for holding an EVSE from ``start`` to ``end`` (aware, in the
    Location's zone: tariff restrictions read its wall clock)."""
    return _paid(estimate_reservation(tariff, start, end))


def charging_cost(tariff: Tariff, start: datetime, end: datetime, power_kw: Decimal) -> Decimal:
    """What the CPO charges for charging at ``power_kw`` from ``start`` to ``end``."""
    return _paid(estimate_charging(tariff, start, end, power_kw))


def tariff_window_cost(tariff: Tariff, start: datetime, end: datetime, power_kw: Decimal) -> Decimal:
    """The CPO's cost of a booking window: the reservation estimate plus the estimate of
    charging at ``power_kw`` for the whole window (what search shows before a booking)."""
    return reservation_cost(tariff, start, end) + charging_cost(tariff, start, end, power_kw)


def quote_window(
    tariff: Tariff | None,
    start: datetime,
    end: datetime,
    power_kw: Decimal,
    reservation_fee: Decimal,
    commission_percent: Decimal,
) -> Quote:
    """A search estimate for one EVSE and window. With no tariff known, the CPO's cost is
    taken as 0: the client sees the platform's own fee (what bookings quote today)."""
    if tariff is None:
        return quote(Decimal(0), reservation_fee, commission_percent)
    cost = tariff_window_cost(tariff, start, end, power_kw)
    return quote(cost, reservation_fee, commission_percent, tariff.currency)
