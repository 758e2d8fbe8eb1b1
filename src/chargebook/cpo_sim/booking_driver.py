"""The simulated driver of a booking: fulfilment or no-show (OCPI 2.3.0 Bookings 1.1
mod_bookings.asciidoc § Flow and Lifecycle, § BookingTerms class).

Once a booking is RESERVED a background task follows it:

* The driver arrives at the booked start + ``driver.arrive_after_seconds`` (re-read when a
  change moves the period), unless the no-show rules (``driver.no_show_share``,
  ``driver.no_show_evse_uids``) say they never come, or the booking has no token.
* Arrival before the no-show deadline (start + ``noshow_timeout``; without one, the end of
  the slot): the driver plugs in with the first booked token. The booking authorizes it (no
  real-time request: the eMSP already named the token; ``auth_method`` WHITELIST), and the
  Session carries the booking's ``authorization_reference``. When the Session is PUT as
  ACTIVE, the booking is pushed FULFILLED. The session then runs as any other (driver.py)
  and its CDR carries ``booking_id``.
* Nobody by the deadline: NO_SHOW is pushed and, with ``bookings.noshow_cdrs``, a CDR prices
  the tariff's no-show fee (RESERVATION_EXPIRES elements) for the time held.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from chargebook.cpo_sim import billing, driver, outbound
from chargebook.cpo_sim.booked import FINAL, SimBooking
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import utcnow
from chargebook.ocpi.v221 import AuthMethod, Token, WhitelistType, ci_key
from chargebook.ocpi.v230 import BookingToken, Cancellation, ReservationStatus


def follow(sim: Simulator, booking: SimBooking) -> None:
    """Start following a RESERVED booking (once)."""
    if booking.status is ReservationStatus.RESERVED and not booking.following:
        booking.following = True
        sim.spawn(_follow(sim, booking), f"booking-driver-{booking.id}")


def deadline(sim: Simulator, booking: SimBooking) -> datetime:
    timeout = sim.config.bookings.noshow_timeout_minutes
    if timeout is None:
        return booking.end
    return min(booking.start + timedelta(minutes=timeout), booking.end)


async def _follow(sim: Simulator, booking: SimBooking) -> None:
    comes = driver.arrival_time(sim, booking.evse_uid, booking.start) is not None
    if not booking.tokens:
        comes = False
        sim.store.log("booking_driver", booking_id=booking.id, outcome="no booked token")
    while booking.status is ReservationStatus.RESERVED:
        now, late = utcnow(), deadline(sim, booking)
        arrive = booking.start + timedelta(seconds=sim.config.driver.arrive_after_seconds or 0)
        if comes and arrive <= now < late:
            comes = await _arrive(sim, booking)
            if comes:
                return
            continue
        if now >= late:
            await no_show(sim, booking, late)
            return
        wake = min(t for t in (arrive if comes else None, late) if t is not None and t > now)
        booking.changed.clear()
        try:
            await asyncio.wait_for(booking.changed.wait(), timeout=(wake - now).total_seconds())
        except TimeoutError:
            pass


def _token(sim: Simulator, booked: BookingToken) -> Token:
    """The booked token as the CPO knows it (pushed by the eMSP), or made from the booking."""
    known = sim.store.tokens.get((ci_key(booked.uid), str(booked.type)))
    if known is not None:
        return known
    return Token.model_validate(
        {
            **booked.model_dump(mode="python"),
            "issuer": f"{booked.country_code}*{booked.party_id}",
            "valid": True,
            "whitelist": WhitelistType.ALLOWED,
            "last_updated": utcnow(),
        }
    )


async def _arrive(sim: Simulator, booking: SimBooking) -> bool:
    """The driver plugs in; True when the session started."""
    store = sim.store
    if store.running_session_on(booking.location_id, booking.evse_uid):
        store.log("booking_driver", booking_id=booking.id, outcome="EVSE busy, driver left")
        return False
    session = driver.new_session(
        sim,
        booking.location_id,
        booking.evse_uid,
        booking.connector_id,
        _token(sim, booking.tokens[0]),
        AuthMethod.WHITELIST,
        booking.authorization_reference,
    )
    session.booking_id, booking.session_id = booking.id, session.id
    store.log("booking_driver", booking_id=booking.id, outcome="arrived", session_id=session.id)

    async def fulfilled() -> None:
        await set_status(sim, booking, ReservationStatus.FULFILLED)

    await driver.run_session(sim, session, started=fulfilled)
    return True


async def no_show(sim: Simulator, booking: SimBooking, late: datetime) -> None:
    if not await set_status(sim, booking, ReservationStatus.NO_SHOW):
        return
    if not sim.config.bookings.noshow_cdrs or not booking.tokens:
        return
    cdr = billing.build_cdr(
        sim,
        cdr_id=sim.store.next_id("CDR"),
        place_ids=(booking.location_id, booking.evse_uid, booking.connector_id),
        token=_token(sim, booking.tokens[0]),
        auth_method=AuthMethod.WHITELIST,
        authorization_reference=booking.authorization_reference,
        session_id=None,
        reservation_start=booking.start,
        session_start=None,
        end=late,
        expired=True,
        remark="booking not used (no-show)",
        now=utcnow(),
    )
    sim.store.cdr_bookings[cdr.id] = booking.id
    booking.cdr_id = cdr.id
    await driver.send_cdr(sim, cdr)


async def set_status(
    sim: Simulator,
    booking: SimBooking,
    status: ReservationStatus,
    *,
    canceled: Cancellation | None = None,
    push: bool = True,
    force: bool = False,
) -> bool:
    """The CPO moves a booking on (FULFILLED, NO_SHOW, a CPO cancellation, an admin force)
    and pushes it. False when the booking is already in a final state (unless ``force``)."""
    if not force and booking.status in FINAL and status is not booking.status:
        return False
    booking.status, booking.last_updated = status, utcnow()
    if canceled is not None:
        booking.canceled = canceled
    booking.changed.set()
    sim.store.log("booking_status", booking_id=booking.id, status=status.value)
    if push:
        await outbound.push_booking(sim, booking)
    return True
