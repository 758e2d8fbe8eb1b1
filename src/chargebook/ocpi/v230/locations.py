"""OCPI 2.3.0 Locations module (mod_locations.asciidoc): what changed from 2.2.1.

Spec: branch ``2.3.0/release/bookings`` (identical to tag ``v2.3.0`` for this file).

Changes from 2.2.1:

* Location gains ``parking_places`` (Parking objects) and ``help_phone``.
* EVSE gains ``parking`` (EVSEParking) and ``accepted_service_providers``.
* Connector gains ``capabilities`` (ConnectorCapability).
* ConnectorType gains ``MCS`` and ``SAE_J3400``; ParkingRestriction gains ``EMPLOYEES``,
  ``TAXIS`` and ``TENANTS``; VehicleType, ParkingDirection and EVSEPosition are new.

Kept from the 2.2.1 errata although the 2.3.0 edition 1 text still says 45/20: Location
``address`` is string(255) and ``state`` string(45) (fixed again in 2.3.0 edition 2).

``EVSE.parking`` also takes a bare parking id string: the official 2.3.0 examples send
``"parking": ["1", "2"]`` instead of EVSEParking objects, and the spec lets receivers
that are not NAPs ignore Parking data, so refusing a Location over it would be wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from chargebook.ocpi.v221 import locations as v221
from chargebook.ocpi.v221.location_enums import (
    Capability,
    ConnectorFormat,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    Facility,
    ImageCategory,
    OpenCapability,
    OpenEnvironmentalImpactCategory,
    OpenFacility,
    OpenImageCategory,
    OpenParkingType,
    ParkingType,
    PowerType,
    Status,
)
from chargebook.ocpi.v221.locations import (
    AdditionalGeoLocation,
    BusinessDetails,
    EnergyMix,
    EnergySource,
    EnvironmentalImpact,
    ExceptionalPeriod,
    GeoLocation,
    HourMinute,
    Hours,
    Image,
    Latitude,
    Longitude,
    PublishTokenType,
    RegularHours,
    StatusSchedule,
)
from chargebook.ocpi.v230.types import (
    CiString,
    CiString25,
    CiString36,
    Number,
    OcpiModel,
    String12,
    String50,
    String255,
    has_unique,
)


class ConnectorCapability(StrEnum):
    """OCPI 2.3.0 mod_locations.asciidoc § ConnectorCapability OpenEnum."""

    ISO_15118_2_PLUG_AND_CHARGE = "ISO_15118_2_PLUG_AND_CHARGE"
    ISO_15118_20_PLUG_AND_CHARGE = "ISO_15118_20_PLUG_AND_CHARGE"


class ConnectorType(StrEnum):
    """OCPI 2.3.0 mod_locations.asciidoc § ConnectorType OpenEnum (2.2.1 + MCS, SAE_J3400)."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    MCS = "MCS"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    SAE_J3400 = "SAE_J3400"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class EVSEPosition(StrEnum):
    """OCPI 2.3.0 mod_locations.asciidoc § EVSEPosition enum (EVSE relative to the space)."""

    LEFT = "LEFT"
    RIGHT = "RIGHT"
    CENTER = "CENTER"


class ParkingDirection(StrEnum):
    """OCPI 2.3.0 mod_locations.asciidoc § ParkingDirection enum."""

    PARALLEL = "PARALLEL"
    PERPENDICULAR = "PERPENDICULAR"
    ANGLE = "ANGLE"


class ParkingRestriction(StrEnum):
    """OCPI 2.3.0 mod_locations.asciidoc § ParkingRestriction OpenEnum."""

    CUSTOMERS = "CUSTOMERS"
    DISABLED = "DISABLED"
    EMPLOYEES = "EMPLOYEES"
    EV_ONLY = "EV_ONLY"
    MOTORCYCLES = "MOTORCYCLES"
    PLUGGED = "PLUGGED"
    TAXIS = "TAXIS"
    TENANTS = "TENANTS"


class VehicleType(StrEnum):
    """OCPI 2.3.0 mod_locations.asciidoc § VehicleType OpenEnum."""

    MOTORCYCLE = "MOTORCYCLE"
    PERSONAL_VEHICLE = "PERSONAL_VEHICLE"
    PERSONAL_VEHICLE_WITH_TRAILER = "PERSONAL_VEHICLE_WITH_TRAILER"
    VAN = "VAN"
    SEMI_TRACTOR = "SEMI_TRACTOR"
    RIGID = "RIGID"
    TRUCK_WITH_TRAILER = "TRUCK_WITH_TRAILER"
    BUS = "BUS"
    DISABLED = "DISABLED"


OpenConnectorCapability = Annotated[
    ConnectorCapability | String255, Field(union_mode="left_to_right")
]
OpenConnectorType = Annotated[ConnectorType | String255, Field(union_mode="left_to_right")]
OpenParkingRestriction = Annotated[
    ParkingRestriction | String255, Field(union_mode="left_to_right")
]
OpenVehicleType = Annotated[VehicleType | String255, Field(union_mode="left_to_right")]


class Parking(OcpiModel):
    """OCPI 2.3.0 mod_locations.asciidoc § Parking object (AFIR reporting).

    Receivers that are not NAPs may ignore Parking objects. Lengths are in cm, weight in
    kg, ``time_limit`` in minutes.
    """

    id: CiString36  # unique among the Parking objects of its Location
    physical_reference: String12 | None = None
    vehicle_types: list[OpenVehicleType] = Field(min_length=1)
    max_vehicle_weight: Number | None = None
    max_vehicle_height: Number | None = None
    max_vehicle_length: Number | None = None
    max_vehicle_width: Number | None = None
    parking_space_length: Number | None = None
    parking_space_width: Number | None = None
    dangerous_goods_allowed: bool | None = None
    direction: ParkingDirection | None = None
    drive_through: bool | None = None
    restricted_to_type: bool
    reservation_required: bool
    time_limit: Number | None = None
    roofed: bool | None = None
    images: list[Image] | None = None
    lighting: bool | None = None
    refrigeration_outlet: bool | None = None
    standards: list[CiString36] | None = None
    apds_reference: CiString | None = None


class EVSEParking(OcpiModel):
    """OCPI 2.3.0 mod_locations.asciidoc § EVSEParking class."""

    parking_id: CiString36  # a Parking.id in the same Location's parking_places
    evse_position: EVSEPosition | None = None


class Connector(v221.Connector):
    """OCPI 2.3.0 mod_locations.asciidoc § Connector Object (2.2.1 + ``capabilities``)."""

    standard: OpenConnectorType
    capabilities: list[OpenConnectorCapability] | None = None


class EVSE(v221.EVSE):
    """OCPI 2.3.0 mod_locations.asciidoc § EVSE Object (2.2.1 + parking, service providers).

    ``parking`` also takes bare parking ids as the official examples send them (see the
    module docstring).
    """

    connectors: Sequence[Connector] = Field(min_length=1)
    parking: list[EVSEParking | CiString36] | None = None
    accepted_service_providers: list[String50] | None = None


class Location(v221.Location):
    """OCPI 2.3.0 mod_locations.asciidoc § Location Object (2.2.1 + parking, help phone)."""

    evses: Sequence[EVSE] | None = None
    parking_places: list[Parking] | None = None
    help_phone: CiString25 | None = None

    @model_validator(mode="after")
    def _parking_ids_unique(self) -> Location:
        # Parking.id: "MUST be unique among all Parking objects in the same Location".
        if self.parking_places and not has_unique(self.parking_places, "id"):
            raise ValueError("parking_places repeat a Parking id")
        return self


class ConnectorPatch(v221.ConnectorPatch):
    """PATCH body for a Connector: OCPI 2.3.0 mod_locations.asciidoc § PATCH Method."""

    standard: OpenConnectorType | None = None
    capabilities: list[OpenConnectorCapability] | None = None


class EvsePatch(v221.EvsePatch):
    """PATCH body for a EVSE: OCPI 2.3.0 mod_locations.asciidoc § PATCH Method."""

    connectors: Sequence[Connector] | None = None
    parking: list[EVSEParking | CiString36] | None = None
    accepted_service_providers: list[String50] | None = None


class LocationPatch(v221.LocationPatch):
    """PATCH body for a Location: OCPI 2.3.0 mod_locations.asciidoc § PATCH Method."""

    evses: Sequence[EVSE] | None = None
    parking_places: list[Parking] | None = None
    help_phone: CiString25 | None = None


__all__ = [
    "AdditionalGeoLocation",
    "BusinessDetails",
    "Capability",
    "Connector",
    "ConnectorCapability",
    "ConnectorFormat",
    "ConnectorPatch",
    "ConnectorType",
    "EVSE",
    "EVSEParking",
    "EVSEPosition",
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
    "OpenConnectorCapability",
    "OpenConnectorType",
    "OpenEnvironmentalImpactCategory",
    "OpenFacility",
    "OpenImageCategory",
    "OpenParkingRestriction",
    "OpenParkingType",
    "OpenVehicleType",
    "Parking",
    "ParkingDirection",
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "PublishTokenType",
    "RegularHours",
    "Status",
    "StatusSchedule",
    "VehicleType",
]
