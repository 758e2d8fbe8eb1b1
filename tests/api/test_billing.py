"""Final prices when bookings end, monthly statements and the fleet export, reconciled."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from chargebook.db.models import Booking
from tests.conftest import LiveServer
from tests.factories import api, booking_body, evse, make_client, make_site, with_db


def _force(database_url: str, booking_id: str, **values: object) -> None:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == booking_id).values(**values))

    with_db(database_url, run)


def test_free_cancellation_and_statement_reconcile(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url, evses=[evse(f"DE*BIL*{i}") for i in range(4)])
    _, key = make_client(database_url, reservation_fee=Decimal("2.50"), commission_percent=Decimal("10"))
    with api(live.client_base, key) as http:
        ids = [http.post("/bookings", json=booking_body(site, i, external_id=f"dept-{i}")).json()["id"]
               for i in range(4)]
        # Cancelled before the CPO confirmed: free.
        cancelled = http.post(f"/bookings/{ids[0]}/cancel").json()
        assert cancelled["client_price"] == 0 and cancelled["price_breakdown"]["reservation_fee"] == 0
        # Cancelled after confirmation: the reservation fee stays.
        _force(database_url, ids[1], status="CONFIRMED", cpo_reservation_id=ids[1])
        assert http.post(f"/bookings/{ids[1]}/cancel").json()["client_price"] == 2.5
        # A completed one with a known final price.
        _force(database_url, ids[2], status="COMPLETED", client_price=Decimal("18.75"),
               price_breakdown={"cpo_cost": "14.77", "reservation_fee": "2.50", "commission": "1.48",
                                "currency": "EUR", "vat": None, "estimated": False})
        month_of_start = (datetime.now(UTC) + timedelta(minutes=60)).strftime("%Y-%m")
        st = http.get("/billing/statements", params={"month": month_of_start}).json()
        assert st["count"] == 3  # the live booking (ids[3]) is not billed yet
        assert {line["id"] for line in st["lines"]} == set(ids[:3])
        assert Decimal(str(st["totals"]["client_price"])) == Decimal("0") + Decimal("2.5") + Decimal("18.75")
        parts = sum(Decimal(str(st["totals"][k])) for k in ("cpo_cost", "reservation_fee", "commission"))
        assert parts == Decimal(str(st["totals"]["client_price"]))
        text = http.get("/billing/statements", params={"month": month_of_start, "format": "csv"})
        assert text.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(text.text)))
        assert sorted(r["booking_id"] for r in rows) == sorted(ids[:3])
        assert sum(Decimal(r["client_price"]) for r in rows) == Decimal("21.25")
        assert http.get("/billing/statements", params={"month": "2026-13"}).status_code == 400
        assert http.get("/billing/statements", params={"month": "soon"}).status_code == 400


def test_fleet_export_is_csv_per_booking(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url)
    _, key = make_client(database_url)
    with api(live.client_base, key) as http:
        group = http.post("/groups", json={"name": "vans"}).json()
        b = http.post("/bookings", json=booking_body(site, token_strategy="group_token",
                                                      fleet_group_id=group["id"])).json()
        http.post(f"/bookings/{b['id']}/cancel")
        day = datetime.now(UTC).date()
        fleet = http.get(live.base + "/api/v1/fleet/reports/export",
                         params={"period_start": (day - timedelta(days=1)).isoformat(),
                                 "period_end": (day + timedelta(days=1)).isoformat()})
        assert fleet.status_code == 200 and "attachment" in fleet.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(fleet.text)))
        assert [r["booking_id"] for r in rows] == [b["id"]]
        assert rows[0]["fleet_group_id"] == group["id"] and rows[0]["status"] == "CANCELLED"
        bad = http.get(live.base + "/api/v1/fleet/reports/export",
                       params={"period_start": day.isoformat(), "period_end": (day - timedelta(days=2)).isoformat()})
        assert bad.status_code == 400 and "period_end" in bad.json()["error"]
        assert http.get(live.base + "/api/v1/fleet/reports/export").status_code == 400
