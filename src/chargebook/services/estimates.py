"""The one estimate of what booking an EVSE for a window costs the client.

Search's ``estimated_price``, the quote a booking carries from its creation and a fleet
group's ``session_limit`` check all come from :func:`estimate_evse`, so what search showed is
what the booking is quoted and what the limit compares. What it assumes (docs/api.md, "The
estimate"):

- **Tariff**: per connector, the first of its ``tariff_ids`` that we hold, is valid at the
  window's start and is in EUR, REGULAR before ad-hoc and profile tariffs
  (:func:`~chargebook.services.pricing.pick_tariff`).
- **CPO cost** = the tariff's reservation cost for the window + charging for the whole window
  at the connector's power (11 kW when the CPO states none), read on the location's wall
  clock, incl. VAT where the tariff states VAT.
- **Which connector**: the one asked for, else the EVSE's cheapest.
- **Client price** = CPO cost + the client's reservation fee + its commission on the CPO cost,
  each line rounded half-up to cents (:func:`~chargebook.services.pricing.quote`).
- No tariff known: the CPO cost is 0, so the estimate is the platform's fee alone.

The final price comes from the CPO's CDR; the estimate is an upper-bound-ish guess that
assumes the vehicle charges through the whole window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chargebook.domain.tariff import Tariff
from chargebook.services.pricing import (
    Quote,
    TariffVersion,
    pick_tariff,
    shared_quote,
    window_costs,
)

CURRENCY = "EUR"
#: The charging power assumed for a connector whose CPO states none (a common AC charger).
DEFAULT_POWER_KW = 11.0

KnownTariff = Callable[[str], tuple[TariffVersion, Tariff] | None]


@dataclass(frozen=True, slots=True)
class ConnectorTerms:
    """What the estimate needs of one connector."""

    connector_id: str
    power_kw: float
    tariff_ids: tuple[str, ...]

    @classmethod
    def of(cls, connector: dict[str, Any], power_kw: float) -> ConnectorTerms:
        """From a stored OCPI Connector object and its power in kW."""
        return cls(str(connector.get("id")), power_kw, tuple(connector.get("tariff_ids") or ()))


@dataclass(frozen=True, slots=True)
class Estimate:
    """The client's price for the window, and how its CPO cost splits."""

    quote: Quote  # cpo_cost = reservation_cost + charging_cost, then fee and commission
    reservation_cost: Decimal
    charging_cost: Decimal
    tariff_id: str | None  # None: no tariff known, the platform's fee alone
    connector_id: str | None

    @property
    def client_price(self) -> Decimal:
        return self.quote.client_price

    def breakdown(self) -> dict[str, Any]:
        """The booking's ``price_breakdown`` while it is a quote (money as strings)."""
        return self.quote.breakdown() | {
            "tariff_id": self.tariff_id,
            "reservation_cost": str(self.reservation_cost),
            "estimated_charging_cost": str(self.charging_cost),
        }


def charging_power_kw(power_kw: float | None) -> float:
    return power_kw if power_kw and power_kw > 0 else DEFAULT_POWER_KW


def estimate_evse(
    connectors: Sequence[ConnectorTerms],
    known: KnownTariff,
    window: tuple[datetime, datetime],
    local_window: tuple[datetime, datetime],
    reservation_fee: Decimal,
    commission_percent: Decimal,
    connector_id: str | None = None,
) -> Estimate:
    """The estimate for one EVSE. ``window`` is UTC (it picks the tariff valid at its start),
    ``local_window`` the same instants on the location's wall clock (tariff restrictions read
    it). ``connector_id`` narrows the choice to that connector."""
    best: Estimate | None = None
    for connector in connectors:
        if connector_id is not None and connector.connector_id != connector_id:
            continue
        picked = pick_tariff(connector.tariff_ids, known, window[0])
        if picked is None:
            continue
        tariff_id, version, terms = picked
        if terms.currency != CURRENCY:
            continue
        costs = window_costs(version, terms, local_window[0], local_window[1],
                             charging_power_kw(connector.power_kw))
        if costs is None:
            continue
        reservation, charging = costs
        price = shared_quote(reservation + charging, reservation_fee, commission_percent, CURRENCY)
        if best is None or price.client_price < best.client_price:
            best = Estimate(price, reservation, charging, tariff_id, connector.connector_id)
    if best is not None:
        return best
    fees_only = shared_quote(Decimal(0), reservation_fee, commission_percent, CURRENCY)
    return Estimate(fees_only, Decimal(0), Decimal(0), None, connector_id)
