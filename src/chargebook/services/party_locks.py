"""One CPO's catalogue writes take turns: its pushes racing our pull-sync must not insert the
same object twice. Shared by the catalogue (Locations, Tariffs) and the Bookings module's
BookingLocations; imports no use case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import Party

T = TypeVar("T")


async def retrying(work: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Run a unit of work again when a concurrent writer inserted the same object first
    (a push racing a pull-sync): the next attempt finds the row and updates it."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def lock_party(session: AsyncSession, party: Party) -> None:
    """Catalogue writes of one CPO take turns (its pushes racing our pull-sync would otherwise
    insert the same EVSE or connector twice). PostgreSQL: the party row's lock; SQLite's write
    transactions are exclusive already."""
    await session.execute(select(Party.id).where(Party.id == party.id).with_for_update())
