"""The simulator's in-memory state: catalogue, the eMSP connection, reservations, bookings,
sessions, CDRs.

Everything here lives in the simulator's event loop and is touched only from it (request
handlers and background tasks), so no locks are needed. Ids are CiStrings (OCPI 2.2.1
types.asciidoc § CiString): lookups go through :func:`ci_key`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from chargebook.cpo_sim.booked import SimBooking
from chargebook.ocpi.client import Party
from chargebook.ocpi.v221 import (
    CDR,
    EVSE,
    AuthMethod,
    ChargingPeriod,
    CredentialsRole,
    Location,
    Role,
    Session,
    SessionStatus,
    Status,
    Tariff,
    Token,
    ci_key,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Peer:
    """The eMSP we are connected to (OCPI 2.2.1 credentials.asciidoc § Registration)."""

    versions_url: str
    version: str
    endpoints: dict[tuple[str, str], str]  # (module id, interface role) → URL
    client_token: str  # the token we present to the eMSP
    server_token: str  # the token the eMSP presents to us
    roles: list[CredentialsRole]
    registered_at: datetime

    def endpoint(self, module: str, role: str = "RECEIVER") -> str | None:
        """The eMSP's URL for ``module``; a peer listing one interface only may omit the role."""
        exact = self.endpoints.get((module, role))
        if exact:
            return exact
        others = [url for (mod, _), url in self.endpoints.items() if mod == module]
        return others[0] if len(others) == 1 else None

    @property
    def party(self) -> Party:
        emsp = [r for r in self.roles if r.role == Role.EMSP] or self.roles
        return Party(emsp[0].country_code, emsp[0].party_id)


class ReservationStatus(StrEnum):
    ACTIVE = "ACTIVE"  # the EVSE is held for the token
    IN_USE = "IN_USE"  # the driver arrived and a session runs
    USED = "USED"  # the session ended
    CANCELED = "CANCELED"  # by the eMSP (CANCEL_RESERVATION) or by us (CANCELED_RESERVATION)
    EXPIRED = "EXPIRED"  # expiry_date passed without a session


@dataclass
class Reservation:
    """A RESERVE_NOW we accepted. ``id`` is ours: OCPI says the eMSP's reservation_id must not
    reach the charger as is (mod_commands.asciidoc § ReserveNow Object)."""

    id: str
    reservation_id: str
    location_id: str
    evse_uid: str
    connector_id: str
    token: Token
    expiry_date: datetime
    response_url: str
    authorization_reference: str | None
    start: datetime
    arrive_at: datetime | None  # None: the driver never comes
    status: ReservationStatus = ReservationStatus.ACTIVE
    session_id: str | None = None
    ended_at: datetime | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def live(self) -> bool:
        return self.status in (ReservationStatus.ACTIVE, ReservationStatus.IN_USE)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reservation_id": self.reservation_id,
            "location_id": self.location_id,
            "evse_uid": self.evse_uid,
            "connector_id": self.connector_id,
            "token_uid": self.token.uid,
            "token_type": str(self.token.type),
            "expiry_date": self.expiry_date,
            "response_url": self.response_url,
            "authorization_reference": self.authorization_reference,
            "start": self.start,
            "arrive_at": self.arrive_at,
            "status": self.status.value,
            "session_id": self.session_id,
            "ended_at": self.ended_at,
        }


@dataclass
class SimSession:
    """A charging session the simulated driver runs; ``ocpi`` is the Session as last sent."""

    id: str
    location_id: str
    evse_uid: str
    connector_id: str
    token: Token
    auth_method: AuthMethod
    authorization_reference: str | None
    start: datetime
    power_kw: Decimal
    reservation: Reservation | None = None
    kwh: Decimal = Decimal(0)
    charging_seconds: Decimal = Decimal(0)
    parking_seconds: Decimal = Decimal(0)
    status: SessionStatus = SessionStatus.ACTIVE
    end: datetime | None = None
    periods: list[ChargingPeriod] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    ocpi: Session | None = None
    cdr_id: str | None = None
    booking_id: str | None = None  # the Booking (2.3.0 Bookings) this session fulfils


@dataclass
class CommandRecord:
    """One command received, what we answered, and what became of its CommandResult."""

    id: str
    command: str
    received_at: datetime
    request: Any
    response: Any = None
    status_code: int = 1000
    result: str | None = None
    result_delivery: str = "none"  # none | pending | sent | failed | withheld
    request_id: str | None = None  # the eMSP's X-Request-ID and X-Correlation-ID on the call
    correlation_id: str | None = None

    def view(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Store:
    locations: dict[str, Location] = field(default_factory=dict)
    tariffs: dict[str, Tariff] = field(default_factory=dict)
    token_a: str | None = None
    peer: Peer | None = None
    pending_token: str | None = None  # token B while our own POST /credentials is in flight
    tokens: dict[tuple[str, str], Token] = field(default_factory=dict)  # (uid, type)
    reservations: dict[str, Reservation] = field(default_factory=dict)  # by eMSP reservation_id
    sessions: dict[str, SimSession] = field(default_factory=dict)
    cdrs: list[CDR] = field(default_factory=list)
    cdr_urls: dict[str, str | None] = field(default_factory=dict)  # CDR id → eMSP Location header
    cdr_bookings: dict[str, str] = field(default_factory=dict)  # CDR id → booking id
    bookings: dict[str, SimBooking] = field(default_factory=dict)  # by our booking id (ci_key)
    commands: list[CommandRecord] = field(default_factory=list)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def log(self, kind: str, **detail: Any) -> None:
        """A line in the event log (``GET /sim/events``): what happened, for tests and demos."""
        self.events.append({"at": utcnow(), "kind": kind, **detail})

    # --- catalogue -----------------------------------------------------------------------

    def location(self, location_id: str) -> Location | None:
        return self.locations.get(ci_key(location_id))

    @staticmethod
    def evse(location: Location, evse_uid: str) -> EVSE | None:
        key = ci_key(evse_uid)
        return next((e for e in location.evses or [] if ci_key(e.uid) == key), None)

    @staticmethod
    def set_evse_status(location: Location, evse: EVSE, status: Status, now: datetime) -> None:
        """OCPI 2.2.1 mod_locations.asciidoc § Sender: changing an EVSE bumps the Location's
        last_updated too (date-filtered pulls must find it)."""
        evse.status = status
        evse.last_updated = now
        location.last_updated = now

    def live_reservation_on(self, location_id: str, evse_uid: str) -> Reservation | None:
        loc, evse = ci_key(location_id), ci_key(evse_uid)
        return next(
            (
                r
                for r in self.reservations.values()
                if r.live and ci_key(r.location_id) == loc and ci_key(r.evse_uid) == evse
            ),
            None,
        )

    def running_session_on(self, location_id: str, evse_uid: str) -> SimSession | None:
        loc, evse = ci_key(location_id), ci_key(evse_uid)
        return next(
            (
                s
                for s in self.sessions.values()
                if s.status in (SessionStatus.ACTIVE, SessionStatus.PENDING)
                and ci_key(s.location_id) == loc
                and ci_key(s.evse_uid) == evse
            ),
            None,
        )

    def booking(self, booking_id: str) -> SimBooking | None:
        return self.bookings.get(ci_key(booking_id))

    def booking_by_request(
        self, country_code: str, party_id: str, request_id: str
    ) -> SimBooking | None:
        """The booking an eMSP's ``request_id`` names (unique per requesting party)."""
        key = (ci_key(country_code), ci_key(party_id), ci_key(request_id))
        return next((b for b in self.bookings.values() if b.request_key == key), None)

    def bookings_on(self, location_id: str, evse_uid: str) -> list[SimBooking]:
        loc, evse = ci_key(location_id), ci_key(evse_uid)
        return [
            b
            for b in self.bookings.values()
            if ci_key(b.location_id) == loc and ci_key(b.evse_uid) == evse
        ]

    def session(self, session_id: str) -> SimSession | None:
        key = ci_key(session_id)
        return next((s for k, s in self.sessions.items() if ci_key(k) == key), None)
