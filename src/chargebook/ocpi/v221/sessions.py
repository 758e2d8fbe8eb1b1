"""OCPI 2.2.1 Sessions module: models and enums (mod_sessions.asciidoc).

Data owner: CPO. chargebook is the Receiver (the CPO PUTs and PATCHes Sessions) and pulls
with GET (``date_from`` required). It also PUTs ChargingPreferences to the CPO.
Spec: branch ``release-2.2.1-bugfixes``.

PATCH semantics (mod_sessions.asciidoc § PATCH Method): ``charging_periods`` in a PATCH
are *appended* to the stored list; a PUT replaces the list (absent or empty clears it).

``SessionBase``/``SessionPatchBase`` hold what 2.2.1 and 2.3.0 share; 2.3.0 changes the
Price type of ``total_cost`` and the dimension types inside ``charging_periods``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chargebook.ocpi.v221.cdrs import AuthMethod, CdrToken, ChargingPeriod
from chargebook.ocpi.v221.tokens import ProfileType as ProfileType
from chargebook.ocpi.v221.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    Number,
    OcpiModel,
    Price,
    String3,
    String255,
)


class SessionStatus(StrEnum):
    """OCPI 2.2.1 mod_sessions.asciidoc § SessionStatus enum.

    Pitfall: the module text calls the reservation state ``RESERVED`` while the enum value
    is ``RESERVATION``. ``RESERVED`` is accepted on input as RESERVATION; we only emit
    RESERVATION.
    """

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"

    @classmethod
    def _missing_(cls, value: Any) -> SessionStatus | None:
        return cls.RESERVATION if value == "RESERVED" else None


class ChargingPreferencesResponse(StrEnum):
    """OCPI 2.2.1 mod_sessions.asciidoc § ChargingPreferencesResponse enum."""

    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class ChargingPreferences(OcpiModel):
    """OCPI 2.2.1 mod_sessions.asciidoc § ChargingPreferences Object."""

    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: Number | None = None  # kWh
    discharge_allowed: bool | None = False


class SessionBase(OcpiModel):
    """Fields of OCPI mod_sessions.asciidoc § Session Object common to 2.2.1 and 2.3.0.

    Not a wire object by itself: use :class:`Session` (or ``v230.Session``).
    """

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    start_date_time: DateTime  # when it became ACTIVE; while PENDING, when it was created
    end_date_time: DateTime | None = None
    kwh: Number
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    location_id: CiString36
    evse_uid: CiString36  # "#NA" for a reservation without an EVSE yet
    connector_id: CiString36  # "#NA" likewise
    meter_id: String255 | None = None
    currency: String3
    status: SessionStatus
    last_updated: DateTime


class Session(SessionBase):
    """OCPI 2.2.1 mod_sessions.asciidoc § Session Object.

    ``total_cost`` absent does not mean free; 0.00 does.
    """

    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None


class SessionPatchBase(OcpiModel):
    """PATCH fields common to OCPI 2.2.1 and 2.3.0 mod_sessions.asciidoc § PATCH Method.

    Not a wire object by itself: use :class:`SessionPatch` (or ``v230.SessionPatch``).
    """

    country_code: CiString2 | None = None
    party_id: CiString3 | None = None
    id: CiString36 | None = None
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    kwh: Number | None = None
    cdr_token: CdrToken | None = None
    auth_method: AuthMethod | None = None
    authorization_reference: CiString36 | None = None
    location_id: CiString36 | None = None
    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    meter_id: String255 | None = None
    currency: String3 | None = None
    status: SessionStatus | None = None
    last_updated: DateTime


class SessionPatch(SessionPatchBase):
    """PATCH body for a Session: OCPI 2.2.1 mod_sessions.asciidoc § PATCH Method.

    Every field is optional except ``last_updated`` (a PATCH SHALL contain it). A field set
    to null is in ``model_fields_set`` with value None; a field not sent is absent from it.
    ``charging_periods`` here are to be appended, not to replace the stored ones.
    """

    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
