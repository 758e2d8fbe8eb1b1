"""A booking as the simulated CPO keeps it (OCPI 2.3.0 Bookings 1.1 mod_bookings.asciidoc).

Two layers, as the module's flows show them: the booking's ``reservation_status`` and the
list of requests received for it (create, change, cancel), each ``PENDING`` until decided.

Every request is **decided when it arrives** (so two requests cannot both win a slot) and
**published after the processing delay**: until then the booking and the request show
``PENDING`` (or the booking stays ``RESERVED`` during a change). A decision is kept as the
fields it will set (``effect``); :meth:`SimBooking.projected` is the booking with every
decided-but-unpublished effect applied, which is what the calendar and later decisions see.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chargebook.ocpi.v230 import (
    AccessInformation,
    Booking,
    BookingOption,
    BookingRequest,
    BookingRequestStatus,
    BookingTerms,
    BookingToken,
    Cancellation,
    ReservationRequestStatus,
    ReservationStatus,
    Timeslot,
    ci_key,
)

#: A booking in these states holds its slot.
LIVE = (ReservationStatus.PENDING, ReservationStatus.RESERVED)
#: Final states (mod_bookings.asciidoc § Flow and Lifecycle): nothing moves them on.
FINAL = (
    ReservationStatus.CANCELED,
    ReservationStatus.NO_SHOW,
    ReservationStatus.REJECTED,
    ReservationStatus.FAILED,
    ReservationStatus.FULFILLED,
)


@dataclass
class RequestRecord:
    """One BookingRequest received for a booking, and what became of it."""

    kind: str  # create | change | cancel
    request: BookingRequest
    received: datetime
    outcome: ReservationRequestStatus | None  # decided on arrival; None: never answered
    reason: str | None = None
    effect: dict[str, Any] = field(default_factory=dict)  # booking fields set when published
    status: ReservationRequestStatus = ReservationRequestStatus.PENDING  # as published
    published_at: datetime | None = None

    def ocpi(self) -> BookingRequestStatus:
        return BookingRequestStatus(
            request_status=self.status, booking_request=self.request, request_received=self.received
        )

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "received": self.received,
            "request_status": self.status.value,
            "decided": self.outcome.value if self.outcome else None,
            "reason": self.reason,
            "published_at": self.published_at,
            "request": self.request,
        }


@dataclass
class SimBooking:
    id: str  # ours
    country_code: str  # ours (the CPO owns the Booking)
    party_id: str
    emsp_country_code: str  # the requesting eMSP
    emsp_party_id: str
    request_id: str
    booking_location_id: str
    location_id: str
    evse_uid: str
    connector_id: str
    start: datetime
    end: datetime
    tokens: list[BookingToken]
    access_information: list[AccessInformation]
    authorization_reference: str
    terms: BookingTerms
    tariff_ids: list[str]
    max_power: Decimal | None
    last_updated: datetime
    status: ReservationStatus = ReservationStatus.PENDING
    canceled: Cancellation | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    session_id: str | None = None
    cdr_id: str | None = None
    pushes: int = 0  # pushes the eMSP acknowledged
    push_failures: int = 0
    following: bool = False  # the simulated driver is on its way
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def request_key(self) -> tuple[str, str, str]:
        return (ci_key(self.emsp_country_code), ci_key(self.emsp_party_id), ci_key(self.request_id))

    def projected(self) -> dict[str, Any]:
        """The booking's fields once every decided request is published."""
        fields: dict[str, Any] = {"status": self.status, "start": self.start, "end": self.end}
        for record in self.requests:
            if record.published_at is None and record.outcome is not None:
                if "status" in record.effect and fields["status"] in FINAL:
                    continue  # a final state is final
                fields.update(record.effect)
        return fields

    def holds(self) -> list[tuple[datetime, datetime]]:
        """The periods this booking keeps out of the calendar (its own and a changed one)."""
        projected = self.projected()
        if projected["status"] not in LIVE:
            return []
        spans = {(projected["start"], projected["end"])}
        if self.status in LIVE:
            spans.add((self.start, self.end))
        return sorted(spans)

    def ocpi(self) -> Booking:
        """The Booking object (mod_bookings.asciidoc § Booking Object) as it stands."""
        period: dict[str, Any] = {"start_date_time": self.start, "end_date_time": self.end}
        if self.max_power is not None:
            period["max_power"] = self.max_power
        fields: dict[str, Any] = {
            "id": self.id,
            "country_code": self.country_code,
            "party_id": self.party_id,
            "request_id": self.request_id,
            "booking_option": BookingOption(evse_uid=self.evse_uid, connector_id=self.connector_id),
            "location_id": self.location_id,
            "period": Timeslot.model_validate(period),
            "reservation_status": self.status,
            "authorization_reference": self.authorization_reference,
            "booking_terms": self.terms,
            "booking_requests": [r.ocpi() for r in self.requests],
            "last_updated": self.last_updated,
        }
        if self.tokens:
            fields["booking_tokens"] = self.tokens
        if self.tariff_ids:
            fields["tariff_ids"] = self.tariff_ids
        if self.access_information:
            fields["access_information"] = self.access_information
        if self.canceled is not None:
            fields["canceled"] = self.canceled
        return Booking.model_validate(fields)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request_id": self.request_id,
            "reservation_status": self.status.value,
            "location_id": self.location_id,
            "evse_uid": self.evse_uid,
            "start": self.start,
            "end": self.end,
            "canceled": self.canceled,
            "session_id": self.session_id,
            "cdr_id": self.cdr_id,
            "requests_received": len(self.requests),
            "pushes": self.pushes,
            "push_failures": self.push_failures,
            "requests": [r.view() for r in self.requests],
            "booking": self.ocpi(),
        }
