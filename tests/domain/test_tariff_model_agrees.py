"""The engine's Tariff (``domain/tariff_model.py``) accepts exactly what the OCPI models
(``ocpi/v221/tariffs.py``, ``ocpi/v230/tariffs.py``) accept.

Hypothesis builds valid tariff JSON for each edition, then breaks it a little (a field
dropped, or given a value from a pool of near misses: negative amounts, 24:00, a 31st of
February, a string too long, a control character, the other edition's shapes …) and asks
both. The domain model's two documented widenings are left out of the generated cases and
pinned by their own test: the identity fields may be absent (or null), and ``energy_mix``
is not read.
"""

from __future__ import annotations

import copy
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from chargebook.domain.tariff_model import InvalidTariff, parse_tariff
from chargebook.ocpi import v221, v230

EDITIONS: dict[str, type[BaseModel]] = {"2.2.1": v221.Tariff, "2.3.0": v230.Tariff}
IDENTITY = {"country_code", "party_id", "id", "last_updated"}
DIMENSIONS = ["ENERGY", "FLAT", "TIME", "PARKING_TIME"]
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]

amounts = st.decimals(min_value=0, max_value=100, places=4)
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
dates = st.dates().filter(lambda d: 1000 <= d.year <= 2999).map(lambda d: d.isoformat())
date_times = st.sampled_from(
    ["2026-01-01T00:00:00Z", "2026-06-30T12:30:00.25Z", "2026-03-29T01:00:00+01:00",
     "2026-12-31T23:59:59"]
)

NEAR_MISSES: list[Any] = [
    None, -1, D("-0.01"), D("0"), D("1.5"), 7, "7", "1.5", "abc", "", "NaN", "Infinity",
    True, [], {}, ["MONDAY"], "MONDAY", "FUNDAY", "FLAT", "ENERGY", "RESERVATION", "BOOKING",
    "YES", "N/A", "maybe", "24:00", "23:59", "25:00", "7:30", "2026-02-31", "2026-13-01",
    "2026-01-01", "0999-01-01", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+02:00",
    "2026-01-01 00:00:00", "DE", "DEU", "EUR", "EU", "EURO", "E\nR", "x" * 37, "é" * 3,
    "x" * 513, "https://cpo.example/tariffs", "https://cpo.example/a b", "u" * 256,
    {"excl_vat": D("1")}, {"excl_vat": D("-1")}, {"before_taxes": D("1")},
    {"before_taxes": D("1"), "after_taxes": D("-1")}, {"language": "en", "text": "hi"},
    {"type": "ENERGY", "price": D("0.3"), "step_size": 1},
    {"type": "TIME", "price": D("2"), "step_size": 60},
]


@st.composite
def restrictions(draw: st.DrawFn, flat_and_time_only: bool, edition: str) -> dict[str, Any]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "start_time": clock, "end_time": clock, "start_date": dates, "end_date": dates,
        "min_kwh": amounts, "max_kwh": amounts, "min_current": amounts, "max_current": amounts,
        "min_power": amounts, "max_power": amounts,
        "min_duration": st.integers(0, 86_400), "max_duration": st.integers(0, 86_400),
        "day_of_week": st.lists(st.sampled_from(DAYS), unique=True),
    }
    if flat_and_time_only:
        fields["reservation"] = st.sampled_from(["RESERVATION", "RESERVATION_EXPIRES"])
        if edition == "2.3.0":
            fields["booking"] = st.sampled_from(
                ["BOOKING", "BOOKING_EXPIRES", "BOOKING_CANCELLATION_FEES", "BOOKING_OVERTIME"])
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=4))
    return {name: draw(fields[name]) for name in chosen}


@st.composite
def elements(draw: st.DrawFn, edition: str) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=3, unique=True))
    components = []
    for kind in kinds:
        component: dict[str, Any] = {
            "type": kind, "price": draw(amounts), "step_size": draw(st.integers(0, 3600))}
        if draw(st.booleans()):
            component["vat"] = draw(amounts)
        components.append(component)
    element: dict[str, Any] = {"price_components": components}
    if draw(st.booleans()):
        flat_and_time_only = set(kinds) <= {"FLAT", "TIME"}
        element["restrictions"] = draw(restrictions(flat_and_time_only, edition))
    return element


def _limit(edition: str, low: D, high: D | None) -> dict[str, Any]:
    if edition == "2.3.0":
        return {"before_taxes": low} | ({} if high is None else {"after_taxes": high})
    return {"excl_vat": low} | ({} if high is None else {"incl_vat": high})


@st.composite
def tariffs(draw: st.DrawFn, edition: str) -> dict[str, Any]:
    tariff: dict[str, Any] = {
        "country_code": "DE", "party_id": draw(st.sampled_from(["ABC", "SIM", "X"])),
        "id": draw(st.text("ABCDEFGHIJ0123456789-_", min_size=1, max_size=36)),
        "currency": draw(st.sampled_from(["EUR", "CHF", "USD"])),
        "elements": draw(st.lists(elements(edition), min_size=1, max_size=3)),
        "last_updated": draw(date_times),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "type": st.sampled_from(["AD_HOC_PAYMENT", "PROFILE_CHEAP", "REGULAR"]),
        "tariff_alt_text": st.lists(
            st.fixed_dictionaries({"language": st.sampled_from(["en", "de"]),
                                   "text": st.text(max_size=40).filter(str.isprintable)}),
            max_size=2),
        "tariff_alt_url": st.just("https://cpo.example/tariffs/1"),
        "start_date_time": date_times, "end_date_time": date_times,
        "min_price": st.builds(lambda a, b: _limit(edition, a, b), amounts, st.none() | amounts),
        "max_price": st.builds(lambda a, b: _limit(edition, a, b), amounts, st.none() | amounts),
    }
    if edition == "2.3.0":
        tariff["tax_included"] = draw(st.sampled_from(["YES", "NO", "N/A"]))
        optional["preauthorize_amount"] = amounts
    for name in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        tariff[name] = draw(optional[name])
    return tariff


def _places(node: Any, inside_top: bool = True) -> list[tuple[Any, Any]]:
    """Every (container, key) of a JSON tree, identity fields of the top object left out."""
    found: list[tuple[Any, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if not (inside_top and key in IDENTITY):
            found.append((node, key))
        if isinstance(value, dict | list):
            found.extend(_places(value, inside_top=False))
    return found


@st.composite
def near_valid(draw: st.DrawFn, edition: str) -> dict[str, Any]:
    tariff = copy.deepcopy(draw(tariffs(edition)))
    for _ in range(draw(st.integers(1, 2))):
        places = _places(tariff)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        if isinstance(container, dict) and draw(st.booleans()):
            del container[key]
        else:
            container[key] = copy.deepcopy(draw(st.sampled_from(NEAR_MISSES)))
    return tariff


def _verdicts(edition: str, tariff: dict[str, Any]) -> tuple[str | None, str | None]:
    """(the OCPI model's refusal, the engine's refusal); None where it accepts."""
    try:
        EDITIONS[edition].model_validate(copy.deepcopy(tariff))
        ocpi = None
    except ValidationError as exc:
        ocpi = str(exc.errors()[0])
    try:
        parse_tariff(copy.deepcopy(tariff), edition)
        engine = None
    except InvalidTariff as exc:
        engine = exc.message
    return ocpi, engine


@pytest.mark.parametrize("edition", sorted(EDITIONS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_both_accept_every_valid_tariff(edition: str, data: st.DataObject) -> None:
    tariff = data.draw(tariffs(edition))
    assert _verdicts(edition, tariff) == (None, None), tariff


@pytest.mark.parametrize("edition", sorted(EDITIONS))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_both_accept_or_both_refuse_a_near_valid_tariff(edition: str, data: st.DataObject) -> None:
    tariff = data.draw(near_valid(edition))
    ocpi, engine = _verdicts(edition, tariff)
    assert (ocpi is None) == (engine is None), f"OCPI: {ocpi}\nengine: {engine}\n{tariff}"


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_the_engine_alone_reads_a_tariff_without_its_identity(edition: str) -> None:
    """The documented widening: the terms price without ``country_code``, ``party_id``,
    ``id`` and ``last_updated`` (a hand-written tariff); the OCPI model wants them."""
    terms: dict[str, Any] = {
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "TIME", "price": D("2"), "step_size": 60}]}],
    }
    if edition == "2.3.0":
        terms["tax_included"] = "NO"
    ocpi, engine = _verdicts(edition, terms)
    assert ocpi is not None and engine is None
