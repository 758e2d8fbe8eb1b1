"""Bookings module, Receiver interface (OCPI 2.3.0 Bookings 1.1 mod_bookings.asciidoc
§ Receiver Interface): the CPO pushes its BookingLocations, their Calendars and the state
of our bookings. Mounted under ``/ocpi/2.3.0`` only.

Paths, as the spec writes them (``{bookings_url}`` = ``/ocpi/2.3.0/bookings``):

* ``{bookings_url}/{country_code}/{party_id}/booking_locations/{booking_location_id}[/{calendar_id}]``
* ``{bookings_url}/{country_code}/{party_id}/{booking_id}``

The spec's own PATCH examples put the segments in another order and spell them
``bookinglocations`` (``…/bookings/bookinglocations/NL/INF/BL0123``; ocpi/ocpi#577), so
``{bookings_url}/booking_locations|bookinglocations/{country_code}/{party_id}/…`` is
accepted too. No DELETE: the spec removes by status change.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.ocpi.transport import ocpi_response
from chargebook.ocpi_api.common import Body, Db, PartyDep, PatchBody
from chargebook.services import booking_calendars as calendars
from chargebook.services import ocpi_bookings as svc
from chargebook.services.ocpi_catalogue import check_owner

router = APIRouter(prefix="/bookings")

_BL_PATHS = [
    "/booking_locations/{country_code}/{party_id}/{booking_location_id}",  # the examples' order
    "/bookinglocations/{country_code}/{party_id}/{booking_location_id}",
    "/{country_code}/{party_id}/booking_locations/{booking_location_id}",  # the spec's
]


def _poll_every(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.settings.booking_poll_seconds)


for base in _BL_PATHS:
    for path in (base, base + "/{calendar_id}"):

        @router.get(path)
        async def get_booking_location(party: PartyDep, db: Db, country_code: str, party_id: str,
                                       booking_location_id: str, calendar_id: str | None = None) -> Response:
            check_owner(party, country_code, party_id)
            return ocpi_response(await calendars.get_booking_location(db, party, booking_location_id, calendar_id))

        @router.put(path)
        async def put_booking_location(party: PartyDep, db: Db, body: Body, country_code: str, party_id: str,
                                       booking_location_id: str, calendar_id: str | None = None) -> Response:
            if calendar_id is None:
                check_owner(party, country_code, party_id, body)
                await calendars.put_booking_location(db, party, booking_location_id, body)
            else:
                check_owner(party, country_code, party_id)
                await calendars.put_calendar(db, party, booking_location_id, calendar_id, body)
            return ocpi_response()

        @router.patch(path)
        async def patch_booking_location(party: PartyDep, db: Db, body: PatchBody, country_code: str, party_id: str,
                                         booking_location_id: str, calendar_id: str | None = None) -> Response:
            check_owner(party, country_code, party_id)
            applied = await calendars.patch_booking_location(db, party, booking_location_id, calendar_id, body)
            return ocpi_response(message=None if applied else "ignored: older than the stored object")


BOOKING = "/{country_code}/{party_id}/{booking_id}"


@router.get(BOOKING)
async def get_booking(party: PartyDep, db: Db, country_code: str, party_id: str, booking_id: str) -> Response:
    check_owner(party, country_code, party_id)
    return ocpi_response(await svc.get_booking_object(db, party, booking_id))


@router.put(BOOKING)
async def put_booking(request: Request, party: PartyDep, db: Db, body: Body, country_code: str, party_id: str,
                      booking_id: str) -> Response:
    check_owner(party, country_code, party_id, body)
    await svc.receive_booking(db, party, booking_id, body, patch=False, poll_every=_poll_every(request))
    return ocpi_response()


@router.patch(BOOKING)
async def patch_booking(request: Request, party: PartyDep, db: Db, body: PatchBody, country_code: str, party_id: str,
                        booking_id: str) -> Response:
    check_owner(party, country_code, party_id)
    applied = await svc.receive_booking(db, party, booking_id, body, patch=True, poll_every=_poll_every(request))
    return ocpi_response(message=None if applied else "ignored: older than the stored object")
