"""Fleet groups as the console shows them: each with this month's spend against its limits.

The monthly bar uses ``fleet.group_spend`` (what the booking check uses: what the month billed plus
holds for live bookings); the session bar shows the month's largest single booking against
``session_limit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Booking, FleetGroup, Token
from chargebook.services.billing import month_bounds
from chargebook.services.fleet import GroupSpend, group_spend, month_start, own_group


@dataclass(frozen=True, slots=True)
class GroupMonth:
    group: FleetGroup
    spend: GroupSpend
    largest_booking: Decimal
    tokens: int


async def _month(session: AsyncSession, group: FleetGroup, now: datetime) -> GroupMonth:
    start, end = month_bounds(month_start(now).strftime("%Y-%m"))
    largest = await session.scalar(
        select(func.max(Booking.client_price)).where(
            Booking.fleet_group_id == group.id,
            Booking.reservation_start >= start,
            Booking.reservation_start < end,
        )
    )
    tokens = await session.scalar(
        select(func.count()).select_from(Token).where(Token.fleet_group_id == group.id)
    )
    return GroupMonth(
        group, await group_spend(session, group, now), Decimal(largest or 0), int(tokens or 0)
    )


async def groups_with_spend(
    db: Database, client_id: str, now: datetime, limit: int = 200
) -> list[GroupMonth]:
    async with db.read() as session:
        groups = list(
            await session.scalars(
                select(FleetGroup)
                .where(FleetGroup.client_id == client_id)
                .order_by(FleetGroup.created_at, FleetGroup.id)
                .limit(limit)
            )
        )
        return [await _month(session, g, now) for g in groups]


async def group_month(db: Database, client_id: str, group_id: str, now: datetime) -> GroupMonth:
    """One group of this client (``NotFound`` for another client's)."""
    async with db.read() as session:
        return await _month(session, await own_group(session, client_id, group_id), now)
