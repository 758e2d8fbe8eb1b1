"""Properties of the tariff engine over generated OCPI 2.2.1 tariffs and sessions.

Monotonicity is checked on tariffs without restrictions: with restrictions the spec's own
rules can make more usage cheaper (more kWh raise the average power past a ``max_power``
tier; a longer session moves "the last period", whose ``step_size`` rounds). One such spec
consequence holds even without restrictions and is pinned below: the first minute of paid
parking moves the time rounding from charging to parking.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from chargebook.domain.money import to_cents
from chargebook.domain.tariff import (
    LineType,
    SessionProfile,
    Tariff,
    TariffPrice,
    parse_tariff,
    price_session,
)

DIMENSIONS = ["ENERGY", "FLAT", "TIME", "PARKING_TIME"]
ZONES = [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]

prices = st.decimals(min_value=0, max_value=20, places=2)
vats = st.none() | st.decimals(min_value=0, max_value=25, places=1)
steps = st.sampled_from([0, 1, 25, 60, 300, 500, 900, 1800, 8000])
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30]))
days = st.lists(
    st.sampled_from(["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]),
    unique=True,
)


@st.composite
def components(draw: st.DrawFn) -> list[dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=4, unique=True))
    out = []
    for kind in kinds:
        component: dict[str, Any] = {"type": kind, "price": draw(prices), "step_size": draw(steps)}
        if (vat := draw(vats)) is not None:
            component["vat"] = vat
        out.append(component)
    return out


restriction_fields: dict[str, st.SearchStrategy[Any]] = {
    "start_time": clock,
    "end_time": clock,
    "day_of_week": days,
    "min_kwh": st.integers(0, 60),
    "max_kwh": st.integers(1, 80),
    "min_duration": st.integers(0, 14_400),
    "max_duration": st.integers(60, 21_600),
    "min_power": st.integers(0, 100),
    "max_power": st.integers(1, 150),
    "min_current": st.integers(0, 64),
    "max_current": st.integers(1, 128),
    "reservation": st.sampled_from(["RESERVATION", "RESERVATION_EXPIRES"]),
}


@st.composite
def restrictions(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(restriction_fields)), max_size=3, unique=True))
    return {name: draw(restriction_fields[name]) for name in names}


def limits(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("min_price", "max_price"):
        if draw(st.booleans()):
            excl = draw(st.decimals(min_value=0, max_value=50, places=2))
            out[name] = {"excl_vat": excl, "incl_vat": draw(st.none() | st.just(excl * D("1.2")))}
    return out


@st.composite
def tariffs(draw: st.DrawFn, restricted: bool = True) -> Tariff:
    elements = []
    for _ in range(draw(st.integers(1, 5))):
        element: dict[str, Any] = {"price_components": draw(components())}
        if restricted and draw(st.booleans()):
            element["restrictions"] = draw(restrictions())
            if not {c["type"] for c in element["price_components"]} <= {"FLAT", "TIME"}:
                # "A reservation can only have: FLAT and TIME" (mod_tariffs.asciidoc).
                element["restrictions"].pop("reservation", None)
        elements.append(element)
    return parse_tariff({"currency": "EUR", "elements": elements, **limits(draw)})


@st.composite
def profiles(draw: st.DrawFn) -> SessionProfile:
    start = draw(
        st.datetimes(datetime(2023, 1, 1), datetime(2024, 12, 31), timezones=st.sampled_from(ZONES))
    )
    if draw(st.integers(0, 9)) == 0:
        return SessionProfile(
            start=start, reservation_minutes=D(draw(st.integers(0, 120))), reservation_expired=True
        )
    return SessionProfile(
        start=start,
        energy_kwh=draw(st.decimals(min_value=0, max_value=80, places=3)),
        charging_minutes=D(draw(st.integers(0, 600))),
        parking_minutes=D(draw(st.integers(0, 240))),
        reservation_minutes=D(draw(st.integers(0, 90))),
        max_current_a=draw(st.none() | st.sampled_from([D(16), D(32), D(63)])),
    )


def with_profile(profile: SessionProfile, **changes: Any) -> SessionProfile:
    fields = {name: getattr(profile, name) for name in SessionProfile.__dataclass_fields__}
    return SessionProfile(**{**fields, **changes})


def without_steps(tariff: Tariff) -> Tariff:
    raw = tariff.model_dump(mode="python", exclude={"min_price", "max_price"})
    for element in raw["elements"]:
        for component in element["price_components"]:
            component["step_size"] = 0
    return parse_tariff(raw)


def amounts(price: TariffPrice) -> list[D]:
    return [price.excl_vat, *(ln.excl_vat for ln in price.lines)] + [
        x for x in [price.incl_vat, *(ln.incl_vat for ln in price.lines)] if x is not None
    ]


@given(tariffs(), profiles())
def test_never_negative(tariff: Tariff, profile: SessionProfile) -> None:
    assert all(amount >= 0 for amount in amounts(price_session(tariff, profile)))


@given(tariffs(restricted=False), profiles(), st.decimals(min_value=0, max_value=40, places=3))
def test_monotone_in_energy(tariff: Tariff, profile: SessionProfile, more: D) -> None:
    if profile.reservation_expired:
        return
    base = price_session(tariff, profile)
    bigger = price_session(tariff, with_profile(profile, energy_kwh=profile.energy_kwh + more))
    assert bigger.excl_vat >= base.excl_vat


@given(
    tariffs(restricted=False),
    profiles(),
    st.integers(0, 300),
    st.sampled_from(["charging", "reservation"]),
)
def test_monotone_in_charging_and_reservation_time(
    tariff: Tariff, profile: SessionProfile, more: int, which: str
) -> None:
    if profile.reservation_expired and which == "charging":
        return
    name = f"{which}_minutes"
    base = price_session(tariff, profile)
    longer = price_session(tariff, with_profile(profile, **{name: getattr(profile, name) + more}))
    assert longer.excl_vat >= base.excl_vat


@given(tariffs(restricted=False), profiles(), st.integers(0, 300))
def test_monotone_in_parking_time_once_parking_began(
    tariff: Tariff, profile: SessionProfile, more: int
) -> None:
    if profile.reservation_expired:
        return
    parked = with_profile(profile, parking_minutes=max(profile.parking_minutes, D(1)))
    longer = with_profile(parked, parking_minutes=parked.parking_minutes + more)
    assert price_session(tariff, longer).excl_vat >= price_session(tariff, parked).excl_vat


def test_first_parking_minute_can_lower_the_price_as_the_spec_rounds_parking_instead() -> None:
    # mod_cdrs § step_size: charging is not rounded when parking follows. 21 min at 10/h with
    # a 1 h step costs 10.00; add 1 min of parking at 0.60/h (step 60 s): 3.50 + 0.01.
    tariff = parse_tariff(
        {
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [
                        {"type": "TIME", "price": 10, "step_size": 3600},
                        {"type": "PARKING_TIME", "price": "0.60", "step_size": 60},
                    ]
                }
            ],
        }
    )
    start = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
    alone = price_session(tariff, SessionProfile(start=start, charging_minutes=D(21)))
    parked = price_session(
        tariff, SessionProfile(start=start, charging_minutes=D(21), parking_minutes=D(1))
    )
    assert (alone.excl_vat, parked.excl_vat) == (D("10.00"), D("3.51"))


@given(tariffs(), profiles())
def test_step_size_never_rounds_down_and_adds_less_than_a_step(
    tariff: Tariff, profile: SessionProfile
) -> None:
    stepped = {ln.type: ln for ln in price_session(tariff, profile).lines}
    exact = {ln.type: ln for ln in price_session(without_steps(tariff), profile).lines}
    assert stepped.keys() == exact.keys()
    biggest_step = {"kWh": D(8), "h": D(8000) / 3600}  # the largest generated step, per unit
    for kind, line in exact.items():
        billed = stepped[kind]
        assert billed.quantity >= line.quantity and billed.excl_vat >= line.excl_vat
        if kind.unit:
            assert billed.quantity - line.quantity < biggest_step[kind.unit]


@given(tariffs(restricted=False), profiles())
def test_step_size_bills_at_least_what_was_used(tariff: Tariff, profile: SessionProfile) -> None:
    result = price_session(tariff, profile)
    energy, charging = result.line(LineType.ENERGY), result.line(LineType.TIME)
    if energy is not None:
        assert energy.quantity >= profile.energy_kwh
        assert energy.shown_quantity >= profile.energy_kwh
    if charging is not None:
        assert charging.shown_quantity * 60 >= profile.charging_minutes


@given(tariffs(), profiles())
def test_max_price_caps_and_min_price_floors(tariff: Tariff, profile: SessionProfile) -> None:
    result = price_session(tariff, profile)
    low, high = tariff.min_price, tariff.max_price
    if high is not None:
        assert result.excl_vat <= high.excl_vat
        if high.incl_vat is not None and result.incl_vat is not None:
            assert result.incl_vat <= high.incl_vat
    if low is not None and (high is None or low.excl_vat <= high.excl_vat):
        assert result.excl_vat >= low.excl_vat
    floor_incl = low.incl_vat if low is not None else None
    cap_incl = high.incl_vat if high is not None else None
    consistent = floor_incl is not None and (cap_incl is None or floor_incl <= cap_incl)
    if consistent and floor_incl is not None and result.incl_vat is not None:
        assert result.incl_vat >= floor_incl


@given(tariffs(), profiles())
def test_totals_are_the_lines_rounded_to_cents_unless_a_limit_applies(
    tariff: Tariff, profile: SessionProfile
) -> None:
    result = price_session(tariff, profile)
    if not (result.min_price_applied or result.max_price_applied):
        assert result.excl_vat == to_cents(sum((ln.excl_vat for ln in result.lines), D(0)))
    assert (result.incl_vat is None) is (not tariff.has_vat)


@given(tariffs(restricted=False), profiles(), st.sampled_from(ZONES))
def test_without_restrictions_the_clock_does_not_matter(
    tariff: Tariff, profile: SessionProfile, zone: Any
) -> None:
    moved = with_profile(profile, start=profile.start.astimezone(zone).replace(month=1, day=3))
    assert price_session(tariff, moved) == price_session(tariff, profile)
