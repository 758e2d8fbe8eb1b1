"""Quotes: what a booking costs the client, as a breakdown that adds up exactly.

client_price = cpo_cost + reservation_fee + commission, where commission is the client's
percentage of the CPO's cost. Amounts are Decimal, rounded half-up to cents per line, and the
total is the sum of the rounded lines, so the breakdown always reconciles with the price.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from chargebook.domain.errors import DomainError
from chargebook.domain.money import commission, to_cents
from chargebook.domain.tariff import (
    Tariff,
    TariffPrice,
    estimate_charging,
    estimate_reservation,
    parse_tariff,
)
from chargebook.domain.tariff_model import TariffType


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


def tariff_window_cost(
    tariff: Tariff, start: datetime, end: datetime, power_kw: Decimal
) -> Decimal:
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


# --- estimates for many EVSEs at once (search) ------------------------------------------------
#
# A tariff version is (its row's pk, its last_updated): OCPI has a CPO change last_updated
# with every change, so a version's terms never change and what is computed from them can be
# remembered in the process, across requests, with no way of going stale.

TariffVersion = tuple[int, datetime]
_PARSED: dict[TariffVersion, Tariff | None] = {}
_COSTS: dict[tuple[Any, ...], Decimal | None] = {}
_CACHE_MAX = 8192


def _bounded(cache: dict[Any, Any]) -> dict[Any, Any]:
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    return cache


def forget_tariffs() -> None:
    """Drop what was remembered of tariff versions. A version is a row's pk and its
    ``last_updated`` in one database; a process that moves to a fresh database (the test
    suite does, once a test) starts over, as pks are given out again there."""
    _PARSED.clear()
    _COSTS.clear()


def parsed_tariff(version: TariffVersion, data: Mapping[str, Any]) -> Tariff | None:
    """The terms of a stored tariff (None when they cannot be read), parsed once a version."""
    if version not in _PARSED:
        try:
            _bounded(_PARSED)[version] = parse_tariff(data)
        except DomainError:
            _PARSED[version] = None
    return _PARSED[version]


def pick_tariff(
    tariff_ids: tuple[str, ...],
    known: Callable[[str], tuple[TariffVersion, Tariff] | None],
    at: datetime,
) -> tuple[str, TariffVersion, Tariff] | None:
    """A connector's tariff for a booking starting ``at``: of its ``tariff_ids`` that we know,
    the first valid then, REGULAR (or untyped) ones before ad-hoc and profile ones (OCPI 2.2.1
    mod_tariffs.asciidoc § TariffType: one of each type may be active at a time)."""
    best: tuple[tuple[bool, int], str, TariffVersion, Tariff] | None = None
    for index, tariff_id in enumerate(tariff_ids):
        entry = known(tariff_id)
        if entry is None or not entry[1].is_valid_at(at):
            continue
        rank = (entry[1].type not in (None, TariffType.REGULAR), index)
        if best is None or rank < best[0]:
            best = (rank, tariff_id, *entry)
    return None if best is None else (best[1], best[2], best[3])


def window_costs(
    version: TariffVersion, tariff: Tariff, start: datetime, end: datetime, power_kw: float
) -> tuple[Decimal, Decimal] | None:
    """(reservation cost, charging cost) of a window at ``power_kw``, each remembered per
    tariff version and window (the engine takes ~0.1 ms an estimate; a page of search
    results repeats a few tariffs and powers). None: the engine refused this tariff."""
    where = (version, start, end, str(start.tzinfo))
    reservation = _remember((*where, None), lambda: reservation_cost(tariff, start, end))
    charging = _remember((*where, power_kw),
                         lambda: charging_cost(tariff, start, end, Decimal(str(power_kw))))
    return None if reservation is None or charging is None else (reservation, charging)


def _remember(key: tuple[Any, ...], compute: Callable[[], Decimal]) -> Decimal | None:
    if key not in _COSTS:
        try:
            _bounded(_COSTS)[key] = compute()
        except DomainError:
            _COSTS[key] = None
    return _COSTS[key]


@lru_cache(maxsize=4096)
def shared_quote(cpo_cost: Decimal, reservation_fee: Decimal, commission_percent: Decimal,
                 currency: str = "EUR") -> Quote:
    """:func:`quote`, remembered: a Quote is immutable, and search builds hundreds a page."""
    return quote(cpo_cost, reservation_fee, commission_percent, currency)
