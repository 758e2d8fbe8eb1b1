"""BookingLocations and their Calendars from CPOs (OCPI 2.3.0 Bookings 1.1): pushes, pulls,
and the one question search and booking ask of them: is this window free at this EVSE?

mod_bookings.asciidoc § BookingLocation Object, § Calendar object, § Receiver Interface
(the CPO PUTs/PATCHes them to us) and § Sender Interface (we GET them, paginated). Each
BookingLocation is kept whole in ``data``; every ``available_timeslots`` entry of its
calendars is also a row (``booking_timeslots``) so that "does an available slot contain
this window?" is one indexed query. A BookingLocation names one EVSE
(``booking_option.evse_uid``) or, without one (or with ``#NA``), the whole Location.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import BookingLocation, BookingTimeslot, Party
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.ocpi.client import OcpiClient
from chargebook.ocpi.v221.types import parse_datetime
from chargebook.ocpi.v230.bookings import BookingLocation as OcpiBookingLocation
from chargebook.ocpi.v230.bookings import Calendar as OcpiCalendar
from chargebook.ocpi.validation import check
from chargebook.services.party_locks import lock_party, retrying

PAGE_LIMIT = 100
NOT_ASSIGNED = "#NA"  # BookingOption.evse_uid before the CPO assigns an EVSE


def _evse_uid(body: dict[str, Any]) -> str | None:
    # 1.1 has it in booking_option; a 1.0-style top-level evse_uid is read too (§4.7 quirk).
    uid = (body.get("booking_option") or {}).get("evse_uid") or body.get("evse_uid")
    return None if not uid or uid == NOT_ASSIGNED else str(uid)


async def _load(session: AsyncSession, party: Party, booking_location_id: str) -> BookingLocation | None:
    return await session.scalar(select(BookingLocation).where(
        BookingLocation.party_pk == party.id, BookingLocation.id == booking_location_id))


async def _locked_copy(
    session: AsyncSession, party: Party, booking_location_id: str
) -> tuple[BookingLocation, dict[str, Any]]:
    """A known BookingLocation under the CPO's write lock, and a copy of its data to edit."""
    await lock_party(session, party)
    row = await _load(session, party, booking_location_id)
    if row is None:
        raise NotFound(f"Unknown booking location {booking_location_id}")
    return row, copy.deepcopy(row.data)


async def store_booking_location(session: AsyncSession, party: Party, body: dict[str, Any]) -> None:
    """Insert or replace one BookingLocation and its timeslot rows (the caller checked it)."""
    row = await _load(session, party, body["id"])
    stamp = parse_datetime(body["last_updated"])
    if row is None:
        row = BookingLocation(party_pk=party.id, id=body["id"], location_id=body["location_id"],
                              evse_uid=_evse_uid(body), data=body, last_updated=stamp)
        session.add(row)
        await session.flush()
    else:
        row.location_id, row.evse_uid, row.data, row.last_updated = (
            body["location_id"], _evse_uid(body), body, stamp)
        await session.execute(delete(BookingTimeslot).where(BookingTimeslot.booking_location_pk == row.pk))
    for calendar in body.get("calendars") or []:
        for slot in calendar.get("available_timeslots") or []:
            session.add(BookingTimeslot(
                booking_location_pk=row.pk, calendar_id=calendar["id"],
                start_at=parse_datetime(slot["start_date_time"]), end_at=parse_datetime(slot["end_date_time"])))


async def put_booking_location(db: Database, party: Party, booking_location_id: str, body: dict[str, Any]) -> None:
    check(OcpiBookingLocation, body, "BookingLocation")
    if str(body["id"]).casefold() != booking_location_id.casefold():
        raise InvalidRequest("id in the body differs from the URL")

    async def work() -> None:
        async with db.write() as session:
            await lock_party(session, party)
            await store_booking_location(session, party, body)

    await retrying(work)


def _newer(current: Any, stamp: datetime) -> bool:
    return current is not None and parse_datetime(current) > stamp


async def patch_booking_location(
    db: Database, party: Party, booking_location_id: str, calendar_id: str | None, body: dict[str, Any]
) -> bool:
    """PATCH a BookingLocation or one of its Calendars. False when the patch is older than
    what we hold. A Calendar change also bumps the BookingLocation's ``last_updated``
    (§ PATCH Method: the Receiver SHALL). Nested ``booking_terms`` merge (the official
    terms example sends part of them); other objects and arrays replace."""
    if body.get("last_updated") is None:
        raise InvalidRequest("last_updated is required")
    stamp = parse_datetime(body["last_updated"])
    async with db.write() as session:
        row, data = await _locked_copy(session, party, booking_location_id)
        if calendar_id is None:
            if _newer(data.get("last_updated"), stamp):
                return False
            terms = body.get("booking_terms")
            if isinstance(terms, dict) and isinstance(data.get("booking_terms"), dict):
                body = {**body, "booking_terms": {**data["booking_terms"], **terms}}
            data.update(body)
        else:
            calendars = data.setdefault("calendars", [])
            calendar = next((c for c in calendars if str(c.get("id")).casefold() == calendar_id.casefold()), None)
            if calendar is None:
                raise NotFound(f"Unknown calendar {calendar_id}")
            if _newer(calendar.get("last_updated"), stamp):
                return False
            calendar.update(body)
            if not _newer(data.get("last_updated"), stamp):
                data["last_updated"] = body["last_updated"]
        check(OcpiBookingLocation, data, "BookingLocation after PATCH")
        await store_booking_location(session, party, data)
    return True


async def put_calendar(db: Database, party: Party, booking_location_id: str, calendar_id: str,
                       body: dict[str, Any]) -> None:
    """PUT one Calendar of a known BookingLocation (added or replaced)."""
    check(OcpiCalendar, body, "Calendar")
    if str(body["id"]).casefold() != calendar_id.casefold():
        raise InvalidRequest("id in the body differs from the URL")
    async with db.write() as session:
        row, data = await _locked_copy(session, party, booking_location_id)
        calendars = [c for c in data.get("calendars") or [] if str(c.get("id")).casefold() != calendar_id.casefold()]
        data["calendars"] = [*calendars, body]
        if not _newer(data.get("last_updated"), parse_datetime(body["last_updated"])):
            data["last_updated"] = body["last_updated"]
        await store_booking_location(session, party, data)


async def get_booking_location(db: Database, party: Party, booking_location_id: str,
                               calendar_id: str | None = None) -> dict[str, Any]:
    async with db.read() as session:
        row = await _load(session, party, booking_location_id)
    if row is None:
        raise NotFound(f"Unknown booking location {booking_location_id}")
    if calendar_id is None:
        return row.data
    for calendar in row.data.get("calendars") or []:
        if str(calendar.get("id")).casefold() == calendar_id.casefold():
            return dict(calendar)
    raise NotFound(f"Unknown calendar {calendar_id}")


async def pull_booking_locations(db: Database, party: Party, client: OcpiClient) -> int:
    """GET {bookings_url}/booking_locations, every page (§ Sender Interface)."""
    if not party.bookings_url:
        return 0
    count = 0
    async for items, _total in client.pages(f"{party.bookings_url.rstrip('/')}/booking_locations",
                                            {"limit": PAGE_LIMIT}):
        page = [item for item in items if isinstance(item, dict)]
        for item in page:
            check(OcpiBookingLocation, item, "BookingLocation")

        async def work(page: list[dict[str, Any]] = page) -> None:
            async with db.write() as session:
                await lock_party(session, party)
                for item in page:
                    await store_booking_location(session, party, item)

        await retrying(work)
        count += len(page)
    return count


def _booking_locations_of(party_pk: Any, location_id: Any, evse_uid: Any) -> Any:
    bl = BookingLocation.__table__.c
    return (bl.party_pk == party_pk, bl.location_id == location_id,
            or_(bl.evse_uid == evse_uid, bl.evse_uid.is_(None)))


def books_evse(party_pk: Any, location_id: Any, evse_uid: Any) -> Any:
    """SQL: a BookingLocation of the CPO books this EVSE (its own or its whole Location's):
    bookings of it go through the Bookings module, whose calendar decides."""
    return exists().where(*_booking_locations_of(party_pk, location_id, evse_uid))


def calendar_allows(party_pk: Any, location_id: Any, evse_uid: Any, start: Any, end: Any) -> Any:
    """SQL: the EVSE is free for [start, end) by its CPO's calendars. True when no
    BookingLocation books it (a CPO without the Bookings module: only our own bookings
    decide), else an available timeslot of one that books it must contain the window.
    Search and booking ask the same question; arguments may be columns or values."""
    bl, ts = BookingLocation.__table__, BookingTimeslot.__table__
    booked_by_calendar = exists().where(*_booking_locations_of(party_pk, location_id, evse_uid))
    in_slot = exists(
        select(ts.c.pk).select_from(bl.join(ts, ts.c.booking_location_pk == bl.c.pk)).where(
            *_booking_locations_of(party_pk, location_id, evse_uid),
            ts.c.start_at <= start, ts.c.end_at >= end))
    return or_(~booked_by_calendar, in_slot)


async def booking_location_for(
    session: AsyncSession, party_pk: str, location_id: str, evse_uid: str, start: datetime, end: datetime
) -> tuple[bool, BookingLocation | None]:
    """(whether the CPO books this EVSE through the Bookings module, the BookingLocation with
    an available timeslot containing the window: one naming the EVSE before one for its whole
    Location). (False, None): not a Bookings EVSE; (True, None): not free then."""
    rows = list(await session.scalars(
        select(BookingLocation).where(*_booking_locations_of(party_pk, location_id, evse_uid))
        .order_by(BookingLocation.evse_uid.is_(None), BookingLocation.pk)))
    for row in rows:
        if await window_available(session, row, start, end):
            return True, row
    return bool(rows), None


def slot_contains(booking_location_pk: Any, start: Any, end: Any) -> Any:
    """SQL: an available timeslot of the BookingLocation contains [start, end)."""
    return exists().where(
        BookingTimeslot.booking_location_pk == booking_location_pk,
        BookingTimeslot.start_at <= start,
        BookingTimeslot.end_at >= end,
    )


async def window_available(session: AsyncSession, booking_location: BookingLocation,
                           start: datetime, end: datetime) -> bool:
    return bool(await session.scalar(select(slot_contains(booking_location.pk, start, end))))
