"""Sessions and CDRs from CPOs: they move bookings to ATTENDING and COMPLETED, and price them.

OCPI 2.2.1 mod_sessions.asciidoc / mod_cdrs.asciidoc (we are the Receiver). A session belongs
to a booking when it carries the booking id as ``authorization_reference``, or when it is at the
booked EVSE with the booking's token during the window (plus a grace either side).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import (
    Booking,
    ChargeDetailRecord,
    ChargingSession,
    Client,
    Evse,
    Location,
    Party,
)
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.domain.lifecycle import BookingEvent, BookingStatus
from chargebook.domain.tariff import price_session
from chargebook.domain.tariff_model import parse_tariff
from chargebook.domain.tariff_session import SessionProfile
from chargebook.ocpi.editions import models, price_parts
from chargebook.ocpi.v221.types import parse_datetime
from chargebook.ocpi.validation import check
from chargebook.services.billing import record_charge
from chargebook.services.booking_state import booking_by_cpo_id, mark_attending, transition_booking
from chargebook.services.clock import utcnow
from chargebook.services.pricing import quote

ARRIVAL_GRACE = timedelta(minutes=60)  # early arrival, as in services/authorization.py
PRICE_TOLERANCE = Decimal("0.01")



async def _match_booking(
    session: AsyncSession, party: Party, *, reference: str | None, location_id: str, evse_uid: str | None,
    token_uid: str, at: datetime,
) -> Booking | None:
    """The booking this session/CDR belongs to, locked."""
    owned = (
        select(Booking)
        .join(Evse, Booking.evse_pk == Evse.pk)
        .join(Location, Evse.location_pk == Location.pk)
        .where(Location.party_pk == party.id)
    )
    if reference:
        booking = await session.scalar(owned.where(Booking.id == reference).with_for_update(of=Booking))
        if booking is not None:
            return booking
    query = owned.where(
        Booking.location_id == location_id,
        Booking.token_uid == token_uid,
        Booking.reservation_start <= at + ARRIVAL_GRACE,
        Booking.reservation_end >= at - ARRIVAL_GRACE,
        Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.ATTENDING, BookingStatus.COMPLETED]),
    )
    if evse_uid:
        query = query.where(Booking.evse_uid == evse_uid)
    return await session.scalar(query.order_by(Booking.reservation_start).limit(1).with_for_update(of=Booking))


async def put_session(
    db: Database, party: Party, session_id: str, body: dict[str, Any], *, patch: bool, version: str = "2.2.1"
) -> None:
    now = utcnow()
    async with db.write() as session:
        row = await session.scalar(
            select(ChargingSession).where(ChargingSession.party_pk == party.id, ChargingSession.id == session_id)
        )
        if patch:
            if row is None:
                raise NotFound(f"Unknown session {session_id}")
            if "last_updated" not in body:
                raise InvalidRequest("last_updated is required")
            data = copy.deepcopy(row.data)
            periods = body.pop("charging_periods", None)
            data.update(body)
            if periods:  # a PATCH appends charging periods (2.2.1 mod_sessions § PATCH)
                data["charging_periods"] = list(data.get("charging_periods") or []) + list(periods)
        else:
            if body.get("id") != session_id:
                raise InvalidRequest("id in the body differs from the URL")
            data = body
        check(models(version).Session, data, "Session")
        token_uid = (data.get("cdr_token") or {}).get("uid", "")
        start = parse_datetime(data["start_date_time"])
        if row is None:
            row = ChargingSession(party_pk=party.id, id=session_id, booking_id=None, status=data["status"],
                                  token_uid=token_uid, location_id=data["location_id"],
                                  evse_uid=data["evse_uid"], data=data, last_updated=parse_datetime(data["last_updated"]))
            session.add(row)
        else:
            row.status, row.data = data["status"], data
            row.last_updated = parse_datetime(data["last_updated"])
        if data["status"] in ("ACTIVE", "COMPLETED"):
            booking = await _match_booking(
                session, party, reference=data.get("authorization_reference"), location_id=data["location_id"],
                evse_uid=data.get("evse_uid"), token_uid=token_uid, at=start,
            )
            if booking is not None:
                row.booking_id = booking.id
                await mark_attending(session, booking, now, f"session {session_id}")


async def get_session(db: Database, party: Party, session_id: str) -> dict[str, Any]:
    async with db.read() as session:
        row = await session.scalar(
            select(ChargingSession).where(ChargingSession.party_pk == party.id, ChargingSession.id == session_id)
        )
    if row is None:
        raise NotFound(f"Unknown session {session_id}")
    return row.data


async def get_cdr(db: Database, party: Party, cdr_id: str) -> dict[str, Any]:
    """A CDR this CPO sent us, as it sent it (2.2.1 mod_cdrs § GET)."""
    async with db.read() as session:
        row = await session.scalar(
            select(ChargeDetailRecord)
            .where(ChargeDetailRecord.party_pk == party.id, ChargeDetailRecord.id == cdr_id)
            .order_by(ChargeDetailRecord.pk)
        )
    if row is None:
        raise NotFound(f"Unknown CDR {cdr_id}")
    return dict(row.data)


def _hours(cdr: dict[str, Any], dimension: str) -> Decimal:
    return sum(
        (Decimal(str(d.get("volume", 0))) for p in cdr.get("charging_periods") or []
         for d in p.get("dimensions") or [] if d.get("type") == dimension),
        Decimal(0),
    )


async def _our_price(session: AsyncSession, party: Party, cdr: dict[str, Any]) -> Decimal | None:
    """Our own calculation of the CDR's cost with the tariff it carries, to check the CPO's.

    The session starts after the reserved time (RESERVATION_TIME periods); CDRs carry no time
    zone (OCPI issue #517), so the Location's, from our catalogue, decides local time.
    Reservation-only CDRs are not re-priced (expired and cancelled reservations price apart).
    """
    tariffs = cdr.get("tariffs") or []
    hours = Decimal(str(cdr.get("total_time", 0)))
    if not tariffs or hours <= 0:
        return None
    location = cdr.get("cdr_location") or {}
    zone_name = await session.scalar(
        select(Location.time_zone).where(Location.party_pk == party.id, Location.id == location.get("id"))
    )
    try:
        tariff = parse_tariff(tariffs[0])
        zone = ZoneInfo(zone_name or location.get("time_zone") or "UTC")
        reserved = _hours(cdr, "RESERVATION_TIME")
        start = (parse_datetime(cdr["start_date_time"]) + timedelta(hours=float(reserved))).astimezone(zone)
        parking = Decimal(str(cdr.get("total_parking_time") or 0))
        profile = SessionProfile(
            start=start, energy_kwh=Decimal(str(cdr.get("total_energy", 0))),
            charging_minutes=(hours - parking) * 60, parking_minutes=parking * 60,
            reservation_minutes=reserved * 60,
        )
        return price_session(tariff, profile).excl_vat
    except Exception:  # a tariff we cannot price is "no opinion", not an error
        return None


async def receive_cdr(db: Database, party: Party, body: dict[str, Any], version: str = "2.2.1") -> str:
    """Store a CDR (never lost: unknown or repeated ones are flagged) and complete its booking.
    A 2.3.0 CDR names its booking (Bookings 1.1 ``booking_id``: the CPO's booking id)."""
    check(models(version).CDR, body, "CDR")
    now = utcnow()
    async with db.write() as session:
        seen = await session.scalar(
            select(ChargeDetailRecord.pk).where(ChargeDetailRecord.party_pk == party.id, ChargeDetailRecord.id == body["id"])
        )
        excl, incl = price_parts(body["total_cost"])
        row = ChargeDetailRecord(
            party_pk=party.id, id=body["id"], session_id=body.get("session_id"), booking_id=None,
            currency=body["currency"], total_cost_excl_vat=excl, total_cost_incl_vat=incl,
            our_cost_excl_vat=None, flag="duplicate" if seen else None, data=body, received_at=now,
        )
        session.add(row)
        if seen:
            return row.id
        row.our_cost_excl_vat = await _our_price(session, party, body)
        if row.our_cost_excl_vat is not None and abs(row.our_cost_excl_vat - row.total_cost_excl_vat) > PRICE_TOLERANCE:
            row.flag = "price_mismatch"
        booking = await _booking_for_cdr(session, party, body)
        if booking is None:
            row.flag = row.flag or "unmatched"
            return row.id
        row.booking_id = booking.id
        await _complete(session, booking, row, now)
    return row.id


async def _booking_for_cdr(session: AsyncSession, party: Party, cdr: dict[str, Any]) -> Booking | None:
    if cdr.get("booking_id"):
        found = await booking_by_cpo_id(session, party, str(cdr["booking_id"]))
        if found is not None:
            return found
    if cdr.get("session_id"):
        known = await session.scalar(
            select(ChargingSession.booking_id).where(
                ChargingSession.party_pk == party.id, ChargingSession.id == cdr["session_id"]
            )
        )
        if known:
            return await session.get(Booking, known, with_for_update=True)
    location = cdr.get("cdr_location") or {}
    return await _match_booking(
        session, party, reference=cdr.get("authorization_reference"), location_id=location.get("id", ""),
        evse_uid=location.get("evse_uid"), token_uid=(cdr.get("cdr_token") or {}).get("uid", ""),
        at=parse_datetime(cdr["start_date_time"]),
    )


async def _complete(session: AsyncSession, booking: Booking, cdr: ChargeDetailRecord, now: datetime) -> None:
    client = await session.get(Client, booking.client_id)
    assert client is not None
    cpo_cost = cdr.total_cost_incl_vat if cdr.total_cost_incl_vat is not None else cdr.total_cost_excl_vat
    price = quote(cpo_cost, client.reservation_fee, client.commission_percent, cdr.currency)
    booking.client_price = price.client_price
    booking.client_price_currency = price.currency
    breakdown = price.breakdown() | {"estimated": False, "cdr_id": cdr.id}
    if cdr.total_cost_incl_vat is not None:
        breakdown["vat"] = str(cdr.total_cost_incl_vat - cdr.total_cost_excl_vat)
    booking.price_breakdown = breakdown
    if booking.status == BookingStatus.CONFIRMED:
        await mark_attending(session, booking, now, f"CDR {cdr.id}")
    if booking.status == BookingStatus.ATTENDING:
        await transition_booking(session, booking, BookingEvent.SESSION_COMPLETED, actor="cpo", now=now,
                                 message=f"CDR {cdr.id}")
    else:  # a CDR for a booking that had already ended (a no-show's or cancellation's cost)
        await record_charge(session, booking, now, f"CDR {cdr.id}")
