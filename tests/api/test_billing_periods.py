"""Billing periods that close, a fleet group's monthly spend, and when a booking reaches its CPO.

EV Suite's fleet billing guide: "close billing periods promptly to lock in final costs". A
closed month's statement and CSV never change; a CDR or fee for it that comes later is booked
in the next open month as an adjustment, and shown as such.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
from sqlalchemy import select, update

from chargebook.db.models import Booking, LedgerEntry, WebhookDelivery
from chargebook.domain.lifecycle import BookingEvent
from chargebook.services.billing import record_charge
from chargebook.services.bookings import transition_booking
from chargebook.services.clock import utcnow
from tests.conftest import LiveServer
from tests.factories import api, booking_body, evse, make_client, make_site, with_db


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _past_month() -> tuple[str, datetime]:
    """Last month, and a moment inside it."""
    first = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    inside = first - timedelta(days=10)
    return _month(inside), inside


def _end_in(url: str, booking_id: str, start: datetime, status: str, event: BookingEvent) -> None:
    """Move a booking's window into ``start``'s month and end it with ``event``."""
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == booking_id).values(
                reservation_start=start, reservation_end=start + timedelta(hours=1), status=status,
                cpo_reservation_id=booking_id))
        async with db.write() as session:
            booking = await session.get(Booking, booking_id, with_for_update=True)
            await transition_booking(session, booking, event, actor="worker", now=utcnow())

    with_db(url, run)


def _late_fee(url: str, booking_id: str, price: Decimal) -> None:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            booking = await session.get(Booking, booking_id, with_for_update=True)
            booking.client_price = price
            booking.price_breakdown = {**(booking.price_breakdown or {}), "cpo_cost": str(price - Decimal("3"))}
            await record_charge(session, booking, utcnow(), "CDR arrived late")

    with_db(url, run)


def test_a_closed_period_never_changes_and_late_charges_roll_forward(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url, evses=[evse(f"DE*PER*{i}") for i in range(3)])
    _, key = make_client(database_url, reservation_fee=Decimal("3.00"))
    past, inside = _past_month()
    this_month = _month(datetime.now(UTC))
    with api(live.client_base, key) as http:
        ids = [http.post("/bookings", json=booking_body(site, i, external_id=f"ops-{i}")).json()["id"]
               for i in range(2)]
        # Last month: a no-show (the reservation fee) and a confirmed booking the client cancelled.
        _end_in(database_url, ids[0], inside, "CONFIRMED", BookingEvent.WINDOW_ENDED_UNATTENDED)
        _end_in(database_url, ids[1], inside + timedelta(hours=2), "CONFIRMED", BookingEvent.CLIENT_CANCELLED)
        periods = http.get("/billing/periods").json()["periods"]
        assert periods[0]["month"] == this_month and periods[0]["status"] == "open"
        last = next(p for p in periods if p["month"] == past)
        assert (last["status"], last["entries"], last["total"]) == ("open", 2, 6.0)

        assert http.post(f"/billing/periods/{this_month}/close").status_code == 400  # not over yet
        assert http.post("/billing/periods/2026-13/close").status_code == 400
        closed = http.post(f"/billing/periods/{past}/close")
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
        json_before = http.get("/billing/statements", params={"month": past}).content
        csv_before = http.get("/billing/statements", params={"month": past, "format": "csv"}).content
        statement = orjson.loads(json_before)
        assert statement["status"] == "closed" and statement["totals"]["client_price"] == 6.0
        assert statement["ledger"] == {"entries": 2, "total": 6.0}

        # The no-show's CDR arrives after the close: 7.40 instead of 3.00.
        _late_fee(database_url, ids[0], Decimal("7.40"))
        assert http.get("/billing/statements", params={"month": past}).content == json_before
        assert http.get("/billing/statements", params={"month": past, "format": "csv"}).content == csv_before
        again = http.post(f"/billing/periods/{past}/close")  # closing twice changes nothing
        assert again.status_code == 200 and again.json() == closed.json()

        current = http.get("/billing/statements", params={"month": this_month}).json()
        line = next(x for x in current["lines"] if x["id"] == ids[0])
        assert line["adjustment_of"] == past and line["billed"]["amount"] == 4.4
        assert line["client_price"] == 7.4
        assert current["totals"]["client_price"] == sum(x["billed"]["amount"] for x in current["lines"])
        parts = sum(Decimal(str(current["totals"][k])) for k in ("cpo_cost", "reservation_fee", "commission"))
        assert parts == Decimal(str(current["totals"]["client_price"]))
        rows = list(csv.DictReader(io.StringIO(
            http.get("/billing/statements", params={"month": this_month, "format": "csv"}).text)))
        row = next(r for r in rows if r["booking_id"] == ids[0])
        assert (row["billed"], row["adjustment_of"]) == ("4.40", past)

    async def entries(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return [(e.kind, e.period, e.service_period, e.amount) for e in await session.scalars(
                select(LedgerEntry).where(LedgerEntry.booking_id == ids[0]).order_by(LedgerEntry.pk))]

    assert with_db(database_url, entries) == [
        ("charge", past, past, Decimal("3.0000")), ("adjustment", this_month, past, Decimal("4.4000"))]


def test_a_groups_monthly_spend_is_what_its_month_bills(live: LiveServer, database_url: str) -> None:
    """Spend = what the month's billing charged for the group's bookings (completed, paid
    cancellations, no-shows) + quotes of live bookings whose window starts in the month."""
    site = make_site(database_url, evses=[evse(f"DE*SPD*{i}") for i in range(4)])
    _, key = make_client(database_url, reservation_fee=Decimal("4.00"))
    with api(live.client_base, key) as http:
        group = http.post("/groups", json={"name": "vans", "monthly_limit": "10"}).json()
        made = [http.post("/bookings", json=booking_body(site, i, token_strategy="group_token",
                                                         fleet_group_id=group["id"])) for i in range(2)]
        assert [r.status_code for r in made] == [202, 202]
        month = _month(datetime.fromisoformat(made[0].json()["reservation_start"].replace("Z", "+00:00")))
        spend = http.get(f"/groups/{group['id']}", params={"month": month}).json()["spend"]
        assert (spend["charged"], spend["held"], spend["total"]) == (0.0, 8.0, 8.0)
        # A confirmed booking cancelled by the client still costs the fee: it stays spent.
        _force_confirmed(database_url, made[0].json()["id"])
        assert http.post(f"/bookings/{made[0].json()['id']}/cancel").json()["client_price"] == 4.0
        spend = http.get(f"/groups/{group['id']}", params={"month": month}).json()["spend"]
        assert (spend["charged"], spend["completed"], spend["held"]) == (4.0, 4.0, 4.0)
        # 4 charged + 4 held + 4 more would be 12 > 10: refused; a free cancel releases its hold.
        third = http.post("/bookings", json=booking_body(site, 2, token_strategy="group_token",
                                                         fleet_group_id=group["id"]))
        assert third.status_code == 400 and third.json() == {"error": "Fleet group spending limit exceeded"}
        http.post(f"/bookings/{made[1].json()['id']}/cancel")
        fourth = http.post("/bookings", json=booking_body(site, 3, token_strategy="group_token",
                                                          fleet_group_id=group["id"]))
        assert fourth.status_code == 202, fourth.text
        other_month = http.get(f"/groups/{group['id']}", params={"month": "2020-01"}).json()["spend"]
        assert other_month["total"] == 0.0


def _force_confirmed(url: str, booking_id: str) -> None:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == booking_id)
                                  .values(status="CONFIRMED", cpo_reservation_id=booking_id))

    with_db(url, run)


def test_the_webhook_payload_says_when_the_cpo_is_asked(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url)
    _, key = make_client(database_url)
    with api(live.client_base, key) as http:
        assert http.post("/webhooks", json={"url": "http://127.0.0.1:9/none",
                                            "event_types": ["*"]}).status_code == 201
        booking = http.post("/bookings", json=booking_body(site)).json()
    # This CPO is not connected over OCPI: nothing is sent to it, and the booking says so.
    assert booking["cpo_request_at"] is None

    async def payload(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            body = await session.scalar(select(WebhookDelivery.body).where(WebhookDelivery.booking_id == booking["id"]))
        return orjson.loads(body)

    event = with_db(database_url, payload)
    assert event["type"] == "booking.requested"
    assert "cpo_request_at" in event["data"]["booking"]
    assert event["data"]["booking"] == {**booking, "cpo_request_at": None}
