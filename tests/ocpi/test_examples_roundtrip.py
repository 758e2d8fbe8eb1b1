"""Every official OCPI example parses into its model and serializes back unchanged.

Examples: tests/data/ocpi-examples (copied unchanged from ocpi/ocpi; see its README).
Numbers are compared by their JSON text, so ``2.00`` written back as ``2.0`` fails.

A few examples break the spec text. The spec wins: for those files the test checks that
the raw example is refused at exactly the listed places, then applies the listed minimal
correction and round-trips the result. docs/ocpi-conformance.md lists the same cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from pydantic import TypeAdapter, ValidationError, create_model

from chargebook.ocpi import v221, v230
from chargebook.ocpi.v221.types import dump_json, load_json

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples"
FOLDERS: dict[str, ModuleType] = {"2.2.1": v221, "2.3.0-bookings": v230}

Target = Callable[[ModuleType], Any]


def excerpt(field_name: str, target: Target) -> Target:
    """A Location excerpt that shows one field, e.g. ``{"energy_mix": {...}}``."""

    def build(m: ModuleType) -> Any:
        return create_model(
            f"LocationExcerpt_{field_name}", __base__=m.OcpiModel, **{field_name: (target(m), ...)}
        )

    return build


# File name -> the model it holds, for the files both folders share.
SHARED: dict[str, Target] = {
    "cdr_example.json": lambda m: m.CDR,
    "credentials_example.json": lambda m: m.Credentials,
    "credentials_example2.json": lambda m: m.Credentials,
    "credentials_example3.json": lambda m: m.Credentials,
    "credentials_example4.json": lambda m: m.Credentials,
    "location_energymix_example_complete.json": excerpt("energy_mix", lambda m: m.EnergyMix),
    "location_energymix_example_energy_provider.json": excerpt("energy_mix", lambda m: m.EnergyMix),
    "location_energymix_example_simple.json": excerpt("energy_mix", lambda m: m.EnergyMix),
    "location_example.json": lambda m: m.Location,
    "location_example_parking_garage_opening_hours.json": lambda m: m.Location,
    "location_example_uc2_destination_charger.json": lambda m: m.Location,
    "location_example_uc3_destination_charger_not_published.json": lambda m: m.Location,
    "location_example_uc4_limited_visibility.json": lambda m: m.Location,
    "location_example_uc5_home_charge_point.json": lambda m: m.Location,
    "location_hours_247_open_exception_closing.json": lambda m: m.Hours,
    "location_hours_opening_hours_with_exceptional_closing.json": lambda m: m.Hours,
    "location_hours_opening_hours_with_exceptional_opening.json": lambda m: m.Hours,
    "location_patch_example_location.json": lambda m: m.LocationPatch,  # PATCH .../1012
    "location_patch_example_remove_evse.json": lambda m: m.EvsePatch,  # PATCH .../1012/3255
    "location_patch_example_status.json": lambda m: m.EvsePatch,  # PATCH .../1012/3255
    "location_patch_example_tariff.json": lambda m: m.ConnectorPatch,  # .../1012/3255/2
    "location_put_example_add_evse.json": lambda m: m.EVSE,  # PUT .../1012/3256
    "location_regularhours_example.json": excerpt("opening_times", lambda m: m.Hours),
    "session_example_1_simple_start.json": lambda m: m.Session,
    "session_example_2_short_finished.json": lambda m: m.Session,
    "session_patch_example_charging_period.json": lambda m: m.SessionPatch,
    "session_patch_example_total_cost.json": lambda m: m.SessionPatch,
    "tariff_1_simple_2hour.json": lambda m: m.Tariff,
    "tariff_2_alt_text.json": lambda m: m.Tariff,
    "tariff_3_alt_url.json": lambda m: m.Tariff,
    "tariff_4_complex.json": lambda m: m.Tariff,
    "tariff_5_free_of_charge.json": lambda m: m.Tariff,
    "tariff_6_025kwh_start_max_price.json": lambda m: m.Tariff,
    "tariff_8_simple_025kwh.json": lambda m: m.Tariff,
    "tariff_9_025kwh_start.json": lambda m: m.Tariff,
    "tariff_10_025kwh_parking_start.json": lambda m: m.Tariff,
    "tariff_11_not_possible_alt_text.json": lambda m: m.Tariff,
    "tariff_12_025kwh_min_price.json": lambda m: m.Tariff,
    "tariff_13_simple_3hour_5parking.json": lambda m: m.Tariff,
    "tariff_14_step_size.json": lambda m: m.Tariff,
    "tariff_15_reservation_5_euro_per_hour.json": lambda m: m.Tariff,
    "tariff_16_reservation_2_euro_fee_5_euro_per_hour.json": lambda m: m.Tariff,
    "tariff_17_reservation_with_expire_fee.json": lambda m: m.Tariff,
    "tariff_18_reservation_with_expire_time.json": lambda m: m.Tariff,
    "tariff_put_example.json": lambda m: m.Tariff,
    "tariffrestriction_example_max_duration.json": lambda m: m.Tariff,
    "tariffrestriction_example_max_power.json": lambda m: m.Tariff,
    "token_example_1_app_user.json": lambda m: m.Token,
    "token_example_2_full_rfid.json": lambda m: m.Token,
    "token_patch_example.json": lambda m: m.TokenPatch,
    "token_put_example.json": lambda m: m.Token,
    "transport_and_format_get_token_example.json": lambda m: m.Envelope[m.Token],
    "transport_and_format_get_token_list_example.json": lambda m: m.Envelope[list[m.Token]],
    "transport_and_format_version_details_example.json": lambda m: m.Envelope[m.VersionDetails],
    "transport_and_format_version_info_example.json": lambda m: m.Envelope[list[m.Version]],
    "type_displaytext_example.json": lambda m: m.DisplayText,
    "version_details_example.json": lambda m: m.VersionDetails,
    "version_details_example2.json": lambda m: m.VersionDetails,
    "versions_info_example.json": lambda m: list[m.Version],
}

ONLY_230: dict[str, Target] = {
    "booking_example.json": lambda m: m.Booking,
    "booking_location_example.json": lambda m: m.BookingLocation,
    "booking_location_patch_example_calendar.json": lambda m: m.CalendarPatch,  # .../BL0123/C0123
    "booking_location_patch_example_terms.json": lambda m: m.BookingLocationPatch,
    "booking_patch_example_evse_uid.json": lambda m: m.BookingPatch,
    "booking_patch_example_status_update.json": lambda m: m.BookingPatch,
    "booking_request_patch_example_timeslot.json": lambda m: m.BookingRequestPatch,
    "booking_request_patch_example_tokens.json": lambda m: m.BookingRequestPatch,
    "tariff_19_simple_north_american_exclusive.json": lambda m: m.Tariff,
    "tariff_20_simple_north_american_inclusive.json": lambda m: m.Tariff,
}

TARGETS: dict[str, dict[str, Target]] = {
    "2.2.1": SHARED,
    "2.3.0-bookings": {**SHARED, **ONLY_230},
}

DELETE = object()
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecConflict:
    """An example that breaks the spec text: where it is refused, and the fix."""

    why: str
    refused_at: frozenset[Path_]
    fix: tuple[tuple[Path_, Any], ...] = field(default=())


ADD_EVSE = SpecConflict(
    why="physical_reference is string(16), not a number; a Connector needs power_type, "
    "max_voltage, max_amperage and last_updated",
    refused_at=frozenset(
        {
            ("physical_reference",),
            ("connectors", 0, "power_type"),
            ("connectors", 0, "max_voltage"),
            ("connectors", 0, "max_amperage"),
            ("connectors", 0, "last_updated"),
        }
    ),
    fix=(
        (("physical_reference",), "3"),
        (("connectors", 0, "power_type"), "AC_3_PHASE"),
        (("connectors", 0, "max_voltage"), 220),
        (("connectors", 0, "max_amperage"), 16),
        (("connectors", 0, "last_updated"), "2019-06-24T12:39:09Z"),
    ),
)
TARIFF_PUT = SpecConflict(
    why="Tariff.last_updated is required",
    refused_at=frozenset({("last_updated",)}),
    fix=((("last_updated",), "2015-06-29T20:39:09Z"),),
)
_REQUESTS = [("booking_requests", i, "booking_request") for i in (0, 1)]

CONFLICTS: dict[str, dict[str, SpecConflict]] = {
    "2.2.1": {
        "location_put_example_add_evse.json": ADD_EVSE,
        "tariff_put_example.json": TARIFF_PUT,
    },
    "2.3.0-bookings": {
        "location_put_example_add_evse.json": ADD_EVSE,
        "tariff_put_example.json": TARIFF_PUT,
        "cdr_example.json": SpecConflict(
            why="a 2.3.0 Tariff (also inside a CDR) requires tax_included",
            refused_at=frozenset({("tariffs", 0, "tax_included")}),
            fix=((("tariffs", 0, "tax_included"), "NO"),),
        ),
        "booking_example.json": SpecConflict(
            why="party_id is CiString(3) ('INF12', 'INFOO'); BookingRequest requires "
            "booking_location_id (new in 1.1)",
            refused_at=frozenset(
                {("party_id",), ("booking_tokens", 0, "party_id")}
                | {(*r, "party_id") for r in _REQUESTS}
                | {(*r, "booking_location_id") for r in _REQUESTS}
            ),
            fix=(
                (("party_id",), "INF"),
                (("booking_tokens", 0, "party_id"), "INF"),
                *(((*r, "party_id"), "INF") for r in _REQUESTS),
                *(((*r, "booking_location_id"), "12345") for r in _REQUESTS),
            ),
        ),
        "booking_location_example.json": SpecConflict(
            why="second 99 is not a DateTime; evse_position is a list (EVSEPosition *)",
            refused_at=frozenset(
                {("booking_option", "evse_position")}
                | {("calendars", i, "end_before") for i in (0, 1)}
                | {("calendars", i, "available_timeslots", 0, "end_date_time") for i in (0, 1)}
            ),
            fix=(
                (("booking_option", "evse_position"), ["LEFT"]),
                *((("calendars", i, "end_before"), "2025-03-23T23:59:59Z") for i in (0, 1)),
                *(
                    (
                        ("calendars", i, "available_timeslots", 0, "end_date_time"),
                        "2025-03-23T08:59:59Z",
                    )
                    for i in (0, 1)
                ),
            ),
        ),
        "booking_location_patch_example_calendar.json": SpecConflict(
            why="Timeslot keys carry a trailing space ('start_date_time '), so the required "
            "start_date_time/end_date_time are missing; second 99 is not a DateTime",
            refused_at=frozenset(
                {
                    ("available_timeslots", 0, "start_date_time"),
                    ("available_timeslots", 0, "end_date_time"),
                }
            ),
            fix=(
                (("available_timeslots", 0, "start_date_time "), DELETE),
                (("available_timeslots", 0, "end_date_time "), DELETE),
                (("available_timeslots", 0, "start_date_time"), "2025-03-23T00:00:00Z"),
                (("available_timeslots", 0, "end_date_time"), "2025-03-23T08:59:59Z"),
            ),
        ),
    },
}


@dataclass(frozen=True)
class Num:
    """A JSON number compared by its text: 2.00 and 2.0 differ, as they do on the wire."""

    text: str


def as_written(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Num, parse_int=Num)


def write_back(document: Any) -> bytes:
    """JSON text of an ``as_written`` document, every number with its original text."""

    def number(value: object) -> orjson.Fragment:
        if isinstance(value, Num):
            return orjson.Fragment(value.text)
        raise TypeError(type(value).__name__)

    return orjson.dumps(document, default=number, option=orjson.OPT_PASSTHROUGH_DATACLASS)


def apply_fix(document: Any, fix: tuple[tuple[Path_, Any], ...]) -> Any:
    for path, value in fix:
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        if value is DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return document


def cases() -> list[Any]:
    return [
        pytest.param(folder, path.name, id=f"{folder}/{path.name}")
        for folder in FOLDERS
        for path in sorted((EXAMPLES / folder).glob("*.json"))
    ]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_example_file_has_a_model(folder: str) -> None:
    on_disk = {path.name for path in (EXAMPLES / folder).glob("*.json")}
    assert on_disk == set(TARGETS[folder])
    assert set(CONFLICTS[folder]) <= on_disk


@pytest.mark.parametrize(("folder", "name"), cases())
def test_example_round_trips(folder: str, name: str) -> None:
    module = FOLDERS[folder]
    adapter: TypeAdapter[Any] = TypeAdapter(TARGETS[folder][name](module))
    raw = (EXAMPLES / folder / name).read_bytes()
    document = load_json(raw)

    conflict = CONFLICTS[folder].get(name)
    if conflict is not None:
        with pytest.raises(ValidationError) as refused:
            adapter.validate_python(document)
        assert {err["loc"] for err in refused.value.errors()} == conflict.refused_at
        raw = write_back(apply_fix(as_written(raw), conflict.fix))
        document = load_json(raw)

    parsed = adapter.validate_python(document)
    assert as_written(dump_json(parsed)) == as_written(raw)
