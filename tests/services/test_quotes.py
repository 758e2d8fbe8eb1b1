"""A booking is quoted the one estimate: the CPO's tariff for its window, reservation and charging."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from chargebook.db.engine import Database
from chargebook.db.models import Party
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking
from chargebook.services.clients import authenticate, create_client
from chargebook.services.ocpi_catalogue import store_tariff
from tests.factories import evse, seed_site

TARIFF_15 = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1" / "tariff_15_reservation_5_euro_per_hour.json"


async def test_reservation_cost_from_the_connectors_tariff(db: Database) -> None:
    charger = evse("DE*QTE*1")
    charger["connectors"][0]["tariff_ids"] = ["20"]
    site = await seed_site(db, evses=[charger, evse("DE*QTE*2")])
    tariff = json.loads(TARIFF_15.read_text(), parse_float=Decimal)
    async with db.write() as session:
        from sqlalchemy import select

        party = await session.scalar(select(Party).where(Party.party_id == site.party_id))
        assert party is not None
        await store_tariff(session, party, tariff)
    _, key = await create_client(db, "quotes", reservation_fee=Decimal("2.50"), commission_percent=Decimal("10"))
    client = await authenticate(db, key)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)

    async def book(uid: str, minutes: int) -> dict:  # type: ignore[type-arg]
        view = await create_booking(db, client, BookingRequest(
            location_id=site.location_id, evse_uid=uid, reservation_start=start,
            reservation_end=start + timedelta(minutes=minutes)), BookingPolicy())
        return {"price": view.booking.client_price, **(view.booking.price_breakdown or {})}

    # Spec example 15: reservation 5.00 EUR/hour excl. VAT, 20 % VAT → 6.00 for an hour.
    # Charging through the hour at 22 kW: a 0.50 + 20 % flat (0.60) and 22 kWh at 0.25 + 10 %
    # (6.05). CPO cost 12.65, + fee 2.50 + 10 % commission 1.27: what search shows (16.42).
    hour = await book("DE*QTE*1", 60)
    assert Decimal(hour["reservation_cost"]) == Decimal("6.00") and hour["tariff_id"] == "20"
    assert Decimal(hour["estimated_charging_cost"]) == Decimal("6.65")
    assert Decimal(hour["cpo_cost"]) == Decimal("12.65")
    assert hour["price"] == Decimal("12.65") + Decimal("2.50") + Decimal("1.27") == Decimal("16.42")
    # An EVSE whose connector names no tariff: the platform's fee alone.
    plain = await book("DE*QTE*2", 90)
    assert Decimal(plain["cpo_cost"]) == 0 and plain["price"] == Decimal("2.50") and plain["tariff_id"] is None
