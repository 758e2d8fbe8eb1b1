"""Every unset optional field sent as ``null`` (as field CPOs do, whole objects of nulls
included) is read as unset, in OCPI 2.2.1 and 2.3.0: the official examples, with nulls
added everywhere the model allows, validate to the same objects as without them. A required
field sent as null is still refused, and PATCH bodies keep their nulls."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

from chargebook.cpo_sim.quirks import with_explicit_nulls
from chargebook.ocpi import v221, v230
from chargebook.ocpi.v221.types import dump_json, load_json, without_nulls

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples"
CASES = [
    (edition, folder, name, model)
    for edition, folder in ((v221, "2.2.1"), (v230, "2.3.0-bookings"))
    for name, model in (
        ("location_example.json", "Location"),
        ("location_example_uc2_destination_charger.json", "Location"),
        ("tariff_4_complex.json", "Tariff"),
        ("tariff_13_simple_3hour_5parking.json", "Tariff"),
        ("session_example_2_short_finished.json", "Session"),
    )
] + [(v221, "2.2.1", "cdr_example.json", "CDR")]  # 2.3.0's CDR example needs a correction


def nulled(model: Any) -> dict[str, Any]:
    """The object as a field CPO writes it: every unset optional field null."""
    return load_json(dump_json(with_explicit_nulls(model)))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("edition", "folder", "name", "model"), CASES)
def test_nulls_everywhere_read_as_unset(edition: ModuleType, folder: str, name: str, model: str) -> None:
    cls = getattr(edition, model)
    original = cls.model_validate(load_json((EXAMPLES / folder / name).read_bytes()))
    wire = nulled(original)
    assert None in _leaves(wire)  # the test data really carries nulls
    again = cls.model_validate(wire)
    # An object of nulls (a tariff element's restrictions) is an empty one: no restriction.
    assert _no_empty(again.model_dump(exclude_unset=True)) == original.model_dump(exclude_unset=True)
    assert again.model_fields_set == original.model_fields_set


def test_the_location_fields_seen_as_null_in_the_field() -> None:
    raw = load_json((EXAMPLES / "2.2.1" / "location_example.json").read_bytes())
    del raw["evses"][1]["floor_level"]
    wire = nulled(v221.Location.model_validate(raw))
    evse = wire["evses"][1]
    assert evse["floor_level"] is None and evse["status_schedule"] is None and evse["images"] is None
    assert wire["publish_allowed_to"] is None and wire["images"] is None
    parsed = v221.Location.model_validate(wire)
    assert parsed.evses is not None and parsed.evses[1].floor_level is None
    assert "floor_level" not in parsed.evses[1].model_fields_set


def test_a_restrictions_object_full_of_nulls_is_an_empty_one() -> None:
    tariff = v221.Tariff.model_validate(load_json((EXAMPLES / "2.2.1" / "tariff_1_simple_2hour.json").read_bytes()))
    wire = nulled(tariff)
    restrictions = wire["elements"][0]["restrictions"]
    assert restrictions and set(restrictions.values()) == {None}
    parsed = v221.Tariff.model_validate(wire)
    assert parsed.elements[0].restrictions is not None
    assert parsed.elements[0].restrictions.model_fields_set == set()
    assert without_nulls(wire)["elements"][0]["restrictions"] == {}


def test_a_required_field_sent_as_null_is_still_refused() -> None:
    body = load_json((EXAMPLES / "2.2.1" / "location_example.json").read_bytes())
    body["coordinates"] = None
    with pytest.raises(ValidationError) as caught:
        v221.Location.model_validate(body)
    assert caught.value.errors()[0]["loc"] == ("coordinates",)


def test_a_patch_keeps_its_nulls() -> None:
    patch = v230.TokenPatch.model_validate({"visual_number": None, "last_updated": "2024-01-01T00:00:00Z"})
    assert "visual_number" in patch.model_fields_set


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _no_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_empty(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [_no_empty(v) for v in value]
    return value
