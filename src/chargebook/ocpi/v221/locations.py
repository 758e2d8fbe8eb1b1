"""OCPI 2.2.1 Locations module: models (mod_locations.asciidoc); enums in location_enums.py.

Data owner: CPO. chargebook is the Receiver (the CPO PUTs and PATCHes Location, EVSE and
Connector objects) and pulls with GET. Spec: branch ``release-2.2.1-bugfixes``.

Open enums: Capability, ConnectorType, Facility, ImageCategory, ParkingRestriction,
ParkingType and EnvironmentalImpactCategory are closed enums in 2.2.1, but OCPI 2.3.0
declares them OpenEnum, and 2.2.1 CPOs already send the newer values (e.g. ``SAE_J3400``).
Refusing a whole Location for one unknown connector type would hide a charger, so fields
of these types take any string; known values parse to the enum member.

``evses`` and ``connectors`` are typed ``Sequence`` so 2.3.0 can narrow them to its own
EVSE/Connector subclasses (a type-safe override); pydantic still produces lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from chargebook.ocpi.v221.location_enums import (
    Capability,
    ConnectorFormat,
    ConnectorType,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    Facility,
    ImageCategory,
    OpenCapability,
    OpenConnectorType,
    OpenEnvironmentalImpactCategory,
    OpenFacility,
    OpenImageCategory,
    OpenParkingRestriction,
    OpenParkingType,
    ParkingRestriction,
    ParkingType,
    PowerType,
    Status,
)
from chargebook.ocpi.v221.tokens import OpenTokenType
from chargebook.ocpi.v221.types import CiString2 as CountryCode
from chargebook.ocpi.v221.types import CiString3 as PartyId
from chargebook.ocpi.v221.types import (
    CiString4,
    CiString36,
    CiString48,
    DateTime,
    DisplayText,
    Number,
    OcpiModel,
    String3,
    String4,
    String10,
    String16,
    String45,
    String64,
    String100,
    String255,
    Url,
)

# mod_locations.asciidoc § GeoLocation class: WGS 84 decimal degrees as strings, 5-7 decimals.
Latitude = Annotated[str, StringConstraints(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, StringConstraints(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
# mod_locations.asciidoc § RegularHours class: "HH:MM", 24h, leading zeros.
HourMinute = Annotated[str, StringConstraints(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]


class GeoLocation(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § GeoLocation class."""

    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(GeoLocation):
    """OCPI 2.2.1 mod_locations.asciidoc § AdditionalGeoLocation class."""

    name: DisplayText | None = None


class Image(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § Image class."""

    url: Url
    thumbnail: Url | None = None
    category: OpenImageCategory
    type: CiString4  # gif, jpeg, png, svg
    width: int | None = Field(default=None, ge=0, le=99999)  # int(5)
    height: int | None = Field(default=None, ge=0, le=99999)


class BusinessDetails(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § BusinessDetails class."""

    name: String100
    website: Url | None = None
    logo: Image | None = None


class EnergySource(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § EnergySource class."""

    source: EnergySourceCategory
    percentage: Number = Field(ge=0, le=100)


class EnvironmentalImpact(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § EnvironmentalImpact class (amount in g/kWh)."""

    category: OpenEnvironmentalImpactCategory
    amount: Number


class EnergyMix(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § EnergyMix class."""

    is_green_energy: bool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String64 | None = None
    energy_product_name: String64 | None = None


class ExceptionalPeriod(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § ExceptionalPeriod class (UTC)."""

    period_begin: DateTime
    period_end: DateTime


class RegularHours(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § RegularHours class (local time).

    ``period_end`` "must be later than" ``period_begin`` is not enforced: the regex forbids
    ``24:00``, so CPOs write a window that ends at midnight as ``00:00`` (see the docs).
    """

    weekday: int = Field(ge=1, le=7)  # 1 = Monday ... 7 = Sunday
    period_begin: HourMinute
    period_end: HourMinute


class Hours(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § Hours class."""

    twentyfourseven: bool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _regular_hours_only_when_not_247(self) -> Hours:
        # regular_hours: only used if twentyfourseven=false, and then holds at least one.
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours must not be set when twentyfourseven is true")
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("regular_hours needs at least one entry when not twentyfourseven")
        return self


class PublishTokenType(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § PublishTokenType class."""

    uid: CiString36 | None = None
    type: OpenTokenType | None = None
    visual_number: String64 | None = None
    issuer: String64 | None = None
    group_id: CiString36 | None = None

    @model_validator(mode="after")
    def _identifies_a_token(self) -> PublishTokenType:
        # At least one of uid, visual_number, group_id SHALL be set; uid needs type;
        # visual_number needs issuer.
        if self.uid is None and self.visual_number is None and self.group_id is None:
            raise ValueError("one of uid, visual_number or group_id must be set")
        if self.uid is not None and self.type is None:
            raise ValueError("type must be set when uid is set")
        if self.visual_number is not None and self.issuer is None:
            raise ValueError("issuer must be set when visual_number is set")
        return self


class StatusSchedule(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § StatusSchedule class (informational only)."""

    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


class Connector(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § Connector Object."""

    id: CiString36  # unique within its EVSE only
    standard: OpenConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: int  # V, line to neutral for AC_3_PHASE
    max_amperage: int  # A
    max_electric_power: int | None = None  # W
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: Url | None = None
    last_updated: DateTime


class EVSE(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § EVSE Object. Never deleted: status REMOVED."""

    uid: CiString36
    evse_id: CiString48 | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[OpenCapability] | None = None
    connectors: Sequence[Connector] = Field(min_length=1)
    floor_level: String4 | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String16 | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[OpenParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime


class Location(OcpiModel):
    """OCPI 2.2.1 mod_locations.asciidoc § Location Object.

    Erratum (2.2.1-d2 bugfixes): ``address`` is string(255) and ``state`` string(45);
    earlier 2.2.1 documents said 45 and 20.
    """

    country_code: CountryCode
    party_id: PartyId
    id: CiString36
    publish: bool
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String255 | None = None
    address: String255
    city: String45
    postal_code: String10 | None = None
    state: String45 | None = None
    country: String3  # ISO 3166-1 alpha-3
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: OpenParkingType | None = None
    evses: Sequence[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[OpenFacility] | None = None
    time_zone: String255  # IANA tz name; tariff restrictions are evaluated in it
    opening_times: Hours | None = None
    charging_when_closed: bool | None = True
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


class ConnectorPatch(OcpiModel):
    """PATCH body for a Connector: OCPI 2.2.1 mod_locations.asciidoc § PATCH Method.

    Every field is optional except ``last_updated`` (a PATCH SHALL contain it). A field set
    to null is in ``model_fields_set`` with value None; a field not sent is absent from it.
    """

    id: CiString36 | None = None
    standard: OpenConnectorType | None = None
    format: ConnectorFormat | None = None
    power_type: PowerType | None = None
    max_voltage: int | None = None
    max_amperage: int | None = None
    max_electric_power: int | None = None
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: Url | None = None
    last_updated: DateTime


class EvsePatch(OcpiModel):
    """PATCH body for an EVSE: OCPI 2.2.1 mod_locations.asciidoc § PATCH Method."""

    uid: CiString36 | None = None
    evse_id: CiString48 | None = None
    status: Status | None = None
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[OpenCapability] | None = None
    connectors: Sequence[Connector] | None = None
    floor_level: String4 | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String16 | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[OpenParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime


class LocationPatch(OcpiModel):
    """PATCH body for a Location: OCPI 2.2.1 mod_locations.asciidoc § PATCH Method."""

    country_code: CountryCode | None = None
    party_id: PartyId | None = None
    id: CiString36 | None = None
    publish: bool | None = None
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String255 | None = None
    address: String255 | None = None
    city: String45 | None = None
    postal_code: String10 | None = None
    state: String45 | None = None
    country: String3 | None = None
    coordinates: GeoLocation | None = None
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: OpenParkingType | None = None
    evses: Sequence[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[OpenFacility] | None = None
    time_zone: String255 | None = None
    opening_times: Hours | None = None
    charging_when_closed: bool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


__all__ = [
    "AdditionalGeoLocation",
    "BusinessDetails",
    "Capability",
    "Connector",
    "ConnectorFormat",
    "ConnectorPatch",
    "ConnectorType",
    "EVSE",
    "EnergyMix",
    "EnergySource",
    "EnergySourceCategory",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "EvsePatch",
    "ExceptionalPeriod",
    "Facility",
    "GeoLocation",
    "HourMinute",
    "Hours",
    "Image",
    "ImageCategory",
    "Latitude",
    "Location",
    "LocationPatch",
    "Longitude",
    "OpenCapability",
    "OpenConnectorType",
    "OpenEnvironmentalImpactCategory",
    "OpenFacility",
    "OpenImageCategory",
    "OpenParkingRestriction",
    "OpenParkingType",
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "PublishTokenType",
    "RegularHours",
    "Status",
    "StatusSchedule",
]
