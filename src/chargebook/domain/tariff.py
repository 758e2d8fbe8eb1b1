"""The OCPI 2.2.1 tariff engine: what a session costs under a CPO's Tariff.

Spec: OCPI 2.2.1 (``release-2.2.1-bugfixes``), ``mod_tariffs.asciidoc`` (Tariff object,
TariffRestrictions, PriceComponent) and ``mod_cdrs.asciidoc`` § step_size. The steps:

1. Cut the session into slices in which no restriction flips (``tariff_session.py``).
2. Per slice and per dimension, take the component of the *first* element that has one for
   that dimension and whose restrictions hold. Reservation slices look only at reservation
   elements, session slices only at the others. No match: that dimension is free there.
3. FLAT is billed once per context (reservation, session): the first FLAT that is active.
4. step_size, once per session for ENERGY and once for TIME and PARKING_TIME together: take
   the last slice a component of that kind priced, round up that dimension's billable total
   to that component's step, and bill the extra at that component's price.
5. VAT per component; totals rounded to cents; then min_price / max_price, excl. and incl.
   VAT separately.

Rounding (OCPI leaves it to law and contracts, see docs/tariffs.md): quantities are exact,
each line is rounded half-up to 4 decimals (``money.WORKING``), totals are the sum of the
lines rounded half-up to cents. min/max prices are applied to those totals as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum

from chargebook.domain.errors import InvalidRequest
from chargebook.domain.money import CENT, WORKING, to_cents
from chargebook.domain.tariff_model import (
    InvalidTariff,
    PriceComponent,
    ReservationRestrictionType,
    Tariff,
    TariffDimensionType,
    TariffElement,
    parse_tariff,
)
from chargebook.domain.tariff_restrictions import IDLE, Bounds, Moment, is_active
from chargebook.domain.tariff_session import (
    Period,
    PeriodKind,
    SessionProfile,
    Slice,
    seconds_between,
    session_periods,
    slice_periods,
)

__all__ = [
    "Bounds",
    "InvalidTariff",
    "LinePart",
    "LineType",
    "Period",
    "PeriodKind",
    "SessionProfile",
    "Tariff",
    "TariffLine",
    "TariffPrice",
    "estimate_charging",
    "estimate_reservation",
    "parse_tariff",
    "price_periods",
    "price_session",
]

Dim = TariffDimensionType
_HOUR = Decimal(3600)
_WH = Decimal("0.001")  # ENERGY step_size unit, in kWh
_SHOWN = Decimal("0.000001")


class LineType(StrEnum):
    """A priced dimension in its context; reservation costs are kept apart, as CDRs do
    (``total_reservation_cost``, OCPI 2.2.1 mod_cdrs.asciidoc § CDR Object)."""

    RESERVATION_FLAT = "RESERVATION_FLAT"
    RESERVATION_TIME = "RESERVATION_TIME"
    FLAT = "FLAT"
    ENERGY = "ENERGY"
    TIME = "TIME"
    PARKING_TIME = "PARKING_TIME"

    @property
    def unit(self) -> str:
        """The unit ``quantity`` is in: the unit the spec prices this dimension per."""
        if self is LineType.ENERGY:
            return "kWh"
        return "" if self in (LineType.FLAT, LineType.RESERVATION_FLAT) else "h"


_TIMED = (LineType.TIME, LineType.PARKING_TIME, LineType.RESERVATION_TIME)


@dataclass(frozen=True, slots=True)
class LinePart:
    """What one price component billed within a line (e.g. TIME before and after 17:00)."""

    element: int  # index in ``Tariff.elements``
    price: Decimal  # per unit, excl. VAT
    vat: Decimal | None
    step_size: int
    quantity: Decimal  # billed, in the line's unit, step rounding included
    excl_vat: Decimal
    incl_vat: Decimal | None


@dataclass(frozen=True, slots=True)
class TariffLine:
    type: LineType
    quantity: Decimal  # billed (kWh, hours, or 1 for a flat fee)
    excl_vat: Decimal  # 4 decimals at most
    incl_vat: Decimal | None  # None when the tariff states no VAT anywhere
    parts: tuple[LinePart, ...]

    @property
    def shown_quantity(self) -> Decimal:
        """For people: 6 decimals; time rounds up so a billed time never reads shorter."""
        mode = ROUND_CEILING if self.type in _TIMED else ROUND_HALF_UP
        shown = self.quantity.quantize(_SHOWN, mode).normalize()
        return shown.quantize(Decimal(1)) if shown == shown.to_integral_value() else shown


@dataclass(frozen=True, slots=True)
class TariffPrice:
    currency: str
    excl_vat: Decimal
    incl_vat: Decimal | None
    lines: tuple[TariffLine, ...]
    min_price_applied: bool = False
    max_price_applied: bool = False

    def line(self, kind: LineType) -> TariffLine | None:
        return next((ln for ln in self.lines if ln.type is kind), None)


def price_session(tariff: Tariff, profile: SessionProfile) -> TariffPrice:
    """The cost of a whole session (its reservation included) under ``tariff``."""
    return price_periods(tariff, session_periods(profile))


def estimate_reservation(
    tariff: Tariff, start: datetime, end: datetime, *, expired: bool = False
) -> TariffPrice:
    """What holding the EVSE from ``start`` to ``end`` costs, without the session.

    With ``expired`` the reservation ran out unused (a no-show): that is a whole CDR, so
    min_price applies. Otherwise this is only part of a session's cost and min_price, which
    bounds the whole session, is left to the caller; max_price still caps it.
    """
    seconds = seconds_between(start, end)
    if seconds < 0:
        raise InvalidRequest("a reservation cannot end before it starts")
    kind = PeriodKind.RESERVATION_EXPIRED if expired else PeriodKind.RESERVATION
    period = Period(kind, start, seconds, current_a=IDLE, power_kw=IDLE)
    return price_periods(tariff, [period], apply_min_price=expired)


def estimate_charging(
    tariff: Tariff,
    start: datetime,
    end: datetime,
    power_kw: Decimal,
    *,
    current_a: Decimal | None = None,
) -> TariffPrice:
    """A session charging at a steady ``power_kw`` from ``start`` to ``end`` (no parking)."""
    seconds = seconds_between(start, end)
    if seconds < 0:
        raise InvalidRequest("a charging window cannot end before it starts")
    energy = (power_kw * seconds / _HOUR).quantize(_WH, ROUND_HALF_UP)
    profile = SessionProfile(
        start=start,
        energy_kwh=energy,
        charging_minutes=seconds / 60,
        min_current_a=current_a,
        max_current_a=current_a,
        min_power_kw=power_kw,
        max_power_kw=power_kw,
    )
    return price_session(tariff, profile)


def price_periods(
    tariff: Tariff, periods: Sequence[Period], *, apply_min_price: bool = True
) -> TariffPrice:
    """The core: price consecutive periods (reservation first, then the session)."""
    slices = slice_periods(periods, tariff.elements)
    uses: list[_Use] = []
    for reservation in (True, False):
        context = [s for s in slices if s.kind.is_reservation is reservation]
        uses += _round_steps(_select_all(tariff, context))
    lines = tuple(_lines(uses, tariff))
    excl = to_cents(sum((ln.excl_vat for ln in lines), Decimal(0)))
    incl = to_cents(sum((ln.incl_vat or Decimal(0) for ln in lines), Decimal(0)))
    price = TariffPrice(tariff.currency, excl, incl if tariff.has_vat else None, lines)
    return _limit(price, tariff, apply_min_price)


@dataclass(frozen=True, slots=True)
class _Use:
    """One slice's use of one price component, in native units (kWh, seconds, 1)."""

    line: LineType
    element: int
    component: PriceComponent
    amount: Decimal


_FLAT_LINE = {True: LineType.RESERVATION_FLAT, False: LineType.FLAT}  # keyed by is_reservation


def _dimensions(s: Slice) -> list[tuple[Dim, LineType, Decimal]]:
    """What a slice can be billed for, as (dimension, line, quantity in native units)."""
    if s.kind.is_reservation:
        # The spec allows only FLAT and TIME in reservation elements; TIME is reserved time.
        return [(Dim.TIME, LineType.RESERVATION_TIME, s.seconds)]
    if s.kind is PeriodKind.PARKING:
        return [(Dim.PARKING_TIME, LineType.PARKING_TIME, s.seconds)]
    return [(Dim.ENERGY, LineType.ENERGY, s.energy_kwh), (Dim.TIME, LineType.TIME, s.seconds)]


def _candidates(tariff: Tariff, kind: PeriodKind) -> list[tuple[int, TariffElement]]:
    """The elements a slice may use, in the order they are tried."""
    indexed = list(enumerate(tariff.elements))
    if kind is PeriodKind.RESERVATION:
        return [
            (i, e) for i, e in indexed if e.reservation is ReservationRestrictionType.RESERVATION
        ]
    if kind is PeriodKind.RESERVATION_EXPIRED:
        # The spec: with TIME in both, an expired reservation's time is priced by the
        # RESERVATION_EXPIRES element. We extend that preference to FLAT (the expiry fee);
        # dimensions it lacks fall back to the RESERVATION elements (T17: expiry fee + time).
        expires = [
            (i, e)
            for i, e in indexed
            if e.reservation is ReservationRestrictionType.RESERVATION_EXPIRES
        ]
        return expires + _candidates(tariff, PeriodKind.RESERVATION)
    return [(i, e) for i, e in indexed if e.reservation is None]


def _first_active(
    candidates: list[tuple[int, TariffElement]], dim: Dim, at: Moment
) -> tuple[int, PriceComponent] | None:
    for index, element in candidates:
        component = element.component(dim)
        if component is not None and is_active(element.restrictions, at):
            return index, component
    return None


def _select_all(tariff: Tariff, slices: Sequence[Slice]) -> list[_Use]:
    """Steps 2 and 3: the component per dimension for each slice, and the one FLAT."""
    uses: list[_Use] = []
    flat: _Use | None = None
    for s in slices:
        candidates = _candidates(tariff, s.kind)
        if flat is None and (found := _first_active(candidates, Dim.FLAT, s.at)):
            flat = _Use(_FLAT_LINE[s.kind.is_reservation], found[0], found[1], Decimal(1))
            uses.append(flat)
        for dim, line, amount in _dimensions(s):
            if amount > 0 and (found := _first_active(candidates, dim, s.at)):
                uses.append(_Use(line, found[0], found[1], amount))
    return uses


def _round_steps(uses: list[_Use]) -> list[_Use]:
    """Step 4 (mod_cdrs.asciidoc § step_size): once for energy, once for all time."""
    uses = _round_last(uses, {LineType.ENERGY}, _WH)
    return _round_last(uses, set(_TIMED), Decimal(1))


def _round_last(uses: list[_Use], kinds: set[LineType], unit: Decimal) -> list[_Use]:
    last_at = next((i for i in reversed(range(len(uses))) if uses[i].line in kinds), None)
    if last_at is None:
        return uses
    last = uses[last_at]
    step = last.component.step_size * unit
    if step == 0:
        return uses  # step_size 0 (the free-tariff example): nothing to round to
    # Only the dimension of that last component is rounded (a session ending in paid
    # parking rounds parking, not charging), over the time it was billable (T14-3).
    billable = sum((u.amount for u in uses if u.line is last.line), Decimal(0))
    extra = (billable / step).to_integral_value(ROUND_CEILING) * step - billable
    rounded = list(uses)
    rounded[last_at] = replace(last, amount=last.amount + extra)
    return rounded


def _lines(uses: list[_Use], tariff: Tariff) -> list[TariffLine]:
    lines: list[TariffLine] = []
    for kind in LineType:
        parts: dict[int, list[_Use]] = {}
        for use in uses:
            if use.line is kind:
                parts.setdefault(use.element, []).append(use)
        if parts:
            built = [_part(group, tariff.has_vat) for group in parts.values()]
            excl, incl = _amounts([u for group in parts.values() for u in group], tariff.has_vat)
            quantity = sum((p.quantity for p in built), Decimal(0))
            lines.append(TariffLine(kind, quantity, excl, incl, tuple(built)))
    return lines


def _part(group: list[_Use], has_vat: bool) -> LinePart:
    first = group[0]
    c = first.component
    excl, incl = _amounts(group, has_vat)
    quantity = _in_unit(first.line, sum((u.amount for u in group), Decimal(0)))
    return LinePart(first.element, c.price, c.vat, c.step_size, quantity, excl, incl)


def _amounts(uses: list[_Use], has_vat: bool) -> tuple[Decimal, Decimal | None]:
    """Excl. and incl. VAT, summed exactly then divided once, rounded to 4 decimals."""
    excl = sum((u.component.price * u.amount for u in uses), Decimal(0))
    incl = sum((u.component.price * u.amount * _vat_factor(u.component) for u in uses), Decimal(0))
    per = _HOUR if uses and uses[0].line in _TIMED else Decimal(1)
    return _money(excl / per), _money(incl / per) if has_vat else None


def _vat_factor(component: PriceComponent) -> Decimal:
    # No ``vat`` means no VAT applies (the spec), so incl. equals excl. for that component.
    return Decimal(1) if component.vat is None else 1 + component.vat / 100


def _in_unit(line: LineType, amount: Decimal) -> Decimal:
    return amount / _HOUR if line in _TIMED else amount


def _limit(price: TariffPrice, tariff: Tariff, apply_min_price: bool) -> TariffPrice:
    """Step 5: min_price floors and max_price caps, excl. and incl. VAT independently."""
    excl, incl = price.excl_vat, price.incl_vat
    low = tariff.min_price if apply_min_price else None
    floored = capped = False
    if low is not None:
        if excl < low.excl_vat:
            excl, floored = _plain(low.excl_vat), True
        if incl is not None and low.incl_vat is not None and incl < low.incl_vat:
            incl, floored = _plain(low.incl_vat), True
    high = tariff.max_price
    if high is not None:
        if excl > high.excl_vat:
            excl, capped = _plain(high.excl_vat), True
        if incl is not None and high.incl_vat is not None and incl > high.incl_vat:
            incl, capped = _plain(high.incl_vat), True
    return replace(
        price, excl_vat=excl, incl_vat=incl, min_price_applied=floored, max_price_applied=capped
    )


def _money(amount: Decimal) -> Decimal:
    return _plain(amount.quantize(WORKING, ROUND_HALF_UP))


def _plain(value: Decimal) -> Decimal:
    """Cents when nothing is lost (5.00, not 5.0000), else the shortest exact form."""
    if value == value.quantize(CENT):
        return value.quantize(CENT)
    return value.normalize()
