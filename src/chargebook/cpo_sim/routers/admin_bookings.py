"""Admin API for bookings (``/sim/bookings``, not OCPI): state, counters, CPO actions.

* ``GET /sim/bookings`` every booking with its status, request history (each request's
  published and decided status and why) and counters (``requests_received``, ``pushes``,
  ``push_failures``); ``GET /sim/bookings/{id}`` one (our id or the eMSP's request_id);
* ``POST /sim/bookings/{id}/cancel`` ``{"reason": "BROKEN_CHARGER"}``: we cancel, CANCELED
  with ``who_canceled: CPO`` is pushed;
* ``POST /sim/bookings/{id}/status`` ``{"status": "NO_SHOW", "push": true}``: force a status
  (any ReservationStatus, also out of a final one), pushed unless ``push`` is false;
* ``POST /sim/bookings/{id}/push``: push the Booking as it stands again.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from chargebook.cpo_sim import booking_driver, bookings, outbound
from chargebook.cpo_sim.booked import LIVE, SimBooking
from chargebook.cpo_sim.protocol import Sim, read_json
from chargebook.cpo_sim.routers.admin import _admin, _fail, reply
from chargebook.cpo_sim.simulator import Simulator
from chargebook.ocpi.v230 import CanceledReason, ReservationStatus, ci_key

router = APIRouter(prefix="/sim/bookings", dependencies=[Depends(_admin)], tags=["simulator admin"])


def _find(sim: Simulator, booking_id: str) -> SimBooking | None:
    return sim.store.booking(booking_id) or next(
        (b for b in sim.store.bookings.values() if ci_key(b.request_id) == ci_key(booking_id)),
        None,
    )


@router.get("")
async def list_bookings(sim: Sim) -> Response:
    return reply([b.view() for b in sim.store.bookings.values()])


@router.get("/{booking_id}")
async def get_booking(booking_id: str, sim: Sim) -> Response:
    booking = _find(sim, booking_id)
    return reply(booking.view()) if booking else _fail(404, f"no booking {booking_id}")


@router.post("/{booking_id}/cancel")
async def cancel(booking_id: str, request: Request, sim: Sim) -> Response:
    """``{"reason": "BROKEN_CHARGER"}`` (a CanceledReason; default BROKEN_CHARGER)."""
    booking = _find(sim, booking_id)
    if booking is None:
        return _fail(404, f"no booking {booking_id}")
    raw = await request.body()
    body = await read_json(request) if raw else {}
    reason = (
        body.get("reason", CanceledReason.BROKEN_CHARGER.value) if isinstance(body, dict) else None
    )
    if reason not in {r.value for r in CanceledReason}:
        return _fail(400, f"reason must be one of {', '.join(r.value for r in CanceledReason)}")
    if booking.status not in LIVE:
        return _fail(409, f"booking {booking.id} is {booking.status.value}")
    await bookings.cancel_by_cpo(sim, booking, reason)
    return reply(booking.view())


@router.post("/{booking_id}/status")
async def force_status(booking_id: str, request: Request, sim: Sim) -> Response:
    booking = _find(sim, booking_id)
    if booking is None:
        return _fail(404, f"no booking {booking_id}")
    body = await read_json(request)
    if not isinstance(body, dict) or body.get("status") not in {s.value for s in ReservationStatus}:
        return _fail(400, f"status must be one of {', '.join(s.value for s in ReservationStatus)}")
    push = body.get("push", True)
    if not isinstance(push, bool):
        return _fail(400, "push must be true or false")
    status = ReservationStatus(body["status"])
    await booking_driver.set_status(sim, booking, status, push=push, force=True)
    booking_driver.follow(sim, booking)
    return reply(booking.view())


@router.post("/{booking_id}/push")
async def push(booking_id: str, sim: Sim) -> Response:
    booking = _find(sim, booking_id)
    if booking is None:
        return _fail(404, f"no booking {booking_id}")
    delivered = await outbound.push_booking(sim, booking)
    return reply({"delivered": delivered, **booking.view()})
