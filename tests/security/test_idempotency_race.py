"""Idempotent retries hold under concurrency: two identical creates with one external_id, sent
at once, answer one creation and one replay of it, never a 409 (the replay is checked again
once the EVSE row is locked). Raced over HTTP against a real server and at the service level,
on both databases (PostgreSQL is where they truly run side by side)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from chargebook.db.engine import Database
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking
from chargebook.services.clients import authenticate, create_client
from tests.conftest import LiveServer
from tests.factories import booking_body, evse, make_client, make_site, seed_site

ROUNDS = 8


def test_identical_creates_sent_at_once_answer_one_booking(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url, evses=[evse(f"DE*RACE*{i}") for i in range(ROUNDS)])
    _, key = make_client(database_url)

    async def race() -> list[list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=live.client_base, headers={"X-API-Key": key}, timeout=30) as http:
            rounds = []
            for n in range(ROUNDS):
                body = booking_body(site, n, external_id=f"retry-after-timeout-{n}")
                rounds.append(list(await asyncio.gather(*(http.post("/bookings", json=body) for _ in range(2)))))
            return rounds

    for pair in asyncio.run(race()):
        assert [r.status_code for r in pair] == [202, 202], [r.text for r in pair]
        assert pair[0].json()["id"] == pair[1].json()["id"]
        replayed = sorted(r.headers.get("Idempotent-Replayed", "") for r in pair)
        assert replayed == ["", "true"]


async def test_the_race_at_the_service_level(db: Database) -> None:
    site = await seed_site(db, evses=[evse("DE*SVC*1"), evse("DE*SVC*2")])
    _, key = await create_client(db, "race", reservation_fee=Decimal("1"))
    client = await authenticate(db, key)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)

    def request(evse_uid: str) -> BookingRequest:
        return BookingRequest(location_id=site.location_id, evse_uid=evse_uid, reservation_start=start,
                              reservation_end=start + timedelta(hours=1), external_id="svc-race")

    views = await asyncio.gather(*(create_booking(db, client, request("DE*SVC*1"), BookingPolicy())
                                   for _ in range(4)))
    assert len({v.booking.id for v in views}) == 1
    assert sorted(v.replayed for v in views) == [False, True, True, True]
