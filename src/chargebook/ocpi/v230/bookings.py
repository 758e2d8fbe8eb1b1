"""OCPI 2.3.0 Bookings module 1.1: models and enums (mod_bookings.asciidoc).

Spec: branch ``2.3.0/release/bookings`` (commit 6ad981f). Field names are Bookings 1.1
(``booking_option``, ``policy``, ``tariff_ids``, ``access_information``,
``timeslot_increment``, Timeslot ``start_date_time``/``end_date_time``, Period); tag
``v2.3.0-bookings`` still holds 1.0, whose names differ and are not modelled here.

Data owner: CPO. chargebook POSTs a BookingRequest to the CPO (the answer is a Booking),
and is the Receiver of BookingLocation, Calendar and Booking PUT/PATCH. A change or a
cancellation is a new BookingRequest with the same ``request_id`` (cancel: ``canceled``
set). The booking state machine itself lives in ``domain/``, not here.

Units: Timeslot powers are W, ``BookingRequest.power_required`` is kW, durations and
``timeslot_increment`` are minutes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from chargebook.ocpi.v221.location_enums import ConnectorFormat, PowerType
from chargebook.ocpi.v230.locations import EVSEPosition, OpenConnectorType, OpenVehicleType
from chargebook.ocpi.v230.tokens import OpenTokenType
from chargebook.ocpi.v230.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    Number,
    OcpiModel,
    Role,
    String,
    Url,
)


class AccessMethod(StrEnum):
    """OCPI 2.3.0 mod_bookings.asciidoc § AccessMethod enum."""

    OPEN = "OPEN"
    TOKEN = "TOKEN"
    LICENSE_PLATE = "LICENSE_PLATE"
    ACCESS_CODE = "ACCESS_CODE"
    INTERCOM = "INTERCOM"
    PARKING_TICKET = "PARKING_TICKET"


class CanceledReason(StrEnum):
    """OCPI 2.3.0 mod_bookings.asciidoc § CanceledReason enum."""

    POWER_OUTAGE = "POWER_OUTAGE"  # set by the CPO
    BROKEN_CHARGER = "BROKEN_CHARGER"  # set by the CPO
    FULL = "FULL"  # set by the CPO
    BLOCKED = "BLOCKED"
    TRAFFIC = "TRAFFIC"  # set by the MSP
    BROKEN_VEHICLE = "BROKEN_VEHICLE"  # set by the MSP
    NO_CANCELED = "NO_CANCELED"  # set by the MSP: the driver gave no reason
    UNKNOWN = "UNKNOWN"


class ReservationRequestStatus(StrEnum):
    """OCPI 2.3.0 mod_bookings.asciidoc § ReservationRequestStatus enum (per request)."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"


class ReservationStatus(StrEnum):
    """OCPI 2.3.0 mod_bookings.asciidoc § ReservationStatus enum (per booking).

    Final states: CANCELED, NO_SHOW, REJECTED, FAILED, FULFILLED (§ Flow and Lifecycle).
    """

    PENDING = "PENDING"
    RESERVED = "RESERVED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    NO_SHOW = "NO_SHOW"
    FULFILLED = "FULFILLED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class AccessInformation(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § AccessInformation class (e.g. a licence plate)."""

    method: AccessMethod
    value: String | None = None


class BookingOption(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § BookingOption class.

    ``evse_uid`` may be ``#NA`` until an EVSE is assigned. Vehicle sizes are in cm, the
    weight in kg.
    """

    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    parking_id: CiString36 | None = None
    evse_position: list[EVSEPosition] | None = None
    vehicle_types: list[OpenVehicleType] | None = None
    connector_format: list[ConnectorFormat] | None = None
    connector_types: list[OpenConnectorType] | None = None
    power_types: list[PowerType] | None = None
    max_vehicle_weight: Number | None = None
    max_vehicle_height: Number | None = None
    max_vehicle_length: Number | None = None
    max_vehicle_width: Number | None = None
    min_parking_space_length: Number | None = None
    min_parking_space_width: Number | None = None
    dangerous_goods_allowed: bool | None = None
    drive_through: bool | None = None
    refrigeration_outlet: bool | None = None


class BookingToken(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § BookingToken class (the CdrToken shape)."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: OpenTokenType
    contract_id: CiString36


class Cancellation(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § Cancellation class.

    The spec links ``who_canceled`` to the InterfaceRole anchor but names the type Role;
    only the party Role (CPO, EMSP) makes sense, so it is a Role.
    """

    cancellation_reason: CanceledReason
    who_canceled: Role


def _require_positive_length(start: datetime, end: datetime) -> None:
    # Inferred from Period/Timeslot: a booking window has a positive length.
    if end <= start:
        raise ValueError("end_date_time must be after start_date_time")


class Period(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § Period class (the window a BookingRequest asks)."""

    start_date_time: DateTime
    end_date_time: DateTime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Period:
        _require_positive_length(self.start_date_time, self.end_date_time)
        return self


class Timeslot(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § Timeslot class (powers in W).

    Not a subclass of Period on purpose: a Timeslot handed to a BookingRequest would carry
    its power fields into the request.
    """

    start_date_time: DateTime
    end_date_time: DateTime
    min_power: Number | None = None  # guaranteed
    max_power: Number | None = None  # available; may be requested lower
    green_energy_support: bool | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Timeslot:
        _require_positive_length(self.start_date_time, self.end_date_time)
        return self


class Policy(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § Policy class."""

    reservation_required: bool
    ad_hoc: Number | None = None  # number of ad-hoc charging options


class BookingTerms(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § BookingTerms class (times in minutes).

    Spec quirks: ``change_not_allowed`` is described as "if change is allowed", and
    ``late_stop_time`` as minutes of "late start"; read them by their names.
    """

    rfid_auth_required: bool | None = None
    token_groups_supported: bool | None = None
    remote_auth_supported: bool | None = None
    supported_access_methods: list[AccessMethod] = Field(min_length=1)
    change_until_minutes: Number
    cancel_until_minutes: Number
    change_not_allowed: bool | None = None
    early_start_allowed: bool | None = None
    early_start_time: Number | None = None
    noshow_timeout: Number | None = None  # absent: no timeout
    noshow_fee: bool | None = None
    late_stop_allowed: bool | None = None
    late_stop_time: Number | None = None
    overlapping_bookings_allowed: bool | None = None
    min_booking_duration: Number | None = None
    max_booking_duration: Number | None = None
    booking_terms: Url | None = None


class Calendar(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § Calendar object."""

    id: CiString36
    begin_from: DateTime
    end_before: DateTime
    timeslot_increment: int | None = Field(default=None, ge=0)  # minutes
    available_timeslots: list[Timeslot] = Field(min_length=1)
    last_updated: DateTime


class BookingRequest(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § BookingRequest class (body of the eMSP's POST).

    ``country_code``/``party_id`` are the requesting eMSP's. ``request_id`` SHALL stay the
    same for every edit of the booking. Note ``tokens`` here vs ``booking_tokens`` in
    Booking.
    """

    country_code: CiString2
    party_id: CiString3
    request_id: CiString36
    booking_option: BookingOption | None = None
    location_id: CiString36
    booking_location_id: CiString36
    tokens: list[BookingToken] | None = None
    access_information: list[AccessInformation] | None = None
    period: Period
    authorization_reference: CiString36
    power_required: int | None = None  # kW
    canceled: Cancellation | None = None


class BookingRequestStatus(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § BookingRequestStatus class."""

    request_status: ReservationRequestStatus
    booking_request: BookingRequest
    request_received: DateTime


class BookingLocation(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § BookingLocation Object.

    "Each bookingLocation should include either the booking_option or the evse_uid. One of
    them is mandatory." In 1.1 ``evse_uid`` lives inside ``booking_option``; a top-level
    ``evse_uid`` (the 1.0 shape) is kept as an unknown field and also satisfies the rule.
    """

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    location_id: CiString36
    booking_option: BookingOption | None = None
    policy: Policy | None = None
    tariff_ids: list[CiString36] | None = None
    booking_terms: BookingTerms | None = None
    calendars: list[Calendar] | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _bookable_something(self) -> BookingLocation:
        top_level_evse = (self.model_extra or {}).get("evse_uid")
        if self.booking_option is None and top_level_evse is None:
            raise ValueError("a BookingLocation needs booking_option (or evse_uid)")
        return self


class Booking(OcpiModel):
    """OCPI 2.3.0 mod_bookings.asciidoc § Booking Object (the CPO's state of a booking).

    ``authorization_reference`` returns in the Session and CDR: match them on it.
    """

    id: CiString36
    country_code: CiString2
    party_id: CiString3
    request_id: CiString36
    booking_option: BookingOption | None = None
    location_id: CiString36
    booking_tokens: list[BookingToken] | None = None
    tariff_ids: list[CiString36] | None = None
    period: Timeslot
    reservation_status: ReservationStatus
    canceled: Cancellation | None = None
    access_information: list[AccessInformation] | None = None
    authorization_reference: CiString36
    booking_terms: BookingTerms
    booking_requests: list[BookingRequestStatus] = Field(min_length=1)
    last_updated: DateTime


# PATCH bodies (mod_bookings.asciidoc § PATCH Method): every field optional except
# ``last_updated`` (a PATCH SHALL contain it); ``model_fields_set`` tells a field sent as
# null from one not sent. No DELETE exists: removal is a status change.


class BookingTermsPatch(OcpiModel):
    """BookingTerms inside a PATCH: OCPI 2.3.0 mod_bookings.asciidoc § PATCH Method.

    The PATCH text says only "the fields/objects that have to be updated" are sent, and
    the official terms-update example sends a partial BookingTerms; so, unlike the arrays
    in a PATCH (which replace), this nested object is read as a partial update.
    """

    rfid_auth_required: bool | None = None
    token_groups_supported: bool | None = None
    remote_auth_supported: bool | None = None
    supported_access_methods: list[AccessMethod] | None = None
    change_until_minutes: Number | None = None
    cancel_until_minutes: Number | None = None
    change_not_allowed: bool | None = None
    early_start_allowed: bool | None = None
    early_start_time: Number | None = None
    noshow_timeout: Number | None = None
    noshow_fee: bool | None = None
    late_stop_allowed: bool | None = None
    late_stop_time: Number | None = None
    overlapping_bookings_allowed: bool | None = None
    min_booking_duration: Number | None = None
    max_booking_duration: Number | None = None
    booking_terms: Url | None = None


class CalendarPatch(OcpiModel):
    """PATCH body for a Calendar: OCPI 2.3.0 mod_bookings.asciidoc § PATCH Method.

    The Receiver SHALL also bump the parent BookingLocation's ``last_updated``.
    """

    id: CiString36 | None = None
    begin_from: DateTime | None = None
    end_before: DateTime | None = None
    timeslot_increment: int | None = Field(default=None, ge=0)
    available_timeslots: list[Timeslot] | None = None
    last_updated: DateTime


class BookingLocationPatch(OcpiModel):
    """PATCH body for a BookingLocation: OCPI 2.3.0 mod_bookings.asciidoc § PATCH Method."""

    country_code: CiString2 | None = None
    party_id: CiString3 | None = None
    id: CiString36 | None = None
    location_id: CiString36 | None = None
    booking_option: BookingOption | None = None
    policy: Policy | None = None
    tariff_ids: list[CiString36] | None = None
    booking_terms: BookingTermsPatch | None = None
    calendars: list[Calendar] | None = None
    last_updated: DateTime


class BookingPatch(OcpiModel):
    """PATCH body for a Booking: OCPI 2.3.0 mod_bookings.asciidoc § PATCH Method (Booking).

    Used for status changes, a CPO cancellation, EVSE assignment.

    The official example PATCHes a top-level ``evse_uid`` (the 1.0 place); 1.1 has it in
    ``booking_option``. The top-level one is kept as an unknown field for the caller.
    """

    id: CiString36 | None = None
    country_code: CiString2 | None = None
    party_id: CiString3 | None = None
    request_id: CiString36 | None = None
    booking_option: BookingOption | None = None
    location_id: CiString36 | None = None
    booking_tokens: list[BookingToken] | None = None
    tariff_ids: list[CiString36] | None = None
    period: Timeslot | None = None
    reservation_status: ReservationStatus | None = None
    canceled: Cancellation | None = None
    access_information: list[AccessInformation] | None = None
    authorization_reference: CiString36 | None = None
    booking_terms: BookingTermsPatch | None = None
    booking_requests: list[BookingRequestStatus] | None = None
    last_updated: DateTime


class BookingRequestPatch(OcpiModel):
    """Partial OCPI 2.3.0 mod_bookings.asciidoc § BookingRequest class; not a spec object.

    Bookings 1.1 defines no PATCH for requests (a change is a new POST with the same
    ``request_id``). This model exists to read the two unreferenced
    ``booking_request_patch_example_*.json`` files; their 1.0-style ``timeslot`` key is
    kept as an unknown field.
    """

    country_code: CiString2 | None = None
    party_id: CiString3 | None = None
    request_id: CiString36 | None = None
    booking_option: BookingOption | None = None
    location_id: CiString36 | None = None
    booking_location_id: CiString36 | None = None
    tokens: list[BookingToken] | None = None
    access_information: list[AccessInformation] | None = None
    period: Period | None = None
    authorization_reference: CiString36 | None = None
    power_required: int | None = None
    canceled: Cancellation | None = None
    last_updated: DateTime
