"""No double booking, whatever the concurrency: many creators race for one slot, one wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Booking
from chargebook.domain.errors import SlotTaken, SpendingLimitExceeded
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.domain.tokens import TokenStrategy
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking
from chargebook.services.clients import authenticate, create_client
from chargebook.services.fleet import create_group
from tests.conftest import LiveServer
from tests.factories import api, booking_body, make_client, make_site, seed_site

RACERS = 40


async def test_service_level_race_has_one_winner(db: Database) -> None:
    site = await seed_site(db)
    _, key = await create_client(db, "racer")
    client = await authenticate(db, key)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)

    async def attempt(offset_minutes: int) -> str:
        request = BookingRequest(
            location_id=site.location_id,
            evse_uid=site.evse_uids[0],
            # Every window overlaps every other one (they all contain start+50..start+60).
            reservation_start=start + timedelta(minutes=offset_minutes % 50),
            reservation_end=start + timedelta(minutes=60 + offset_minutes % 50),
        )
        try:
            await create_booking(db, client, request, BookingPolicy())
            return "won"
        except SlotTaken:
            return "lost"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(RACERS)))
    assert outcomes.count("won") == 1 and outcomes.count("lost") == RACERS - 1
    async with db.read() as session:
        live = list(await session.scalars(
            select(Booking).where(Booking.evse_uid == site.evse_uids[0], Booking.status.in_(LIVE_STATES))
        ))
    assert len(live) == 1


def test_http_race_has_one_winner(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url)
    _, key = make_client(database_url)
    body = booking_body(site, start_in=120)

    async def race() -> list[int]:
        async with httpx.AsyncClient(base_url=live.client_base, headers={"X-API-Key": key}, timeout=60) as c:
            responses = await asyncio.gather(*(c.post("/bookings", json=body) for _ in range(RACERS)))
        return [r.status_code for r in responses]

    codes = asyncio.run(race())
    assert codes.count(202) == 1, codes
    assert codes.count(409) == RACERS - 1, codes
    with api(live.client_base, key) as http:
        assert len(http.get("/bookings").json()["bookings"]) == 1


async def test_group_limit_holds_under_concurrent_bookings(db: Database) -> None:
    """Ten bookings on ten EVSEs at once for a group that can afford three."""
    from tests.factories import evse

    site = await seed_site(db, evses=[evse(f"DE*GRP*{i}") for i in range(10)])
    _, key = await create_client(db, "fleet", reservation_fee=Decimal("5"))
    client = await authenticate(db, key)
    group = await create_group(db, client.id, name="g", monthly_limit=Decimal("15"), session_limit=None)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)

    async def attempt(i: int) -> str:
        request = BookingRequest(
            location_id=site.location_id, evse_uid=site.evse_uids[i],
            reservation_start=start, reservation_end=start + timedelta(hours=1),
            token_strategy=TokenStrategy.GROUP_TOKEN, fleet_group_id=group.id,
        )
        try:
            await create_booking(db, client, request, BookingPolicy())
            return "booked"
        except SpendingLimitExceeded:
            return "refused"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(10)))
    assert outcomes.count("booked") == 3 and outcomes.count("refused") == 7
