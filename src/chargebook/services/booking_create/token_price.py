"""Step 6 of a create: the token the CPO will see, the price, the fleet group's limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import (
    Customer,
    Token,
)
from chargebook.domain.errors import (
    InvalidRequest,
    NotFound,
    SpendingLimitExceeded,
)
from chargebook.domain.tokens import (
    TokenKind,
    TokenStrategy,
    TokenType,
    WhitelistType,
)
from chargebook.services.booking_create.request import BookingPolicy, BookingRequest, LockedEvse
from chargebook.services.clients import ClientContext
from chargebook.services.estimates import Estimate
from chargebook.services.fleet import group_spend, own_group
from chargebook.services.quotes import quote_booking
from chargebook.services.tokens import add_tokens, new_token

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
