"""Small factories with unique ids: tests share a database and keep apart by what they create."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from chargebook.db.engine import Database
from chargebook.services.catalogue import seed_catalogue
from chargebook.services.clients import create_client

T = TypeVar("T")
_party_counter = itertools.count(1)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PREFIX = secrets.choice(_ALPHABET)


def with_db(url: str, fn: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        db = Database(url, pool_size=2)
        try:
            return await fn(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def unique_party_id() -> str:
    n = next(_party_counter)
    return f"{_PREFIX}{_ALPHABET[(n // 36) % 36]}{_ALPHABET[n % 36]}"


def evse(uid: str, *, status: str = "AVAILABLE", reservable: bool = True, power_w: int = 22000,
         standard: str = "IEC_62196_T2") -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": uid,
        "status": status,
        "capabilities": ["RESERVABLE", "RFID_READER"] if reservable else ["RFID_READER"],
        "connectors": [
            {
                "id": "1",
                "standard": standard,
                "format": "CABLE" if power_w > 22000 else "SOCKET",
                "power_type": "DC" if power_w > 22000 else "AC_3_PHASE",
                "max_voltage": 400,
                "max_amperage": 32,
                "max_electric_power": power_w,
                "last_updated": "2026-01-01T00:00:00Z",
            }
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }


@dataclass
class Site:
    party_id: str
    location_id: str
    evse_uids: list[str]
    lat: float
    lng: float


def make_site(url: str, **kwargs: Any) -> Site:
    return with_db(url, lambda db: seed_site(db, **kwargs))


async def seed_site(db: Database, *, evses: list[dict[str, Any]] | None = None, lat: float = 52.52,
              lng: float = 13.405, city: str = "Berlin", max_minutes: int = 240) -> Site:
    """One CPO (unique party) with one location; by default two bookable AC EVSEs."""
    party = unique_party_id()
    location_id = f"DE-{party}-L{secrets.token_hex(3).upper()}"
    evses = evses or [evse(f"DE*{party}*E1*1"), evse(f"DE*{party}*E1*2")]
    location = {
        "country_code": "DE", "party_id": party, "id": location_id, "publish": True,
        "name": f"Test site {party}", "address": "Teststraße 1", "city": city,
        "postal_code": "10115", "country": "DEU",
        "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lng:.6f}"},
        "time_zone": "Europe/Berlin", "evses": evses, "last_updated": "2026-01-01T00:00:00Z",
    }

    async def seed(db: Database) -> None:
        await seed_catalogue(db, "DE", party, f"CPO {party}", [location])
        if max_minutes != 240:
            from sqlalchemy import update

            from chargebook.db.models import Party

            async with db.write() as session:
                await session.execute(
                    update(Party).where(Party.party_id == party).values(max_reservation_minutes=max_minutes)
                )

    await seed(db)
    return Site(party, location_id, [e["uid"] for e in evses], lat, lng)


def make_client(url: str, name: str = "test client", **kwargs: Any) -> tuple[str, str]:
    """A new tenant; returns (client_id, api_key). Its rate limit and quota are generous unless
    given: tests that poll would otherwise be measuring the limiter."""
    kwargs.setdefault("rate_limit_per_minute", 1_000_000)
    kwargs.setdefault("monthly_quota", 100_000_000)
    client, key = with_db(url, lambda db: create_client(db, name, **kwargs))
    return client.id, key


def api(base: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30)


def window(start_in_minutes: int = 60, minutes: int = 60) -> tuple[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=start_in_minutes)
    end = start + timedelta(minutes=minutes)
    return start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")


def booking_body(site: Site, evse_index: int = 0, **overrides: Any) -> dict[str, Any]:
    start, end = window(overrides.pop("start_in", 60), overrides.pop("minutes", 60))
    body: dict[str, Any] = {
        "location_id": site.location_id,
        "evse_uid": site.evse_uids[evse_index],
        "reservation_start": start,
        "reservation_end": end,
    }
    body.update(overrides)
    return body


