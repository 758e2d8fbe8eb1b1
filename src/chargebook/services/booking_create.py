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

Every concurrent creator for one EVSE queues on step 2, and each sees the winners before it.
A plain create issues five statements (EVSE lock, overlap check, ad-hoc token, booking,
history entry), one more with an ``external_id`` (the replay check) and one more when a
connector names a tariff; locks are taken in one order (EVSE, then group).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Select, bindparam, case, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation
from chargebook.db.engine import Database
from chargebook.db.models import (
    Booking,
    BookingLocation,
    BookingTransition,
    Customer,
    Evse,
    Location,
    Party,
    Token,
)
from chargebook.domain import lifecycle
from chargebook.domain.errors import (
    AmbiguousEvse,
    DuplicateExternalId,
    EvseNotBookable,
    InvalidRequest,
    NotFound,
    SlotTaken,
    SpendingLimitExceeded,
    Unavailability,
)
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.domain.tokens import (
    StrategyFields,
    TokenKind,
    TokenStrategy,
    TokenType,
    WhitelistType,
    strategy_fields,
)
from chargebook.domain.windows import WindowRules, sent_at_once
from chargebook.domain.windows import check_window as window_rules
from chargebook.services import webhook_events
from chargebook.services.booking_calendars import booking_location_for
from chargebook.services.booking_requests import check_terms, record_create
from chargebook.services.catalogue import OUT_OF_SERVICE
from chargebook.services.clients import ClientContext
from chargebook.services.clock import utcnow
from chargebook.services.contracts import contract_allows
from chargebook.services.estimates import Estimate
from chargebook.services.fleet import group_spend, own_group
from chargebook.services.ids import booking_id
from chargebook.services.quotes import quote_booking
from chargebook.services.tokens import Issuer, add_tokens, new_token
from chargebook.services.wire import BookingView

#: How many CPOs an ambiguous id names at most in its 409.
MAX_CHOICES = 10


@dataclass(frozen=True, slots=True)
class BookingRequest:
    location_id: str
    evse_uid: str
    reservation_start: datetime
    reservation_end: datetime
    token_strategy: TokenStrategy = TokenStrategy.AD_HOC
    connector_id: str | None = None
    external_id: str | None = None
    customer_id: str | None = None
    token_id: str | None = None
    fleet_group_id: str | None = None
    token_uid: str | None = None
    cpo_party_id: str | None = None  # as search returns it: which CPO's location_id this is
    cpo_country_code: str | None = None

    def effective(self) -> BookingRequest:
        """The request as its strategy reads it: fields it does not use are dropped (EV Suite
        marks them "not required", not forbidden); a missing or malformed one raises."""
        kept = strategy_fields(self.token_strategy, StrategyFields(
            customer_id=self.customer_id, token_id=self.token_id,
            fleet_group_id=self.fleet_group_id, token_uid=self.token_uid))
        return replace(self, customer_id=kept.customer_id, token_id=kept.token_id,
                       fleet_group_id=kept.fleet_group_id, token_uid=kept.token_uid)

    def fingerprint(self) -> str:
        """Same request, same fingerprint: how a repeated external_id is told from a clash.
        Taken of the effective request, so fields the strategy ignores never make a clash."""
        body = {
            "location_id": self.location_id,
            "evse_uid": self.evse_uid,
            "connector_id": self.connector_id,
            "reservation_start": self.reservation_start.timestamp(),
            "reservation_end": self.reservation_end.timestamp(),
            "token_strategy": str(self.token_strategy),
            "customer_id": self.customer_id,
            "token_id": self.token_id,
            "fleet_group_id": self.fleet_group_id,
            "token_uid": self.token_uid.upper() if self.token_uid else None,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    """The platform's booking rules (from settings)."""

    min_lead: timedelta = timedelta(minutes=15)
    max_horizon: timedelta = timedelta(days=365)
    issuer: Issuer = Issuer()


@dataclass(frozen=True, slots=True)
class LockedEvse:
    """The EVSE row a create holds locked, with what the rules need of its location and CPO."""

    pk: int
    uid: str
    status: str
    reservable: bool
    data: dict[str, Any]
    location_id: str
    city: str | None
    time_zone: str | None
    party_pk: str
    country_code: str
    party_id: str
    max_reservation_minutes: int
    bookings_url: str | None
    party_status: str
    reserve_lead_minutes: int
    has_webhooks: bool

    @property
    def connectors(self) -> list[dict[str, Any]]:
        return list(self.data.get("connectors") or [])


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
                    live = await _live_by_external_id(session, client.id, request.external_id)
                    if live is not None:
                        return await _replay_or_clash(session, live, request, fingerprint, None)
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


# --- 2. which EVSE -----------------------------------------------------------------------------

_EVSE_COLUMNS = (
    Evse.pk, Evse.uid, Evse.status, Evse.reservable, Evse.data, Location.id, Location.city,
    Location.time_zone, Party.id, Party.country_code, Party.party_id, Party.max_reservation_minutes,
    Party.bookings_url, Party.status, Party.reserve_lead_minutes,
    webhook_events.CLIENT_HAS_ENDPOINTS,  # rides along: no round trip when there are none
)
# Statements on the hot path are built once per shape: composing SQL expressions per request
# costs more than executing them (measured with bench/bookings.py --profile).
_EVSE_STATEMENTS: dict[tuple[bool, bool, bool], Select[Any]] = {}


def _cpo_conditions(party: bool, country: bool, contract: bool) -> list[Any]:
    """Which CPO's ids: the one the request names (OCPI ids are CiStrings, compared upper
    case), within the client's contract."""
    out: list[Any] = []
    if party:
        out.append(func.upper(Party.party_id) == bindparam("cpo_party_id"))
    if country:
        out.append(func.upper(Party.country_code) == bindparam("cpo_country_code"))
    if contract:
        out.append(contract_allows(Party.id))
    return out


def _evse_statement(party: bool, country: bool, contract: bool) -> Select[Any]:
    key = (party, country, contract)
    stmt = _EVSE_STATEMENTS.get(key)
    if stmt is None:
        stmt = _EVSE_STATEMENTS[key] = (
            select(*_EVSE_COLUMNS)
            .join(Location, Evse.location_pk == Location.pk)
            .join(Party, Location.party_pk == Party.id)
            .where(Location.id == bindparam("location_id"), Evse.uid == bindparam("evse_uid"),
                   *_cpo_conditions(party, country, contract))
            .order_by(Evse.pk)
            .limit(MAX_CHOICES)
            .with_for_update(of=Evse)
        )
    return stmt


def _cpo_params(client: ClientContext, request: BookingRequest) -> dict[str, Any]:
    return {
        "client_id": client.id,
        "cpo_party_id": (request.cpo_party_id or "").strip().upper(),
        "cpo_country_code": (request.cpo_country_code or "").strip().upper(),
    }


async def resolve_evse(session: AsyncSession, client: ClientContext, request: BookingRequest) -> LockedEvse:
    """The requested EVSE, locked. Location ids and EVSE uids are unique only per CPO
    (OCPI 2.2.1 mod_locations.asciidoc § Location Object: ``id`` is unique within the CPO's
    platform), so an id two CPOs share needs ``cpo_party_id``; it is never resolved silently.
    A CPO outside the client's contract answers exactly like an unknown EVSE."""
    shape = (bool(request.cpo_party_id), bool(request.cpo_country_code), not client.all_cpos)
    rows = (await session.execute(_evse_statement(*shape), {
        "location_id": request.location_id, "evse_uid": request.evse_uid, **_cpo_params(client, request),
    })).all()
    if not rows:
        await _raise_not_found(session, client, request, shape)
    if len(rows) > 1:
        choices = [{"cpo_country_code": row[9], "cpo_party_id": row[10]} for row in rows]
        names = ", ".join(f"{c['cpo_country_code']}*{c['cpo_party_id']}" for c in choices)
        raise AmbiguousEvse(
            f"EVSE {request.evse_uid} at location {request.location_id} exists at more than one "
            f"CPO ({names}): send cpo_party_id (and cpo_country_code) as search returned them",
            choices)
    values = [*rows[0][:-1], bool(rows[0][-1])]  # the last column is has_webhooks
    return LockedEvse(*values)


async def _raise_not_found(
    session: AsyncSession, client: ClientContext, request: BookingRequest, shape: tuple[bool, bool, bool]
) -> NoReturn:
    location_known = await session.scalar(select(exists().where(
        Location.id == request.location_id, Location.party_pk == Party.id, *_cpo_conditions(*shape),
    )), _cpo_params(client, request))
    if not location_known:
        raise NotFound(f"Location not found: {request.location_id}")
    raise NotFound(f"EVSE not found: {request.evse_uid} at location {request.location_id}")


# --- 3. a repeated external_id ---------------------------------------------------------------

_LIVE_BY_EXTERNAL_ID = select(Booking).where(
    Booking.client_id == bindparam("client_id"),
    Booking.external_id == bindparam("external_id"),
    Booking.status.in_([s.value for s in LIVE_STATES]),
)


async def _live_by_external_id(session: AsyncSession, client_id: str, external_id: str) -> Booking | None:
    return await session.scalar(_LIVE_BY_EXTERNAL_ID, {"client_id": client_id, "external_id": external_id})


async def find_replay(
    session: AsyncSession, client: ClientContext, request: BookingRequest, fingerprint: str,
    evse: LockedEvse,
) -> BookingView | None:
    """A live booking of this client with this ``external_id``: the same request (and EVSE) is
    a replay of it; another is a 409 naming it. An ended booking frees its external_id."""
    if request.external_id is None:
        return None
    live = await _live_by_external_id(session, client.id, request.external_id)
    if live is None:
        return None
    return await _replay_or_clash(session, live, request, fingerprint, evse.pk)


async def _replay_or_clash(
    session: AsyncSession, live: Booking, request: BookingRequest, fingerprint: str, evse_pk: int | None
) -> BookingView:
    if live.request_hash != fingerprint or (evse_pk is not None and live.evse_pk != evse_pk):
        raise DuplicateExternalId(request.external_id or "", live.id)
    token = await session.get(Token, live.token_pk) if live.token_pk else None
    history = await session.scalars(
        select(BookingTransition).where(BookingTransition.booking_id == live.id).order_by(BookingTransition.pk))
    return BookingView(booking=live, token=token, history=list(history), replayed=True)


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
        str(c.get("id")).casefold() for c in evse.connectors
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


# --- 6. token, price, limits -------------------------------------------------------------------

#: A customer's token for driver_token: RFID cards first, then the newest.
_CUSTOMER_TOKEN = (
    select(Token)
    .where(Token.customer_id == bindparam("customer_id"), Token.valid.is_(True))
    .order_by(case((Token.type == TokenType.RFID.value, 0), else_=1), Token.last_updated.desc(), Token.id)
    .limit(1)
)


async def choose_token(
    session: AsyncSession, client: ClientContext, request: BookingRequest, policy: BookingPolicy,
    new_booking_id: str, evse: LockedEvse, now: datetime,
) -> tuple[Token | None, str]:
    """Which token the CPO will see for this booking, per strategy."""
    strategy = request.token_strategy
    token: Token | None  # a group may have none yet
    if strategy is TokenStrategy.PIPELET:
        return None, request.token_uid or ""
    if strategy is TokenStrategy.AD_HOC:
        token = new_token(
            client_id=client.id, kind=TokenKind.AD_HOC, now=now, issuer=policy.issuer,
            token_type=TokenType.AD_HOC_USER,
            # The CPO must ask us in real time: we allow it only at this EVSE in this window.
            whitelist=WhitelistType.NEVER,
            scope={"booking_id": new_booking_id, "location_id": evse.location_id, "evse_uid": evse.uid,
                   "valid_from": request.reservation_start, "valid_until": request.reservation_end},
        )
        await add_tokens(session, [token])
        return token, token.uid
    if strategy is TokenStrategy.GROUP_TOKEN:
        group = await own_group(session, client.id, request.fleet_group_id or "", lock=True)
        token = await session.scalar(
            select(Token).where(Token.fleet_group_id == group.id, Token.valid.is_(True))
            .order_by(Token.last_updated, Token.id).limit(1))
        if token is None:
            # A group with no token yet gets one: the group token is what the CPO sees.
            token = new_token(client_id=client.id, kind=TokenKind.GROUP, now=now, issuer=policy.issuer,
                              fleet_group_id=group.id)
            await add_tokens(session, [token])
        return token, token.uid
    token = await _driver_token(session, client, request)
    return token, token.uid


async def _driver_token(session: AsyncSession, client: ClientContext, request: BookingRequest) -> Token:
    """``token_id`` names the token; ``customer_id`` alone picks the customer's valid token,
    an RFID card when it has one (every customer has an app token from its creation). Both
    given must agree: the one contradiction between strategy fields."""
    if request.token_id is not None:
        token = await session.get(Token, request.token_id)
        if token is None or token.client_id != client.id or token.kind != TokenKind.DRIVER:
            raise NotFound(f"Token not found: {request.token_id}")
        if request.customer_id is not None and token.customer_id != request.customer_id:
            raise InvalidRequest(
                f"token_id {request.token_id} does not belong to customer_id {request.customer_id}")
        if not token.valid:
            raise InvalidRequest(f"token_id {token.id} is not valid")
        return token
    customer = await session.get(Customer, request.customer_id)
    if customer is None or customer.client_id != client.id:
        raise NotFound(f"Customer not found: {request.customer_id}")
    token = await session.scalar(_CUSTOMER_TOKEN, {"customer_id": customer.id})
    if token is None:
        raise InvalidRequest(f"customer_id {customer.id} has no valid token: issue one first")
    return token


async def quote(session: AsyncSession, client: ClientContext, evse: LockedEvse, request: BookingRequest) -> Estimate:
    """The one estimate (services/estimates.py): what search showed for this EVSE and window."""
    return await quote_booking(
        session, party_pk=evse.party_pk, connectors=evse.connectors, zone_name=evse.time_zone,
        connector_id=request.connector_id, start=request.reservation_start, end=request.reservation_end,
        reservation_fee=client.reservation_fee, commission_percent=client.commission_percent)


async def check_limits(session: AsyncSession, client: ClientContext, request: BookingRequest,
                       estimate: Estimate) -> None:
    """A group_token booking within its group's limits: ``session_limit`` against the estimate,
    ``monthly_limit`` against the spend of the month the window starts in plus the estimate
    (services/fleet.py: group_spend). The group row is locked (by choose_token), so concurrent
    bookings of one group see each other's holds."""
    if request.token_strategy is not TokenStrategy.GROUP_TOKEN:
        return
    group = await own_group(session, client.id, request.fleet_group_id or "")
    price = estimate.client_price
    if group.session_limit is not None and price > group.session_limit:
        raise SpendingLimitExceeded()
    if group.monthly_limit is not None:
        spend = await group_spend(session, group, request.reservation_start)
        if spend.total + price > group.monthly_limit:
            raise SpendingLimitExceeded()


# --- 7. write ----------------------------------------------------------------------------------


def cpo_request_at(evse: LockedEvse, request: BookingRequest, now: datetime, *, by_calendar: bool) -> datetime | None:
    """When the request to the CPO goes out: a Bookings-module request at once; a RESERVE_NOW
    the CPO's reserve lead time before the window (at once if that has passed). None for a
    CPO not connected over OCPI: nothing is sent."""
    if evse.party_status != "registered":
        return None
    if by_calendar:
        return now
    return max(now, request.reservation_start - timedelta(minutes=evse.reserve_lead_minutes))


_INSERT_BOOKING = insert(Booking)
_INSERT_TRANSITION = insert(BookingTransition)


async def insert_booking(
    session: AsyncSession, client: ClientContext, request: BookingRequest, fingerprint: str,
    evse: LockedEvse, new_id: str, token: Token | None, token_uid: str, estimate: Estimate,
    request_at: datetime | None, now: datetime,
) -> BookingView:
    """The booking in REQUESTED and the first entry of its history, the lifecycle's creation
    step. Core inserts: the ORM's unit-of-work flush is the largest single cost on this path."""
    created = lifecycle.create(now)
    values = dict(
        id=new_id, client_id=client.id, external_id=request.external_id, request_hash=fingerprint,
        evse_pk=evse.pk, location_id=evse.location_id, location_city=evse.city, evse_uid=evse.uid,
        connector_id=request.connector_id, reservation_start=request.reservation_start,
        reservation_end=request.reservation_end, token_strategy=request.token_strategy.value,
        token_pk=token.id if token else None, token_uid=token_uid,
        customer_id=request.customer_id or (token.customer_id if token else None),
        fleet_group_id=request.fleet_group_id, status=created.to_status.value, status_reason=None,
        status_message=None, status_updated_at=now, cpo_reservation_id=None,
        client_price=estimate.client_price, client_price_currency=estimate.quote.currency,
        price_breakdown=estimate.breakdown(), created_at=now, cpo_request_at=request_at,
        request_id=correlation.current(),  # sent on as the OCPI X-Correlation-ID of its commands
    )
    step = dict(booking_id=new_id, from_status=None, to_status=created.to_status.value,
                event=created.event.value, reason=None, actor="client", message=None, at=now)
    await session.execute(_INSERT_BOOKING, values)
    await session.execute(_INSERT_TRANSITION, step)
    return BookingView(booking=Booking(**values), token=token, history=[BookingTransition(**step)])


async def enqueue(
    session: AsyncSession, view: BookingView, evse: LockedEvse, booking_location: BookingLocation | None,
    policy: BookingPolicy, now: datetime,
) -> None:
    """What goes out after commit: an OCPI 2.3.0 BookingRequest at once (a RESERVE_NOW is
    found by the worker when its time comes), and the ``booking.requested`` webhook event."""
    if booking_location is not None:
        record_create(session, view.booking, evse.party_pk, booking_location, view.token, policy.issuer, now)
    if evse.has_webhooks:
        await webhook_events.booking_created(session, view, now)
