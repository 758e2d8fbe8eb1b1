"""When a tariff element is active: its restrictions read at one moment of a session.

Spec: OCPI 2.2.1 (``release-2.2.1-bugfixes``) ``mod_tariffs.asciidoc`` § TariffRestrictions
class. Restrictions switch an element on and off *during* a session, never for the whole
session, so the engine cuts the session wherever one can flip (:func:`clock_cuts`,
:func:`duration_cuts`, :func:`energy_cuts`) and reads them inside each slice
(:func:`is_active`). The ``reservation`` field is not read here: it picks which elements a
slice may use at all (see ``tariff.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from chargebook.domain.tariff_model import TariffElement, TariffRestrictions

_DAY_US = 24 * 3600 * 1_000_000


@dataclass(frozen=True, slots=True)
class Bounds:
    """What is known of a quantity (current in A, power in kW) during a period.

    A restriction on it holds only if it holds for every value the bounds allow: the spec
    makes ``min_current`` true while the current is >= the limit and ``max_current`` while it
    is below, so an unknown side can never prove either. A missing ``low`` is 0 (physics).
    """

    low: Decimal | None = None
    high: Decimal | None = None

    @classmethod
    def exactly(cls, value: Decimal) -> Bounds:
        return cls(value, value)

    def always_at_least(self, limit: Decimal) -> bool:
        return (self.low if self.low is not None else Decimal(0)) >= limit

    def always_below(self, limit: Decimal) -> bool:
        return self.high is not None and self.high < limit


UNKNOWN = Bounds()
IDLE = Bounds.exactly(Decimal(0))  # parking and reservation: no current, no power


@dataclass(frozen=True, slots=True)
class Moment:
    """Everything restrictions look at, at one instant inside a slice."""

    local: datetime  # wall clock in the Location's time zone (aware)
    energy_kwh: Decimal  # consumed since the session started
    duration_s: Decimal  # since the session (or the reservation) started
    current_a: Bounds
    power_kw: Bounds


def is_active(restrictions: TariffRestrictions | None, at: Moment) -> bool:
    """True when every restriction present holds at ``at`` (the spec's logical AND)."""
    r = restrictions
    if r is None:
        return True
    day = at.local.date()
    checks = (
        _in_daily_window(r.start_time, r.end_time, at.local),
        r.start_date is None or r.start_date <= day,
        r.end_date is None or day < r.end_date,
        r.min_kwh is None or at.energy_kwh >= r.min_kwh,
        r.max_kwh is None or at.energy_kwh < r.max_kwh,
        r.min_duration is None or at.duration_s >= r.min_duration,
        r.max_duration is None or at.duration_s < r.max_duration,
        r.min_current is None or at.current_a.always_at_least(r.min_current),
        r.max_current is None or at.current_a.always_below(r.max_current),
        r.min_power is None or at.power_kw.always_at_least(r.min_power),
        r.max_power is None or at.power_kw.always_below(r.max_power),
        # An empty day list (cardinality *) restricts nothing; read as "not given".
        not r.day_of_week or at.local.weekday() in {d.weekday for d in r.day_of_week},
    )
    return all(checks)


def _in_daily_window(start: time | None, end: time | None, local: datetime) -> bool:
    """start_time inclusive, end_time exclusive; end < start wraps past midnight.

    The spec: "To stop at end of the day use: 00:00", so an end of 00:00 (or a missing one)
    is 24:00. Equal start and end (e.g. 08:00-08:00) is read as the whole day, as 00:00-00:00
    is. Day of week is checked on its own, on the current local day (the spec ANDs the fields
    independently), so a MONDAY 22:00-02:00 element is off at Tuesday 01:00.
    """
    if start is None and end is None:
        return True
    s = _micros(start) if start is not None else 0
    e = _micros(end) if end is not None and end != time(0, 0) else _DAY_US
    t = _micros(local.timetz().replace(tzinfo=None))
    if s < e:
        return s <= t < e
    if s > e:
        return t >= s or t < e
    return True


def _micros(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def clock_cuts(start: datetime, end: datetime, elements: Iterable[TariffElement]) -> list[datetime]:
    """Instants strictly inside (start, end) where a time-of-day, date or weekday can flip.

    ``start`` carries the Location's zone. Candidates are built as local wall-clock times on
    each local day (so they follow DST) and compared as UTC instants: subtracting two aware
    datetimes that share a ``tzinfo`` would compare wall clocks and be wrong across DST.
    """
    zone = start.tzinfo
    assert zone is not None, "session times must be timezone-aware"
    times = {time(0, 0)}  # midnight: day of week and dates change
    for element in elements:
        r = element.restrictions
        if r is not None:
            times.update(t for t in (r.start_time, r.end_time) if t is not None)
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    cuts: set[datetime] = set()
    while day <= last:
        for t in times:
            instant = _local(day, t, zone).astimezone(UTC)
            if lo < instant < hi:
                cuts.add(instant)
        day += timedelta(days=1)
    return sorted(cuts)


def _local(day: date, t: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, t, tzinfo=zone)


def duration_cuts(elements: Iterable[TariffElement]) -> set[Decimal]:
    """Session durations (seconds) where a min/max_duration flips."""
    found: set[Decimal] = set()
    for element in elements:
        r = element.restrictions
        if r is not None:
            found.update(Decimal(d) for d in (r.min_duration, r.max_duration) if d is not None)
    return found


def energy_cuts(elements: Iterable[TariffElement]) -> set[Decimal]:
    """Consumed energies (kWh) where a min/max_kwh flips."""
    found: set[Decimal] = set()
    for element in elements:
        r = element.restrictions
        if r is not None:
            found.update(k for k in (r.min_kwh, r.max_kwh) if k is not None)
    return found
