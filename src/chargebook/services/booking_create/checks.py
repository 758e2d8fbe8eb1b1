"""Steps 4 and 5 of a create: can this EVSE be booked for this window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import (
    Booking,
    BookingLocation,
)
from chargebook.domain.errors import (
    EvseNotBookable,
    NotFound,
    SlotTaken,
    Unavailability,
)
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.domain.windows import WindowRules, sent_at_once
from chargebook.domain.windows import check_window as window_rules
from chargebook.services.booking_calendars import booking_location_for
from chargebook.services.booking_create.request import BookingPolicy, BookingRequest, LockedEvse
from chargebook.services.booking_requests import check_terms
from chargebook.services.catalogue import OUT_OF_SERVICE

# --- 4, 5. can this EVSE be booked for this window ----------------------------------------------


def check_evse(evse: LockedEvse, request: BookingRequest) -> None:
    """Reservable (OCPI capability RESERVABLE), in service, and the connector asked for exists."""
    if not evse.reservable:
        raise EvseNotBookable(f"EVSE {request.evse_uid} does not support reservation",
                              Unavailability.NOT_RESERVABLE)
    if evse.status in OUT_OF_SERVICE:
        raise EvseNotBookable(f"EVSE {request.evse_uid} is {evse.status} and cannot be booked",
                              Unavailability.OUT_OF_SERVICE)
    if request.connector_id is not None and request.connector_id.casefold() not in {
        str(c.get("id")).casefold() for c in evse.connectors  # connector ids are CiStrings
    }:
        raise NotFound(f"Connector not found: {request.connector_id} on EVSE {request.evse_uid}")


def check_window(evse: LockedEvse, request: BookingRequest, policy: BookingPolicy, now: datetime) -> None:
    window_rules(request.reservation_start, request.reservation_end, now, WindowRules(
        min_lead=policy.min_lead,
        max_duration=timedelta(minutes=evse.max_reservation_minutes),
        max_horizon=policy.max_horizon,
    ))


_SLOT_TAKEN = select(
    exists().where(
        Booking.evse_pk == bindparam("evse_pk"),
        Booking.status.in_([s.value for s in LIVE_STATES]),
        Booking.reservation_start < bindparam("end", type_=Booking.reservation_end.type),
        Booking.reservation_end > bindparam("start", type_=Booking.reservation_start.type),
    )
)


async def check_slot(session: AsyncSession, evse: LockedEvse, request: BookingRequest) -> None:
    """No live booking of this EVSE overlaps the window (half-open windows)."""
    taken = await session.scalar(
        _SLOT_TAKEN, {"evse_pk": evse.pk, "start": request.reservation_start, "end": request.reservation_end})
    if taken:
        raise SlotTaken(Unavailability.SLOT_TAKEN)


async def check_calendar(
    session: AsyncSession, evse: LockedEvse, request: BookingRequest
) -> BookingLocation | None:
    """A CPO with the OCPI 2.3.0 Bookings module publishes when the EVSE is free: the window
    must lie inside an available timeslot of its calendar, within its booking terms. Returns
    the BookingLocation the booking goes through, or None (RESERVE_NOW path)."""
    if evse.bookings_url is None:
        return None
    by_calendar, booking_location = await booking_location_for(
        session, evse.party_pk, evse.location_id, evse.uid, request.reservation_start, request.reservation_end)
    if by_calendar and booking_location is None:
        raise SlotTaken(Unavailability.OUTSIDE_CPO_CALENDAR)
    if booking_location is not None:
        check_terms(booking_location, request.reservation_start, request.reservation_end)
    return booking_location


def check_in_use(evse: LockedEvse, request: BookingRequest, now: datetime, *, by_calendar: bool) -> None:
    """A RESERVE_NOW that goes out now (the window starts within the CPO's reserve lead time)
    reserves the EVSE from now on, so the CPO refuses it while the EVSE is not AVAILABLE
    (OCPI 2.2.1 mod_commands.asciidoc § ReserveNow: EVSE_OCCUPIED). Refused here, like search
    leaves it out, rather than accepted and then rejected by the CPO."""
    lead = timedelta(minutes=evse.reserve_lead_minutes)
    if not by_calendar and evse.status != "AVAILABLE" and sent_at_once(request.reservation_start, now, lead):
        raise EvseNotBookable(
            f"EVSE {request.evse_uid} is {evse.status} now, and a booking starting this soon is "
            "sent to the CPO at once: choose an AVAILABLE EVSE or a later window",
            Unavailability.EVSE_IN_USE)
