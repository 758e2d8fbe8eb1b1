"""What the OCPI models enforce on what we send, and what they tolerate on what we receive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from chargebook.ocpi import v221, v230
from chargebook.ocpi.v221.types import dump_json, load_json

LAST_UPDATED = "2019-06-24T12:39:09Z"


def token(**overrides: Any) -> v221.Token:
    fields: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "CBK",
        "uid": "a1b2c3",
        "type": v221.TokenType.APP_USER,
        "contract_id": "NL-CBK-C00000001-X",
        "issuer": "chargebook",
        "valid": True,
        "whitelist": v221.WhitelistType.NEVER,
        "last_updated": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    return v221.Token(**(fields | overrides))


def connector(**overrides: Any) -> dict[str, Any]:
    fields = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "last_updated": LAST_UPDATED,
    }
    return fields | overrides


# --- lengths and character sets ----------------------------------------------------------


def test_a_too_long_uid_is_refused_before_sending() -> None:
    with pytest.raises(ValidationError) as error:
        token(uid="x" * 37)  # CiString(36)
    assert error.value.errors()[0]["loc"] == ("uid",)
    assert error.value.errors()[0]["type"] == "string_too_long"


def test_assigning_a_bad_value_is_refused_too() -> None:
    ours = token()
    with pytest.raises(ValidationError):
        ours.party_id = "CBKX"  # CiString(3)
    assert ours.party_id == "CBK"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uid", "caf\u00e9"),  # CiString is printable ASCII only
        ("uid", "a\tb"),
        ("issuer", "charge\nbook"),  # string forbids CR/LF/TAB
        ("issuer", "x" * 65),  # string(64)
        ("country_code", "NLD"),  # CiString(2)
    ],
)
def test_strings_keep_to_their_type(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        token(**{field: value})


def test_unicode_is_fine_in_a_string_field() -> None:
    assert token(issuer="Ladestation Köln").issuer == "Ladestation Köln"


def test_credentials_token_is_printable_ascii_without_spaces() -> None:
    role = {
        "role": "EMSP",
        "party_id": "CBK",
        "country_code": "NL",
        "business_details": {"name": "chargebook"},
    }
    v221.Credentials(token="abc-123", url="https://cb.example/versions", roles=[role])
    with pytest.raises(ValidationError):
        v221.Credentials(token="abc 123", url="https://cb.example/versions", roles=[role])
    with pytest.raises(ValidationError):  # each (role, party_id, country_code) once
        v221.Credentials(token="abc", url="https://cb.example/versions", roles=[role, role])


def test_coordinates_follow_the_regex() -> None:
    v221.GeoLocation(latitude="51.047599", longitude="-126.104965")
    with pytest.raises(ValidationError):  # 5 to 7 decimals
        v221.GeoLocation(latitude="51.0475", longitude="3.729944")


# --- enums -------------------------------------------------------------------------------


def test_closed_enums_refuse_unknown_values() -> None:
    with pytest.raises(ValidationError):
        token(whitelist="SOMETIMES")
    with pytest.raises(ValidationError):
        v221.EvsePatch(status="BROKEN", last_updated=LAST_UPDATED)


def test_open_enums_keep_unknown_values_and_type_known_ones() -> None:
    newer = v221.Connector.model_validate(connector(standard="SAE_J3400"))
    assert newer.standard == "SAE_J3400"
    assert newer.standard == v230.ConnectorType.SAE_J3400  # StrEnum equals its value
    assert v230.Connector.model_validate(connector(standard="MCS")).standard is (
        v230.ConnectorType.MCS
    )
    known = v221.Connector.model_validate(connector())
    assert known.standard is v221.ConnectorType.IEC_62196_T2


def test_session_status_reserved_is_read_as_reservation() -> None:
    # Pitfall: mod_sessions text says RESERVED, the enum value is RESERVATION.
    patch = v221.SessionPatch.model_validate({"status": "RESERVED", "last_updated": LAST_UPDATED})
    assert patch.status is v221.SessionStatus.RESERVATION
    assert load_json(dump_json(patch))["status"] == "RESERVATION"


# --- unknown fields ----------------------------------------------------------------------


def test_unknown_fields_are_accepted_and_kept() -> None:
    body = {
        "uid": "3256",
        "status": "AVAILABLE",
        "connectors": [connector(vendor_extension={"max_kw": Decimal("11.50")})],
        "last_updated": LAST_UPDATED,
        "floor": -1,
    }
    evse = v221.EVSE.from_ocpi_json(dump_json(body))
    assert evse.model_extra == {"floor": -1}
    assert evse.connectors[0].model_extra == {"vendor_extension": {"max_kw": Decimal("11.50")}}
    assert b'"vendor_extension":{"max_kw":11.50}' in evse.to_ocpi_json()
    assert load_json(evse.to_ocpi_json()) == load_json(dump_json(body))


# --- DateTime ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "written"),
    [
        (
            "2015-06-29T20:39:09Z",
            datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC),
            "2015-06-29T20:39:09Z",
        ),
        (
            "2015-06-29T20:39:09",
            datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC),
            "2015-06-29T20:39:09Z",
        ),
        (
            "2016-12-29T17:45:09.2",
            datetime(2016, 12, 29, 17, 45, 9, 200000, tzinfo=UTC),
            "2016-12-29T17:45:09.2Z",
        ),
        (
            "2018-01-01T01:08:01.123Z",
            datetime(2018, 1, 1, 1, 8, 1, 123000, tzinfo=UTC),
            "2018-01-01T01:08:01.123Z",
        ),
        (
            "2018-01-01T03:08:01+02:00",
            datetime(2018, 1, 1, 1, 8, 1, tzinfo=UTC),
            "2018-01-01T01:08:01Z",
        ),
    ],
)
def test_datetime_reads_utc_forms_and_writes_z(text: str, expected: datetime, written: str) -> None:
    period = v221.ExceptionalPeriod.model_validate({"period_begin": text, "period_end": text})
    assert period.period_begin == expected
    assert period.period_begin.tzinfo is UTC
    assert load_json(period.to_ocpi_json())["period_begin"] == written
    assert period.model_dump(mode="json")["period_begin"] == written


@pytest.mark.parametrize(
    "text", ["2015-06-29", "2025-03-23T23:59:99Z", "29-06-2015T20:39:09Z", 1435610349]
)
def test_datetime_refuses_what_is_not_rfc3339(text: object) -> None:
    with pytest.raises(ValidationError):
        v221.ExceptionalPeriod.model_validate({"period_begin": text, "period_end": text})


def test_a_naive_datetime_from_our_code_means_utc() -> None:
    ours = token(last_updated=datetime(2025, 1, 2, 3, 4, 5))
    assert ours.last_updated == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    shifted = token(last_updated=datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))))
    assert load_json(shifted.to_ocpi_json())["last_updated"] == "2025-01-02T03:04:05Z"


# --- numbers -----------------------------------------------------------------------------


def test_decimals_are_written_as_numbers_with_their_text() -> None:
    price = v221.Price(excl_vat=Decimal("0.25"), incl_vat=Decimal("2.00"))
    assert price.to_ocpi_json() == b'{"excl_vat":0.25,"incl_vat":2.00}'
    parsed = v221.Price.from_ocpi_json(b'{"excl_vat": 0.2500, "incl_vat": 1E+2}')
    assert parsed.excl_vat == Decimal("0.2500") and str(parsed.excl_vat) == "0.2500"
    assert parsed.to_ocpi_json() == b'{"excl_vat":0.2500,"incl_vat":1E+2}'


def test_pydantic_json_mode_still_writes_numbers_not_strings() -> None:
    price = v221.Price(excl_vat=Decimal("0.25"))
    assert price.model_dump_json(exclude_unset=True) == '{"excl_vat":0.25}'


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValidationError):
        v221.Price(excl_vat=Decimal("NaN"))


# --- PATCH bodies ------------------------------------------------------------------------


def test_patch_tells_sent_as_null_from_not_sent() -> None:
    patch = v221.TokenPatch.model_validate(
        {"visual_number": None, "valid": False, "last_updated": LAST_UPDATED}
    )
    assert patch.model_fields_set == {"visual_number", "valid", "last_updated"}
    assert patch.visual_number is None and "group_id" not in patch.model_fields_set
    assert load_json(patch.to_ocpi_json()) == {
        "visual_number": None,
        "valid": False,
        "last_updated": LAST_UPDATED,
    }


@pytest.mark.parametrize(
    "patch_model",
    [
        v221.LocationPatch,
        v221.EvsePatch,
        v221.ConnectorPatch,
        v221.TokenPatch,
        v221.SessionPatch,
        v230.SessionPatch,
        v230.BookingPatch,
        v230.BookingLocationPatch,
        v230.CalendarPatch,
    ],
)
def test_a_patch_needs_last_updated(patch_model: type[v221.OcpiModel]) -> None:
    with pytest.raises(ValidationError) as error:
        patch_model.model_validate({})
    assert [err["loc"] for err in error.value.errors()] == [("last_updated",)]


# --- object rules ------------------------------------------------------------------------


def test_publish_token_needs_an_identifying_field() -> None:
    v221.PublishTokenType(visual_number="12345-67", issuer="NewMotion")
    for fields in ({}, {"uid": "123"}, {"visual_number": "12345-67"}):
        with pytest.raises(ValidationError):
            v221.PublishTokenType(**fields)


def test_regular_hours_only_when_not_open_all_the_time() -> None:
    with pytest.raises(ValidationError):
        v221.Hours(twentyfourseven=False)
    with pytest.raises(ValidationError):
        v221.Hours(
            twentyfourseven=True,
            regular_hours=[{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}],
        )


def test_reservation_and_booking_elements_price_flat_and_time_only() -> None:
    energy = {"type": "ENERGY", "price": 0.25, "step_size": 1}
    with pytest.raises(ValidationError):
        v221.TariffElement.model_validate(
            {"price_components": [energy], "restrictions": {"reservation": "RESERVATION"}}
        )
    with pytest.raises(ValidationError):
        v230.TariffElement.model_validate(
            {"price_components": [energy], "restrictions": {"booking": "BOOKING"}}
        )


def test_booking_request_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError):
        v230.Period(start_date_time="2025-03-23T13:00:00Z", end_date_time=LAST_UPDATED)


def test_envelope_data_may_be_absent() -> None:
    answer = v221.Envelope[v221.Token].from_ocpi_json(
        b'{"status_code": 2001, "status_message": "Missing field", '
        b'"timestamp": "2015-06-30T21:59:59Z"}'
    )
    assert answer.data is None and not answer.is_success
    with pytest.raises(ValidationError):
        v221.Envelope[None](status_code=200, timestamp=LAST_UPDATED)
