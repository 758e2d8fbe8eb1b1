"""Bookings module 1.1, Sender interface (OCPI 2.3.0 mod_bookings.asciidoc § Sender Interface);
served on 2.3.0 only, at ``/ocpi/cpo/2.3.0/bookings``.

* ``GET {bookings}/booking_locations`` paginated (``date_from``/``date_to`` on
  ``last_updated``, ``timeslot_from`` inclusive / ``timeslot_to`` exclusive on the calendars'
  available timeslots);
* ``GET {bookings}/booking_locations/{id}`` and ``…/{id}/{calendar_id}``: 404 + 2003 when
  unknown;
* ``GET {bookings}`` paginated Bookings; ``GET {bookings}/{booking_id}`` one Booking (not in
  the spec's table; a convenience for polling, by our id or the eMSP's ``request_id``);
* ``POST {bookings}`` a BookingRequest → the Booking (``bookings.py`` decides).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim import booking_locations, bookings
from chargebook.cpo_sim.protocol import (
    VERSIONED,
    ApiVersion,
    OcpiError,
    PeerCaller,
    Sim,
    date_param,
    ok,
    paginate,
    read_model,
)
from chargebook.cpo_sim.simulator import V230, Simulator
from chargebook.cpo_sim.store import utcnow
from chargebook.ocpi.v230 import BookingRequest, StatusCode, ci_equal, ci_key

router = APIRouter(dependencies=VERSIONED)
PATH = "/ocpi/cpo/{version}/bookings"


def _bookings_version(version: str) -> None:
    if version != V230:
        raise OcpiError(StatusCode.CLIENT_ERROR, f"no Bookings module in OCPI {version}", 404)


def _unknown(what: str) -> OcpiError:
    return OcpiError(StatusCode.UNKNOWN_LOCATION, f"unknown {what}", http_status=404)


@router.get(PATH + "/booking_locations")
async def list_booking_locations(
    version: ApiVersion, request: Request, sim: Sim, _caller: PeerCaller
) -> Response:
    _bookings_version(version)
    since = date_param(request, "timeslot_from")
    until = date_param(request, "timeslot_to")
    now = utcnow()
    offered = [
        booking_locations.booking_location(sim, b, now) for b in booking_locations.bookables(sim)
    ]
    if since is not None or until is not None:
        offered = [bl for bl in offered if booking_locations.overlaps(bl, since, until)]
    return paginate(sim, request, offered)


@router.get(PATH + "/booking_locations/{booking_location_id}")
async def get_booking_location(
    version: ApiVersion, booking_location_id: str, sim: Sim, _caller: PeerCaller
) -> Response:
    _bookings_version(version)
    bookable = booking_locations.find(sim, booking_location_id)
    if bookable is None:
        raise _unknown(f"booking location {booking_location_id}")
    return ok(booking_locations.booking_location(sim, bookable))


@router.get(PATH + "/booking_locations/{booking_location_id}/{calendar_id}")
async def get_calendar(
    version: ApiVersion,
    booking_location_id: str,
    calendar_id: str,
    sim: Sim,
    _caller: PeerCaller,
) -> Response:
    _bookings_version(version)
    bookable = booking_locations.find(sim, booking_location_id)
    calendar = booking_locations.calendar(sim, bookable, utcnow()) if bookable else None
    if calendar is None or not ci_equal(calendar.id, calendar_id):
        raise _unknown(f"calendar {booking_location_id}/{calendar_id}")
    return ok(calendar)


@router.get(PATH)
async def list_bookings(
    version: ApiVersion, request: Request, sim: Sim, _caller: PeerCaller
) -> Response:
    _bookings_version(version)
    return paginate(sim, request, [b.ocpi() for b in sim.store.bookings.values()])


def _find(sim: Simulator, booking_id: str) -> object:
    booking = sim.store.booking(booking_id) or next(
        (b for b in sim.store.bookings.values() if ci_key(b.request_id) == ci_key(booking_id)),
        None,
    )
    if booking is None:
        raise OcpiError(StatusCode.CLIENT_ERROR, f"unknown booking {booking_id}", 404)
    return booking.ocpi()


@router.get(PATH + "/{booking_id}")
async def get_booking(
    version: ApiVersion, booking_id: str, sim: Sim, _caller: PeerCaller
) -> Response:
    _bookings_version(version)
    return ok(_find(sim, booking_id))


@router.post(PATH)
async def post_booking_request(
    version: ApiVersion, request: Request, sim: Sim, _caller: PeerCaller
) -> Response:
    _bookings_version(version)
    booking_request = await read_model(request, BookingRequest)
    try:
        booking = bookings.receive(sim, booking_request)
    except bookings.BookingError as exc:
        raise OcpiError(exc.status_code, str(exc), exc.http_status) from exc
    return ok(booking.ocpi())
