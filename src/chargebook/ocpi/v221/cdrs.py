"""OCPI 2.2.1 CDRs module: models and enums (mod_cdrs.asciidoc).

Data owner: CPO. chargebook is the Receiver: the CPO POSTs final CDRs (never changed;
corrections come as Credit CDRs) and chargebook pulls with GET. ChargingPeriod, CdrToken
and AuthMethod live here because Sessions use them too. Spec: ``release-2.2.1-bugfixes``.

``CdrBase`` holds what 2.2.1 and 2.3.0 share; 2.3.0 changes the Price type, the Tariff
type and the dimension types, and adds ``booking_id`` (Bookings 1.1).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from chargebook.ocpi.v221.location_enums import ConnectorFormat, OpenConnectorType, PowerType
from chargebook.ocpi.v221.locations import GeoLocation
from chargebook.ocpi.v221.tariffs import Tariff
from chargebook.ocpi.v221.tokens import OpenTokenType
from chargebook.ocpi.v221.types import (
    CiString2,
    CiString3,
    CiString32,
    CiString36,
    CiString39,
    CiString48,
    DateTime,
    Number,
    OcpiModel,
    Price,
    String3,
    String10,
    String20,
    String45,
    String255,
    String512,
    String5000,
)


class AuthMethod(StrEnum):
    """OCPI 2.2.1 mod_cdrs.asciidoc § AuthMethod enum."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    """OCPI 2.2.1 mod_cdrs.asciidoc § CdrDimensionType enum.

    CURRENT, ENERGY_EXPORT, ENERGY_IMPORT, POWER and STATE_OF_CHARGE are for Sessions only.
    ENERGY is kWh (the official Session example 2 puts Wh-sized numbers in it: do not copy).
    Erratum: PARKING_TIME is time the vehicle is not requesting power.
    """

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class CdrDimension(OcpiModel):
    """OCPI 2.2.1 mod_cdrs.asciidoc § CdrDimension class."""

    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    """OCPI 2.2.1 mod_cdrs.asciidoc § ChargingPeriod class.

    A period lasts until the next one starts; the last one until the session ends.
    No ``tariff_id`` means no tariff applies in the period.
    """

    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: CiString36 | None = None


class CdrToken(OcpiModel):
    """OCPI 2.2.1 mod_cdrs.asciidoc § CdrToken class.

    ``country_code`` and ``party_id`` were added in 2.2.1 (the 2.2.1-d2 examples carry them).
    """

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: OpenTokenType
    contract_id: CiString36


class CdrLocation(OcpiModel):
    """OCPI 2.2.1 mod_cdrs.asciidoc § CdrLocation class.

    Unlike Location, ``address`` stays string(45) and ``state`` string(20) here (the errata
    only fixed the Location object). There is no ``time_zone``: look it up by Location id.
    EVSE and connector ids may be ``#NA`` for a reservation that never became a session.

    Tolerance: ``evse_uid`` and ``evse_id`` are required by the spec, but CPOs built on a
    widely used OCPI library leave them out of CDRs (seen from ``GET /cdrs``); a CDR is money
    owed, so it is accepted and matched through its session or reservation instead
    (docs/ocpi-conformance.md, CDRs).
    """

    id: CiString36
    name: String255 | None = None
    address: String45
    city: String45
    postal_code: String10 | None = None
    state: String20 | None = None
    country: String3
    coordinates: GeoLocation
    # Required by the spec; tolerated missing (docs/ocpi-conformance.md): CPOs in the field
    # leave it out of CDRs from GET /cdrs. Such a CDR is matched through its session or
    # authorization_reference instead.
    evse_uid: CiString36 | None = None
    evse_id: CiString48 | None = None
    connector_id: CiString36
    connector_standard: OpenConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiModel):
    """OCPI 2.2.1 mod_cdrs.asciidoc § SignedValue class.

    Erratum: ``plain_data`` is string(5000); earlier 2.2.1 documents said 512.
    """

    nature: CiString32
    plain_data: String5000
    signed_data: String5000


class SignedData(OcpiModel):
    """OCPI 2.2.1 mod_cdrs.asciidoc § SignedData class."""

    encoding_method: CiString36
    encoding_method_version: int | None = None
    public_key: String512 | None = None
    signed_values: list[SignedValue] = Field(min_length=1)
    url: String512 | None = None


class CdrBase(OcpiModel):
    """Fields of OCPI mod_cdrs.asciidoc § CDR Object common to 2.2.1 and 2.3.0.

    Not a wire object by itself: use :class:`CDR` (or ``v230.CDR``).
    """

    country_code: CiString2
    party_id: CiString3
    id: CiString39  # 39 leaves room for a credit suffix; normal CDR ids are at most 36
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: CiString36 | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod  # the last method used
    authorization_reference: CiString36 | None = None
    cdr_location: CdrLocation
    meter_id: String255 | None = None
    currency: String3
    signed_data: SignedData | None = None
    total_energy: Number  # kWh
    total_time: Number  # h, charging and not charging
    total_parking_time: Number | None = None  # h
    remark: String255 | None = None
    invoice_reference_id: CiString39 | None = None
    credit: bool | None = None
    credit_reference_id: CiString39 | None = None
    home_charging_compensation: bool | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _credit_cdr_references_original(self) -> CdrBase:
        # credit: "When set to true ... the field credit_reference_id needs to be set".
        if self.credit and not self.credit_reference_id:
            raise ValueError("a credit CDR needs credit_reference_id")
        return self


class CDR(CdrBase):
    """OCPI 2.2.1 mod_cdrs.asciidoc § CDR Object (final; corrected only by a Credit CDR)."""

    tariffs: list[Tariff] | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy_cost: Price | None = None
    total_time_cost: Price | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
