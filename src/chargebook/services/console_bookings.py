"""Bookings as the console shows them: lists filtered by client, status, CPO and dates, and
one booking with everything that happened to it (its transitions, every OCPI command and
booking request with the CPO's answer, the charging session, the CDR, the price breakdown).

Operators read across clients (``client_id=None``); a client user's pages always pass their
own client, and another client's booking is then ``NotFound``, exactly like the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import (
    Booking,
    BookingTransition,
    ChargeDetailRecord,
    ChargingSession,
    Client,
    Command,
    Evse,
    Location,
    OcpiBooking,
    OcpiBookingRequest,
    Party,
    Token,
)
from chargebook.domain.errors import NotFound
from chargebook.domain.lifecycle import BookingStatus

MAX_LIST = 200


@dataclass(frozen=True, slots=True)
class BookingQuery:
    client_id: str | None = None  # None: every client (operators only)
    statuses: tuple[BookingStatus, ...] = ()
    party_pk: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    fleet_group_id: str | None = None
    limit: int = 50
    before: tuple[datetime, str] | None = None  # keyset: (created_at, id) of the last row seen


@dataclass(frozen=True, slots=True)
class BookingRow:
    booking: Booking
    client_name: str
    party: str  # CC*PID


def _party_label(party: Party) -> str:
    return f"{party.country_code}*{party.party_id}"


async def list_bookings(db: Database, q: BookingQuery) -> list[BookingRow]:
    """Newest first (created_at, id), keyset-paged."""
    query = (
        select(Booking, Client.name, Party)
        .join(Client, Client.id == Booking.client_id)
        .join(Evse, Evse.pk == Booking.evse_pk)
        .join(Location, Location.pk == Evse.location_pk)
        .join(Party, Party.id == Location.party_pk)
    )
    if q.client_id is not None:
        query = query.where(Booking.client_id == q.client_id)
    if q.statuses:
        query = query.where(Booking.status.in_([s.value for s in q.statuses]))
    if q.party_pk is not None:
        query = query.where(Location.party_pk == q.party_pk)
    if q.fleet_group_id is not None:
        query = query.where(Booking.fleet_group_id == q.fleet_group_id)
    if q.created_from is not None:
        query = query.where(Booking.created_at >= q.created_from)
    if q.created_to is not None:
        query = query.where(Booking.created_at < q.created_to)
    if q.before is not None:
        created, last_id = q.before
        query = query.where(
            (Booking.created_at < created)
            | ((Booking.created_at == created) & (Booking.id < last_id))
        )
    query = query.order_by(Booking.created_at.desc(), Booking.id.desc()).limit(
        min(q.limit, MAX_LIST)
    )
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    return [BookingRow(b, name, _party_label(p)) for b, name, p in rows]


@dataclass(slots=True)
class BookingDetail:
    booking: Booking
    client_name: str
    party: Party
    location_name: str | None
    token: Token | None
    transitions: list[BookingTransition] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    booking_requests: list[OcpiBookingRequest] = field(default_factory=list)
    ocpi_booking: OcpiBooking | None = None
    sessions: list[ChargingSession] = field(default_factory=list)
    cdrs: list[ChargeDetailRecord] = field(default_factory=list)

    @property
    def party_label(self) -> str:
        return _party_label(self.party)


async def booking_detail(db: Database, booking_id: str, client_id: str | None) -> BookingDetail:
    async with db.read() as session:
        row = (
            await session.execute(
                select(Booking, Client.name, Party, Location.name)
                .join(Client, Client.id == Booking.client_id)
                .join(Evse, Evse.pk == Booking.evse_pk)
                .join(Location, Location.pk == Evse.location_pk)
                .join(Party, Party.id == Location.party_pk)
                .where(Booking.id == booking_id)
            )
        ).first()
        if row is None or (client_id is not None and row[0].client_id != client_id):
            raise NotFound(f"Booking not found: {booking_id}")
        booking, client_name, party, location_name = row
        detail = BookingDetail(
            booking,
            client_name,
            party,
            location_name,
            await session.get(Token, booking.token_pk) if booking.token_pk else None,
        )
        detail.transitions = list(
            await session.scalars(
                select(BookingTransition)
                .where(BookingTransition.booking_id == booking_id)
                .order_by(BookingTransition.pk)
            )
        )
        detail.commands = list(
            await session.scalars(
                select(Command)
                .where(Command.booking_id == booking_id)
                .order_by(Command.created_at, Command.id)
            )
        )
        detail.booking_requests = list(
            await session.scalars(
                select(OcpiBookingRequest)
                .where(OcpiBookingRequest.booking_id == booking_id)
                .order_by(OcpiBookingRequest.created_at, OcpiBookingRequest.id)
            )
        )
        detail.ocpi_booking = await session.get(OcpiBooking, booking_id)
        detail.sessions = list(
            await session.scalars(
                select(ChargingSession)
                .where(ChargingSession.booking_id == booking_id)
                .order_by(ChargingSession.pk)
            )
        )
        detail.cdrs = list(
            await session.scalars(
                select(ChargeDetailRecord)
                .where(ChargeDetailRecord.booking_id == booking_id)
                .order_by(ChargeDetailRecord.pk)
            )
        )
    return detail
