"""Creating a booking: the rules as named steps, in one locked transaction.

:func:`create_booking` reads like the rules (docs/api.md, "Booking rules"):

1. :func:`BookingRequest.effective`: the fields the token strategy reads; the others are
   ignored, only missing or malformed ones are errors (pure, before any I/O).
2. :func:`resolve_evse`: lock the EVSE row (``FOR UPDATE`` on PostgreSQL; SQLite's write
   transactions are ``BEGIN IMMEDIATE`` and already exclusive) at the CPO the request names,
   within the client's contract: 404, or 409 when the ids match at more than one CPO.
3. :func:`find_replay`: a live booking of the client with this ``external_id`` is answered
   again (same request) or named in a 409 (another request). Checked once the EVSE is
   locked, so of two identical creates racing, the second sees the first and replays it.
4. :func:`check_evse` and :func:`check_window`: reservable, in service, the connector exists;
   the window rules.
5. :func:`check_slot`: no live booking overlaps; :func:`check_calendar`: an OCPI 2.3.0
   Bookings CPO's calendar has a free timeslot; :func:`check_in_use`: an EVSE busy now is
   not booked for a window whose request to the CPO goes out now.
6. :func:`choose_token`, :func:`quote` (the one estimate, as search showed it) and
   :func:`check_limits` (the fleet group's, under a lock on the group row).
7. :func:`insert_booking` (its first history entry is the lifecycle's creation step) and
   :func:`enqueue` (the Bookings-module request, the webhook event).

The steps live beside this file, each in a module read in one sitting: ``request.py`` (1),
``resolve.py`` (2, 3), ``checks.py`` (4, 5), ``token_price.py`` (6), ``write.py`` (7).

Every concurrent creator for one EVSE queues on step 2, and each sees the winners before it.
A plain create issues five statements on SQLite (EVSE lock, overlap check, ad-hoc token,
booking, history entry) and four on PostgreSQL, where the booking and its history entry are
one statement (``db/queries.py: insert_pair``); one more with an ``external_id`` (the replay check) and one more when a
connector names a tariff; locks are taken in one order (EVSE, then group).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.services.booking_create.checks import (
    check_calendar,
    check_evse,
    check_in_use,
    check_slot,
    check_window,
)
from chargebook.services.booking_create.request import BookingPolicy, BookingRequest, LockedEvse
from chargebook.services.booking_create.resolve import (
    find_replay,
    live_by_external_id,
    replay_or_clash,
    resolve_evse,
)
from chargebook.services.booking_create.token_price import check_limits, choose_token, quote
from chargebook.services.booking_create.write import cpo_request_at, enqueue, insert_booking
from chargebook.services.clients import ClientContext
from chargebook.services.clock import utcnow
from chargebook.services.ids import booking_id
from chargebook.services.wire import BookingView


async def create_booking(
    db: Database, client: ClientContext, request: BookingRequest, policy: BookingPolicy
) -> BookingView:
    """``POST /bookings``: a new booking in REQUESTED, or the replay of a live one."""
    request = request.effective()
    fingerprint = request.fingerprint()
    for attempt in (1, 2):
        try:
            async with db.write() as session:
                return await _create(session, client, request, policy, fingerprint)
        except IntegrityError:
            # A unique key stopped this insert: another create with the same external_id
            # committed first (on another EVSE, so the lock did not order them), or a fresh
            # token collided. The transaction rolled back; answer as the winner dictates.
            if request.external_id is not None:
                async with db.read() as session:
                    live = await live_by_external_id(session, client.id, request.external_id)
                    if live is not None:
                        return await replay_or_clash(session, live, request, fingerprint, None)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _create(
    session: AsyncSession,
    client: ClientContext,
    request: BookingRequest,
    policy: BookingPolicy,
    fingerprint: str,
) -> BookingView:
    now = utcnow()
    evse = await resolve_evse(session, client, request)
    replay = await find_replay(session, client, request, fingerprint, evse)
    if replay is not None:
        return replay
    check_evse(evse, request)
    check_window(evse, request, policy, now)
    await check_slot(session, evse, request)
    booking_location = await check_calendar(session, evse, request)
    check_in_use(evse, request, now, by_calendar=booking_location is not None)
    new_id = booking_id()
    token, token_uid = await choose_token(session, client, request, policy, new_id, evse, now)
    estimate = await quote(session, client, evse, request)
    await check_limits(session, client, request, estimate)
    view = await insert_booking(
        session, client, request, fingerprint, evse, new_id, token, token_uid, estimate,
        cpo_request_at(evse, request, now, by_calendar=booking_location is not None), now)
    await enqueue(session, view, evse, booking_location, policy, now)
    return view


__all__ = [
    "BookingPolicy", "BookingRequest", "LockedEvse", "check_calendar", "check_evse", "check_in_use",
    "check_limits", "check_slot", "check_window", "choose_token", "cpo_request_at", "create_booking",
    "enqueue", "find_replay", "insert_booking", "quote", "resolve_evse",
]
