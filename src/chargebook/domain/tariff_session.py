"""A session as the tariff engine sees it: consecutive periods, then slices.

A :class:`Period` is a stretch with constant conditions, like an OCPI ChargingPeriod (OCPI
2.2.1 ``mod_cdrs.asciidoc`` § ChargingPeriod class): reserved, charging or parking time,
energy spread evenly over it, and what is known of current and power. A
:class:`SessionProfile` (what an operator or a quote knows: start, kWh, minutes) becomes
periods via :func:`session_periods`. :func:`slice_periods` then cuts every period wherever a
tariff restriction can flip, so that inside one :class:`Slice` each element is either on or
off throughout (the spec's step 1: slice the session at each moment that matters).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise

from chargebook.domain.errors import InvalidRequest
from chargebook.domain.tariff_model import TariffElement
from chargebook.domain.tariff_restrictions import (
    IDLE,
    UNKNOWN,
    Bounds,
    Moment,
    clock_cuts,
    duration_cuts,
    energy_cuts,
)

ZERO = Decimal(0)
_MICROSECOND = Decimal("0.000001")  # the clock's resolution: cut instants land on it
_NANO_KWH = Decimal("0.000000001")  # energy at a time cut, far below any meter's resolution


class PeriodKind(StrEnum):
    RESERVATION = "RESERVATION"  # reserved, before the session started
    RESERVATION_EXPIRED = "RESERVATION_EXPIRED"  # reserved, and it expired unused
    CHARGING = "CHARGING"  # OCPI "TIME": the EV draws power
    PARKING = "PARKING"  # OCPI "PARKING_TIME": plugged in, not charging

    @property
    def is_reservation(self) -> bool:
        return self in (PeriodKind.RESERVATION, PeriodKind.RESERVATION_EXPIRED)


@dataclass(frozen=True, slots=True)
class Period:
    """``start`` is aware and carries the Location's zone: restrictions read its wall clock."""

    kind: PeriodKind
    start: datetime
    seconds: Decimal
    energy_kwh: Decimal = ZERO
    current_a: Bounds = UNKNOWN
    power_kw: Bounds = UNKNOWN

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise InvalidRequest("a period's start must be timezone-aware (the Location's zone)")
        if self.seconds < 0 or self.energy_kwh < 0:
            raise InvalidRequest("a period cannot last or deliver a negative amount")
        if self.energy_kwh > 0 and self.kind is not PeriodKind.CHARGING:
            raise InvalidRequest(f"a {self.kind.value} period delivers no energy")

    @property
    def end(self) -> datetime:
        return after(self.start, self.seconds)


@dataclass(frozen=True, slots=True)
class SessionProfile:
    """What is known of a session before (or instead of) its CDR.

    ``start`` is when charging began, in the Location's local zone; parking follows charging;
    the reservation (if any) ran for ``reservation_minutes`` up to ``start``. When
    ``reservation_expired`` is set no session happened and ``start`` is when the reservation
    ran out. Current and power bounds describe the charging time; with no power given, power
    is taken as constant (energy over charging time), the same model that spreads the energy
    evenly.
    """

    start: datetime
    energy_kwh: Decimal = ZERO
    charging_minutes: Decimal = ZERO
    parking_minutes: Decimal = ZERO
    reservation_minutes: Decimal = ZERO
    reservation_expired: bool = False
    min_current_a: Decimal | None = None
    max_current_a: Decimal | None = None
    min_power_kw: Decimal | None = None
    max_power_kw: Decimal | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise InvalidRequest("start must be timezone-aware (the Location's local zone)")
        amounts = {
            "energy_kwh": self.energy_kwh,
            "charging_minutes": self.charging_minutes,
            "parking_minutes": self.parking_minutes,
            "reservation_minutes": self.reservation_minutes,
            "min_current_a": self.min_current_a,
            "max_current_a": self.max_current_a,
            "min_power_kw": self.min_power_kw,
            "max_power_kw": self.max_power_kw,
        }
        for name, value in amounts.items():
            if value is not None and (not value.is_finite() or value < 0):
                raise InvalidRequest(f"{name} must be a finite number >= 0")
        used = self.energy_kwh or self.charging_minutes or self.parking_minutes
        if self.reservation_expired and used:
            raise InvalidRequest("an expired reservation has no session: no energy or minutes")
        _check_order("current", self.min_current_a, self.max_current_a)
        _check_order("power", self.min_power_kw, self.max_power_kw)


def _check_order(name: str, low: Decimal | None, high: Decimal | None) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidRequest(f"min {name} must not exceed max {name}")


def session_periods(profile: SessionProfile) -> list[Period]:
    """The profile as periods: reservation, then charging, then parking."""
    p = profile
    periods: list[Period] = []
    if p.reservation_minutes > 0 or p.reservation_expired:
        kind = PeriodKind.RESERVATION_EXPIRED if p.reservation_expired else PeriodKind.RESERVATION
        seconds = p.reservation_minutes * 60
        periods.append(
            Period(kind, after(p.start, -seconds), seconds, current_a=IDLE, power_kw=IDLE)
        )
    if p.reservation_expired:
        return periods
    charging = p.charging_minutes * 60
    if charging > 0 or p.energy_kwh > 0 or p.parking_minutes == 0:
        # Even an empty session is one (zero-length) charging period: its start fee is due.
        power = Bounds(p.min_power_kw, p.max_power_kw)
        if power == UNKNOWN and charging > 0:
            power = Bounds.exactly(p.energy_kwh * 3600 / charging)
        current = Bounds(p.min_current_a, p.max_current_a)
        periods.append(Period(PeriodKind.CHARGING, p.start, charging, p.energy_kwh, current, power))
    if p.parking_minutes > 0:
        parked = after(p.start, charging)
        periods.append(Period(PeriodKind.PARKING, parked, p.parking_minutes * 60, ZERO, IDLE, IDLE))
    return periods


@dataclass(frozen=True, slots=True)
class Slice:
    """Part of a period in which no restriction flips; ``at`` is read at its middle."""

    kind: PeriodKind
    seconds: Decimal
    energy_kwh: Decimal
    at: Moment


def slice_periods(periods: Sequence[Period], elements: Sequence[TariffElement]) -> list[Slice]:
    """Cut each period at every clock, duration and energy threshold of ``elements``.

    Durations count from the first period of the same context (the session, or the
    reservation); energy accumulates over the session. Reading restrictions in the middle of
    a slice, never at its edges, makes the spec's inclusive/exclusive bounds come out right
    whichever side of a cut an edge lands on.
    """
    slices: list[Slice] = []
    origin: dict[bool, datetime] = {}
    consumed: dict[bool, Decimal] = {}
    for period in periods:
        context = period.kind.is_reservation
        first = origin.setdefault(context, period.start)
        energy_before = consumed.get(context, ZERO)
        slices.extend(_cut(period, energy_before, seconds_between(first, period.start), elements))
        consumed[context] = energy_before + period.energy_kwh
    return slices


def _cut(
    period: Period,
    energy_before: Decimal,
    duration_before: Decimal,
    elements: Sequence[TariffElement],
) -> list[Slice]:
    d, e = period.seconds, period.energy_kwh
    # Points inside the period as (seconds in, kWh in); energy flows evenly over time.
    points = {(ZERO, ZERO), (d, e)}
    if d > 0:
        times = [
            seconds_between(period.start, c) for c in clock_cuts(period.start, period.end, elements)
        ]
        times += [t - duration_before for t in duration_cuts(elements)]
        points.update((s, _energy_at(period, s)) for s in times if 0 < s < d)
    if e > 0:
        kwhs = (k - energy_before for k in energy_cuts(elements))
        points.update((_time_at(period, k), k) for k in kwhs if 0 < k < e)
    ordered = _monotone(sorted(points))
    # A zero-length period (an empty session) is still one slice: its start fee is due.
    pairs = list(pairwise(ordered)) or [(ordered[0], ordered[0])]
    return [_slice(period, a, b, energy_before, duration_before) for a, b in pairs]


def _monotone(points: Iterable[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    # Rounding a cut to a microsecond or a nano-kWh may leave energy a hair out of step.
    out: list[tuple[Decimal, Decimal]] = []
    for s, k in points:
        point = (s, max(k, out[-1][1])) if out else (s, k)
        if not out or point != out[-1]:
            out.append(point)
    return out


def _slice(
    period: Period,
    a: tuple[Decimal, Decimal],
    b: tuple[Decimal, Decimal],
    energy_before: Decimal,
    duration_before: Decimal,
) -> Slice:
    middle_s = (a[0] + b[0]) / 2
    at = Moment(
        local=after(period.start, middle_s),
        energy_kwh=energy_before + (a[1] + b[1]) / 2,
        duration_s=duration_before + middle_s,
        current_a=period.current_a,
        power_kw=period.power_kw,
    )
    return Slice(period.kind, b[0] - a[0], b[1] - a[1], at)


def _energy_at(period: Period, seconds: Decimal) -> Decimal:
    return (period.energy_kwh * seconds / period.seconds).quantize(_NANO_KWH, ROUND_HALF_UP)


def _time_at(period: Period, kwh: Decimal) -> Decimal:
    return (period.seconds * kwh / period.energy_kwh).quantize(_MICROSECOND, ROUND_HALF_UP)


def after(start: datetime, seconds: Decimal) -> datetime:
    """``start`` moved by ``seconds`` of real time, shown in ``start``'s zone.

    Done in UTC: aware + timedelta keeps the wall clock of a ``ZoneInfo`` and so is off by
    the DST shift when the span crosses one.
    """
    micros = int((seconds * 1_000_000).to_integral_value(ROUND_HALF_UP))
    return (start.astimezone(UTC) + timedelta(microseconds=micros)).astimezone(start.tzinfo)


def seconds_between(earlier: datetime, later: datetime) -> Decimal:
    """Real seconds from ``earlier`` to ``later`` (exact, to the microsecond)."""
    delta = later.astimezone(UTC) - earlier.astimezone(UTC)
    whole = Decimal(delta.days * 86_400 + delta.seconds)
    return whole + Decimal(delta.microseconds) / 1_000_000
