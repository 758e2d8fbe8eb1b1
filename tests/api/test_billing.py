"""Final prices when bookings end, monthly statements and the fleet export, reconciled."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from chargebook.db.models import Booking
from tests.conftest import LiveServer
from tests.factories import api, booking_body, evse, make_client, make_site, with_db


def _force(database_url: str, booking_id: str, **values: object) -> None:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == booking_id).values(**values))

    with_db(database_url, run)


def _complete(database_url: str, booking_id: str) -> None:
    from chargebook.domain.lifecycle import BookingEvent
    from chargebook.services.booking_state import transition_booking
    from chargebook.services.clock import utcnow

    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            booking = await session.get(Booking, booking_id, with_for_update=True)
            await transition_booking(session, booking, BookingEvent.SESSION_COMPLETED, actor="cpo", now=utcnow())

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
        # A completed one: its CDR sets the final price and the ledger records it.
        _force(database_url, ids[2], status="ATTENDING", client_price=Decimal("18.75"),
               price_breakdown={"cpo_cost": "14.77", "reservation_fee": "2.50", "commission": "1.48",
                                "currency": "EUR", "vat": None, "estimated": False})
        _complete(database_url, ids[2])
        month_of_start = (datetime.now(UTC) + timedelta(minutes=60)).strftime("%Y-%m")
        st = http.get("/billing/statements", params={"month": month_of_start}).json()
        assert st["count"] == 3  # the live booking (ids[3]) is not billed yet
        assert {line["id"] for line in st["lines"]} == set(ids[:3])
        assert Decimal(str(st["totals"]["client_price"])) == Decimal("0") + Decimal("2.5") + Decimal("18.75")
        assert st["ledger"] == {"entries": 3, "total": st["totals"]["client_price"]}
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


def test_ledger_adjusts_when_a_final_price_changes(live: LiveServer, database_url: str) -> None:
    from chargebook.db.models import LedgerEntry
    from chargebook.domain.lifecycle import BookingEvent
    from chargebook.services.billing import record_charge
    from chargebook.services.booking_state import transition_booking
    from chargebook.services.clock import utcnow

    site = make_site(database_url)
    _, key = make_client(database_url, reservation_fee=Decimal("3.00"))
    with api(live.client_base, key) as http:
        booking_id = http.post("/bookings", json=booking_body(site)).json()["id"]
    _force(database_url, booking_id, status="CONFIRMED", cpo_reservation_id=booking_id)

    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            booking = await session.get(Booking, booking_id, with_for_update=True)
            await transition_booking(session, booking, BookingEvent.WINDOW_ENDED_UNATTENDED, actor="worker", now=utcnow())
        async with db.write() as session:  # a no-show CDR arrives later with the CPO's fee
            booking = await session.get(Booking, booking_id, with_for_update=True)
            booking.client_price = Decimal("7.40")
            await record_charge(session, booking, utcnow(), "CDR late")
            await record_charge(session, booking, utcnow(), "CDR repeated")  # no change, no entry
        async with db.read() as session:
            rows = list(await session.execute(select(LedgerEntry.kind, LedgerEntry.amount)
                                              .where(LedgerEntry.booking_id == booking_id).order_by(LedgerEntry.pk)))
            return [(k, a) for k, a in rows]

    entries = with_db(database_url, run)
    assert entries == [("charge", Decimal("3.0000")), ("adjustment", Decimal("4.4000"))]
    assert sum(a for _, a in entries) == Decimal("7.40")
