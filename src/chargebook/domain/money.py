"""Money: Decimal amounts with an explicit currency, and the rounding the platform uses.

Prices are computed at 4 decimal places (what OCPI tariff prices carry) and charged at
2 (the currency's minor unit), rounding half up, as a shop till would.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
WORKING = Decimal("0.0001")
HUNDRED = Decimal(100)


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def commission(base: Decimal, percent: Decimal) -> Decimal:
    """The client's commission, a percentage of the CPO's cost (not of the fee)."""
    return to_cents(base * percent / HUNDRED)

