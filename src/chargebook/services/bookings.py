"""Booking use cases: create, read, list, cancel.

No two live bookings of one EVSE overlap. ``create_booking`` holds that in one locked
transaction: lock the EVSE row (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions are
``BEGIN IMMEDIATE`` and so already exclusive), check for an overlapping live booking, insert.
Every concurrent creator for that EVSE queues on the lock, and each sees the winners before it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation
from chargebook.db.engine import Database
from chargebook.db.models import (
    Booking,
    BookingTransition,
    Customer,
    Evse,
    Location,
    Party,
    Token,
)
from chargebook.domain import lifecycle
from chargebook.domain.errors import (
    DuplicateExternalId,
    EvseNotBookable,
    InvalidRequest,
    NotCancellable,
    NotFound,
    SlotTaken,
    SpendingLimitExceeded,
)
from chargebook.domain.lifecycle import LIVE_STATES, BookingEvent, BookingStatus
from chargebook.domain.tokens import (
    StrategyFields,
    TokenKind,
    TokenStrategy,
    TokenType,
    WhitelistType,
    check_strategy_fields,
    normalize_pipelet_uid,
)
from chargebook.domain.windows import WindowRules, check_window
from chargebook.services.booking_calendars import booking_location_for
from chargebook.services.booking_requests import check_terms, record_create
from chargebook.services.booking_state import transition_booking
from chargebook.services.clients import ClientContext
from chargebook.services.clock import utcnow
from chargebook.services.fleet import group_spend, own_group
from chargebook.services.ids import booking_id
from chargebook.services.quotes import quote_booking
from chargebook.services.tokens import Issuer, add_tokens, new_token
from chargebook.services.catalogue import OUT_OF_SERVICE
from chargebook.services import webhook_events
from chargebook.services.wire import BookingView


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

    def fingerprint(self) -> str:
        """Same request, same fingerprint: how a repeated external_id is told from a clash."""
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


async def create_booking(
    db: Database, client: ClientContext, request: BookingRequest, policy: BookingPolicy
) -> BookingView:
    check_strategy_fields(
        request.token_strategy,
        StrategyFields(
            customer_id=request.customer_id,
            token_id=request.token_id,
            fleet_group_id=request.fleet_group_id,
            token_uid=request.token_uid,
        ),
    )
    fingerprint = request.fingerprint()
    try:
        async with db.write() as session:
            return await _create(session, client, request, policy, fingerprint)
    except IntegrityError:
        # Two creates with one external_id raced past the check; the unique key stopped one.
        if request.external_id is None:
            raise
        async with db.read() as session:
            replay = await _replay(session, client.id, request.external_id, fingerprint)
        if replay is None:
            raise
        return replay


async def _replay(
    session: AsyncSession, client_id: str, external_id: str, fingerprint: str
) -> BookingView | None:
    booking = await session.scalar(
        select(Booking).where(Booking.client_id == client_id, Booking.external_id == external_id)
    )
    if booking is None:
        return None
    if booking.request_hash != fingerprint:
        raise DuplicateExternalId(external_id)
    token = await session.get(Token, booking.token_pk) if booking.token_pk else None
    history = await session.scalars(
        select(BookingTransition).where(BookingTransition.booking_id == booking.id).order_by(BookingTransition.pk)
    )
    return BookingView(booking=booking, token=token, history=list(history), replayed=True)


# Statements on the hot path are built once: composing SQL expressions per request costs
# more than executing them (measured with bench/bookings.py --profile).
_EVSE_FOR_BOOKING = (
    select(
        Evse.pk, Evse.uid, Evse.status, Evse.reservable, Location.id, Location.city,
        Party.max_reservation_minutes, Party.id, Location.time_zone, Evse.data, Party.bookings_url,
        webhook_events.CLIENT_HAS_ENDPOINTS,  # rides along: no round trip when there are none
    )
    .join(Location, Evse.location_pk == Location.pk)
    .join(Party, Location.party_pk == Party.id)
    .where(Location.id == bindparam("location_id"), Evse.uid == bindparam("evse_uid"))
    .order_by(Evse.pk)
    .limit(1)
    .with_for_update(of=Evse)
)
_SLOT_TAKEN = select(
    exists().where(
        Booking.evse_pk == bindparam("evse_pk"),
        Booking.status.in_([s.value for s in LIVE_STATES]),
        Booking.reservation_start < bindparam("end", type_=Booking.reservation_end.type),
        Booking.reservation_end > bindparam("start", type_=Booking.reservation_start.type),
    )
)
_INSERT_BOOKING = insert(Booking)
_INSERT_TRANSITION = insert(BookingTransition)


async def _create(
    session: AsyncSession,
    client: ClientContext,
    request: BookingRequest,
    policy: BookingPolicy,
    fingerprint: str,
) -> BookingView:
    if request.external_id is not None:
        replay = await _replay(session, client.id, request.external_id, fingerprint)
        if replay is not None:
            return replay
    now = utcnow()
    row = (
        await session.execute(
            _EVSE_FOR_BOOKING,
            {"location_id": request.location_id, "evse_uid": request.evse_uid, "client_id": client.id},
        )
    ).first()
    if row is None:
        await _raise_not_found(session, request)
    (evse_pk, evse_uid, evse_status, reservable, location_id, city, max_minutes,
     party_pk, zone_name, evse_data, bookings_url, has_webhooks) = row  # type: ignore[misc]
    if not reservable:
        raise InvalidRequest(f"EVSE {request.evse_uid} does not support reservation")
    if evse_status in OUT_OF_SERVICE:
        raise EvseNotBookable(f"EVSE {request.evse_uid} is {evse_status} and cannot be booked")
    if request.connector_id is not None and request.connector_id not in {
        c.get("id") for c in evse_data.get("connectors") or []
    }:
        raise NotFound(f"Connector not found: {request.connector_id} on EVSE {request.evse_uid}")
    check_window(
        request.reservation_start,
        request.reservation_end,
        now,
        WindowRules(
            min_lead=policy.min_lead,
            max_duration=timedelta(minutes=max_minutes),
            max_horizon=policy.max_horizon,
        ),
    )
    taken = await session.scalar(
        _SLOT_TAKEN,
        {"evse_pk": evse_pk, "start": request.reservation_start, "end": request.reservation_end},
    )
    if taken:
        raise SlotTaken()
    # A CPO with the OCPI 2.3.0 Bookings module publishes when the EVSE is free: the window
    # must lie inside an available timeslot of its calendar (services/booking_calendars.py).
    booking_location = None
    if bookings_url is not None:
        by_calendar, booking_location = await booking_location_for(
            session, party_pk, location_id, evse_uid, request.reservation_start, request.reservation_end)
        if by_calendar and booking_location is None:
            raise SlotTaken()
        if booking_location is not None:
            check_terms(booking_location, request.reservation_start, request.reservation_end)

    new_id = booking_id()
    connectors = list(evse_data.get("connectors") or [])
    price, charging_estimate, tariff_id = await quote_booking(
        session, party_pk=party_pk, connectors=connectors, zone_name=zone_name, connector_id=request.connector_id,
        start=request.reservation_start, end=request.reservation_end,
        reservation_fee=client.reservation_fee, commission_percent=client.commission_percent,
    )
    breakdown = price.breakdown() | {
        "tariff_id": tariff_id,
        "estimated_charging_cost": None if charging_estimate is None else str(charging_estimate),
    }
    token, token_uid = await _resolve_token(session, client, request, policy, new_id, location_id, now)
    if request.token_strategy is TokenStrategy.GROUP_TOKEN:
        await _check_group_limits(
            session, client.id, request.fleet_group_id or "", price.client_price, request.reservation_start
        )

    values = dict(
        id=new_id,
        client_id=client.id,
        external_id=request.external_id,
        request_hash=fingerprint,
        evse_pk=evse_pk,
        location_id=location_id,
        location_city=city,
        evse_uid=evse_uid,
        connector_id=request.connector_id,
        reservation_start=request.reservation_start,
        reservation_end=request.reservation_end,
        token_strategy=request.token_strategy.value,
        token_pk=token.id if token else None,
        token_uid=token_uid,
        customer_id=request.customer_id or (token.customer_id if token else None),
        fleet_group_id=request.fleet_group_id,
        status=BookingStatus.REQUESTED.value,
        status_reason=None,
        status_message=None,
        status_updated_at=now,
        cpo_reservation_id=None,
        client_price=price.client_price,
        client_price_currency=price.currency,
        price_breakdown=breakdown,
        created_at=now,
        request_id=correlation.current(),  # sent on as the OCPI X-Correlation-ID of its commands
    )
    step = dict(
        booking_id=new_id,
        from_status=None,
        to_status=BookingStatus.REQUESTED.value,
        event="CREATED",
        reason=None,
        actor="client",
        message=None,
        at=now,
    )
    # Core inserts: the ORM's unit-of-work flush is the largest single cost on this path.
    await session.execute(_INSERT_BOOKING, values)
    await session.execute(_INSERT_TRANSITION, step)
    booking = Booking(**values)
    if booking_location is not None:
        record_create(session, booking, party_pk, booking_location, token, policy.issuer, now)
    view = BookingView(booking=booking, token=token, history=[BookingTransition(**step)])
    if has_webhooks:
        await webhook_events.booking_created(session, view, now)
    return view


async def _raise_not_found(session: AsyncSession, request: BookingRequest) -> None:
    known = await session.scalar(select(exists().where(Location.id == request.location_id)))
    if not known:
        raise NotFound(f"Location not found: {request.location_id}")
    raise NotFound(f"EVSE not found: {request.evse_uid} at location {request.location_id}")


async def _resolve_token(
    session: AsyncSession,
    client: ClientContext,
    request: BookingRequest,
    policy: BookingPolicy,
    new_booking_id: str,
    location_id: str,
    now: datetime,
) -> tuple[Token | None, str]:
    """Which token the CPO will see for this booking, per strategy."""
    strategy = request.token_strategy
    if strategy is TokenStrategy.PIPELET:
        return None, normalize_pipelet_uid(request.token_uid or "")
    if strategy is TokenStrategy.AD_HOC:
        token = new_token(
            client_id=client.id,
            kind=TokenKind.AD_HOC,
            now=now,
            issuer=policy.issuer,
            token_type=TokenType.AD_HOC_USER,
            # The CPO must ask us in real time: we allow it only at this EVSE in this window.
            whitelist=WhitelistType.NEVER,
            scope={
                "booking_id": new_booking_id,
                "location_id": location_id,
                "evse_uid": request.evse_uid,
                "valid_from": request.reservation_start,
                "valid_until": request.reservation_end,
            },
        )
        await add_tokens(session, [token])
        return token, token.uid
    if strategy is TokenStrategy.GROUP_TOKEN:
        group = await own_group(session, client.id, request.fleet_group_id or "", lock=True)
        token = await session.scalar(
            select(Token)
            .where(Token.fleet_group_id == group.id, Token.valid.is_(True))
            .order_by(Token.last_updated, Token.id)
            .limit(1)
        )
        if token is None:
            # A group with no token yet gets one: the group token is what the CPO sees.
            token = new_token(
                client_id=client.id, kind=TokenKind.GROUP, now=now, issuer=policy.issuer,
                fleet_group_id=group.id,
            )
            await add_tokens(session, [token])
        return token, token.uid
    # driver_token
    if request.token_id is not None:
        token = await session.get(Token, request.token_id)
        if token is None or token.client_id != client.id or token.kind != TokenKind.DRIVER:
            raise NotFound(f"Token not found: {request.token_id}")
    else:
        customer = await session.get(Customer, request.customer_id)
        if customer is None or customer.client_id != client.id:
            raise NotFound(f"Customer not found: {request.customer_id}")
        token = await session.scalar(
            select(Token)
            .where(Token.customer_id == customer.id, Token.valid.is_(True))
            .order_by(Token.last_updated.desc(), Token.id)
            .limit(1)
        )
        if token is None:
            raise InvalidRequest(f"customer_id {customer.id} has no valid token: issue one first")
    if not token.valid:
        raise InvalidRequest(f"token_id {token.id} is not valid")
    return token, token.uid


async def _check_group_limits(
    session: AsyncSession, client_id: str, group_id: str, price: Decimal, month_of: datetime
) -> None:
    """Against the spend of the month the booking falls in. The group row is locked (by
    _resolve_token), so concurrent bookings see each other's holds."""
    group = await own_group(session, client_id, group_id)
    if group.session_limit is not None and price > group.session_limit:
        raise SpendingLimitExceeded()
    if group.monthly_limit is not None:
        spend = await group_spend(session, group_id, month_of)
        if spend.total + price > group.monthly_limit:
            raise SpendingLimitExceeded()


async def get_booking(db: Database, client_id: str, booking_id: str) -> BookingView:
    async with db.read() as session:
        booking = await session.get(Booking, booking_id)
        if booking is None or booking.client_id != client_id:
            raise NotFound(f"Booking not found: {booking_id}")
        token = await session.get(Token, booking.token_pk) if booking.token_pk else None
        history = await session.scalars(
            select(BookingTransition)
            .where(BookingTransition.booking_id == booking_id)
            .order_by(BookingTransition.pk)
        )
        return BookingView(booking=booking, token=token, history=list(history.all()))


@dataclass(frozen=True, slots=True)
class BookingFilter:
    statuses: tuple[BookingStatus, ...] = ()
    from_date: datetime | None = None
    to_date: datetime | None = None
    limit: int = 100
    after: tuple[datetime, str] | None = None  # the cursor: (created_at, id) of the last row seen


async def list_bookings(db: Database, client_id: str, flt: BookingFilter) -> list[BookingView]:
    """Newest first by created_at, then id; keyset-paged so deep pages stay cheap."""
    query = select(Booking).where(Booking.client_id == client_id)
    if flt.statuses:
        query = query.where(Booking.status.in_([s.value for s in flt.statuses]))
    if flt.from_date is not None:
        query = query.where(Booking.created_at >= flt.from_date)
    if flt.to_date is not None:
        query = query.where(Booking.created_at <= flt.to_date)
    if flt.after is not None:
        created, last_id = flt.after
        query = query.where(
            (Booking.created_at < created) | ((Booking.created_at == created) & (Booking.id < last_id))
        )
    query = query.order_by(Booking.created_at.desc(), Booking.id.desc()).limit(flt.limit)
    async with db.read() as session:
        bookings = list((await session.scalars(query)).all())
        token_ids = {b.token_pk for b in bookings if b.token_pk}
        tokens = {}
        if token_ids:
            tokens = {t.id: t for t in await session.scalars(select(Token).where(Token.id.in_(token_ids)))}
    return [BookingView(booking=b, token=tokens.get(b.token_pk or "")) for b in bookings]


async def cancel_booking(
    db: Database, client_id: str, booking_id: str, reason: str | None
) -> BookingView:
    async with db.write() as session:
        booking = await session.get(Booking, booking_id, with_for_update=True)
        if booking is None or booking.client_id != client_id:
            raise NotFound(f"Booking not found: {booking_id}")
        if booking.status == BookingStatus.CANCELLED:
            # Cancelling twice is a safe retry: the booking comes back unchanged.
            token = await session.get(Token, booking.token_pk) if booking.token_pk else None
            return BookingView(booking=booking, token=token)
        if not lifecycle.can_apply(BookingStatus(booking.status), BookingEvent.CLIENT_CANCELLED):
            raise NotCancellable()
        now = utcnow()
        await transition_booking(
            session, booking, BookingEvent.CLIENT_CANCELLED, actor="client", now=now, message=reason
        )
        # transition_booking withdrew or cancelled what the CPO may hold (a RESERVE_NOW, or a
        # Bookings-module request) in this same transaction.
        token = await session.get(Token, booking.token_pk) if booking.token_pk else None
        await session.flush()
    return BookingView(booking=booking, token=token)
