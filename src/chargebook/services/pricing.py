"""Quotes: what a booking costs the client, as a breakdown that adds up exactly.

client_price = cpo_cost + reservation_fee + commission, where commission is the client's
percentage of the CPO's cost. Amounts are Decimal, rounded half-up to cents per line, and the
total is the sum of the rounded lines, so the breakdown always reconciles with the price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chargebook.domain.money import commission, to_cents


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
