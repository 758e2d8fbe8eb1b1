"""Customers (drivers), fleet groups and their tokens: the management side of the client API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Customer, FleetGroup, LedgerEntry, Token
from chargebook.db.types import money_from_units
from chargebook.domain.errors import InvalidRequest, NotFound, UidTaken
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.domain.tokens import TokenKind, TokenType, WhitelistType
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id
from chargebook.services.tokens import Issuer, add_tokens, new_token

MAX_BULK_TOKENS = 1000


async def create_customer(
    db: Database, client_id: str, *, name: str | None, email: str | None, external_ref: str | None,
    issuer: Issuer | None = None,
) -> Customer:
    """A new driver, with an app token (OCPI ``APP_USER``) issued at once: EV Suite books
    ``driver_token`` with just a ``customer_id``, so every customer has a token to book with.
    The token is listed at ``GET /customers/{id}/tokens`` and offered to CPOs like any other."""
    now = utcnow()
    async with db.write() as session:
        customer = Customer(
            id=new_id("cust"),
            client_id=client_id,
            name=name,
            email=email,
            external_ref=external_ref,
            created_at=now,
        )
        session.add(customer)
        await session.flush()
        await add_tokens(session, [new_token(
            client_id=client_id, kind=TokenKind.DRIVER, now=now, issuer=issuer or Issuer(),
            customer_id=customer.id, token_type=TokenType.APP_USER, whitelist=WhitelistType.ALLOWED,
        )])
    return customer


async def list_customers(db: Database, client_id: str, limit: int) -> list[Customer]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Customer)
            .where(Customer.client_id == client_id)
            .order_by(Customer.created_at, Customer.id)
            .limit(limit)
        )
        return list(rows.all())


async def _own_customer(session: AsyncSession, client_id: str, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.client_id != client_id:
        raise NotFound(f"Customer not found: {customer_id}")
    return customer


async def get_customer(db: Database, client_id: str, customer_id: str) -> Customer:
    async with db.read() as session:
        return await _own_customer(session, client_id, customer_id)


async def issue_customer_token(
    db: Database,
    client_id: str,
    customer_id: str,
    *,
    token_type: TokenType,
    visual_number: str | None,
    uid: str | None,
    issuer: Issuer,
) -> Token:
    """A token for a customer. A ``uid`` already in use, by this client or any other, is one
    409 with one message (also when two issues race): the answer never says whose it is."""
    taken = UidTaken(uid or "")
    try:
        async with db.write() as session:
            await _own_customer(session, client_id, customer_id)
            if uid is not None and await session.scalar(select(Token.id).where(Token.uid == uid)):
                raise taken
            token = new_token(
                client_id=client_id,
                kind=TokenKind.DRIVER,
                now=utcnow(),
                issuer=issuer,
                customer_id=customer_id,
                token_type=token_type,
                visual_number=visual_number,
                uid=uid,
            )
            await add_tokens(session, [token])
    except IntegrityError:
        # Two issues of one uid raced past the check; the unique key stopped this one.
        if uid is not None:
            raise taken from None
        raise
    return token


async def list_customer_tokens(db: Database, client_id: str, customer_id: str) -> list[Token]:
    async with db.read() as session:
        await _own_customer(session, client_id, customer_id)
        rows = await session.scalars(
            select(Token).where(Token.customer_id == customer_id).order_by(Token.last_updated, Token.id)
        )
        return list(rows.all())


async def create_group(
    db: Database,
    client_id: str,
    *,
    name: str,
    monthly_limit: Decimal | None,
    session_limit: Decimal | None,
) -> FleetGroup:
    async with db.write() as session:
        group = FleetGroup(
            id=new_id("group"),
            client_id=client_id,
            name=name,
            monthly_limit=monthly_limit,
            session_limit=session_limit,
            created_at=utcnow(),
        )
        session.add(group)
    return group


async def list_groups(db: Database, client_id: str, limit: int) -> list[FleetGroup]:
    async with db.read() as session:
        rows = await session.scalars(
            select(FleetGroup)
            .where(FleetGroup.client_id == client_id)
            .order_by(FleetGroup.created_at, FleetGroup.id)
            .limit(limit)
        )
        return list(rows.all())


async def own_group(
    session: AsyncSession, client_id: str, group_id: str, *, lock: bool = False
) -> FleetGroup:
    group = await session.get(FleetGroup, group_id, with_for_update=lock or None)
    if group is None or group.client_id != client_id:
        raise NotFound(f"Fleet group not found: {group_id}")
    return group


@dataclass(frozen=True, slots=True)
class GroupSpend:
    """A month's spend: what the group's bookings were billed in it, plus holds for live ones."""

    month_start: datetime
    charged: Decimal  # the month's billing period: final prices and later adjustments
    held: Decimal  # live bookings whose window starts in the month: their quotes

    @property
    def total(self) -> Decimal:
        return self.charged + self.held


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
        month=start.month + 1
    )


_SPEND = select(
    select(func.coalesce(func.sum(LedgerEntry.amount), 0))
    .join(Booking, Booking.id == LedgerEntry.booking_id)
    .where(LedgerEntry.client_id == bindparam("client_id"), LedgerEntry.period == bindparam("period"),
           Booking.fleet_group_id == bindparam("group_id"))
    .scalar_subquery(),
    select(func.coalesce(func.sum(Booking.client_price), 0))
    .where(Booking.fleet_group_id == bindparam("group_id"),
           Booking.status.in_([s.value for s in LIVE_STATES]),
           Booking.reservation_start >= bindparam("start", type_=Booking.reservation_start.type),
           Booking.reservation_start < bindparam("end", type_=Booking.reservation_start.type))
    .scalar_subquery(),
)


async def group_spend(session: AsyncSession, group: FleetGroup, at: datetime) -> GroupSpend:
    """Spend of the calendar month (UTC) that contains ``at``, as a fleet manager reads it on
    the statement: what the month's billing period charged for the group's bookings (every
    charged end: completed sessions, paid cancellations, no-shows, and adjustments booked in
    the month), plus the quotes of its live bookings whose window starts in the month. One
    round trip."""
    start = month_start(at)
    charged, held = (await session.execute(_SPEND, {
        "client_id": group.client_id, "group_id": group.id, "period": start.strftime("%Y-%m"),
        "start": start, "end": _next_month(start),
    })).one()
    # The Money column type hands back Decimals; a SUM over it comes back in its units.
    return GroupSpend(month_start=start, charged=_money(charged), held=_money(held))


def _money(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else money_from_units(int(str(value)))


async def get_group(
    db: Database, client_id: str, group_id: str, at: datetime | None = None
) -> tuple[FleetGroup, GroupSpend, int]:
    """The group, its spend in the month of ``at`` (default: this month) and its token count."""
    async with db.read() as session:
        group = await own_group(session, client_id, group_id)
        spend = await group_spend(session, group, at or utcnow())
        tokens = await session.scalar(
            select(func.count()).select_from(Token).where(Token.fleet_group_id == group_id)
        )
        return group, spend, int(tokens or 0)


async def issue_group_tokens(
    db: Database, client_id: str, group_id: str, count: int, *, issuer: Issuer
) -> list[Token]:
    if not 1 <= count <= MAX_BULK_TOKENS:
        raise InvalidRequest(f"count must be between 1 and {MAX_BULK_TOKENS}")
    now = utcnow()
    async with db.write() as session:
        await own_group(session, client_id, group_id)
        tokens = [
            new_token(
                client_id=client_id,
                kind=TokenKind.GROUP,
                now=now,
                issuer=issuer,
                fleet_group_id=group_id,
                whitelist=WhitelistType.ALLOWED,
            )
            for _ in range(count)
        ]
        await add_tokens(session, tokens)
    return tokens


async def list_group_tokens(db: Database, client_id: str, group_id: str, limit: int) -> list[Token]:
    async with db.read() as session:
        await own_group(session, client_id, group_id)
        rows = await session.scalars(
            select(Token)
            .where(Token.fleet_group_id == group_id)
            .order_by(Token.last_updated, Token.id)
            .limit(limit)
        )
        return list(rows.all())
