"""What a client is charged, when a booking ends, and the monthly statements.

Rules (money rounds half-up to cents per line; a line's price is the sum of its parts):

| how the booking ended                                  | client_price                         |
|--------------------------------------------------------|--------------------------------------|
| COMPLETED                                              | CDR cost + reservation fee + commission |
| CANCELLED before the CPO confirmed, or by the CPO; EXPIRED | 0 (nothing is charged)           |
| CANCELLED by the client after confirmation             | reservation fee (+ the CPO's fee if its CDR arrives) |
| NO_SHOW                                                | reservation fee + the quoted CPO reservation cost (a CDR replaces it) |

A statement lists the client's bookings that ended (final states) with a reservation starting
in the month (UTC), one line each; its totals are sums of those lines' ``client_price``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Booking
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import FINAL_STATES, BookingStatus, StatusReason
from chargebook.domain.money import commission, to_cents

ZERO = Decimal("0")


def settle(booking: Booking, reservation_fee: Decimal, commission_percent: Decimal) -> None:
    """Set the final price of a booking that just reached a final state other than COMPLETED
    (COMPLETED is priced from its CDR)."""
    status = BookingStatus(booking.status)
    breakdown = dict(booking.price_breakdown or {})
    # A no-show pays for the reservation it held, not for the charging the quote assumed
    # (quotes before 0011 had only the reservation in cpo_cost).
    quoted_cpo = Decimal(str(breakdown.get("reservation_cost", breakdown.get("cpo_cost", "0"))))
    if status is BookingStatus.NO_SHOW:
        cpo, fee = quoted_cpo, reservation_fee
    elif status is BookingStatus.CANCELLED and booking.status_reason == StatusReason.CLIENT_CANCELLED and (
        booking.cpo_reservation_id is not None
    ):
        cpo, fee = ZERO, reservation_fee
    elif status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        cpo, fee = ZERO, ZERO
    else:
        return
    cut = commission(cpo, commission_percent)
    breakdown.update(cpo_cost=str(to_cents(cpo)), reservation_fee=str(to_cents(fee)), commission=str(cut),
                     estimated=False)
    booking.price_breakdown = breakdown
    booking.client_price = to_cents(cpo) + to_cents(fee) + cut


async def record_charge(session: Any, booking: Booking, now: datetime, why: str) -> None:
    """Bring the client's ledger in line with the booking's (final) price: a charge the first
    time, an adjustment for any later change. Called in the transaction that sets the price."""
    from sqlalchemy import func

    from chargebook.db.models import LedgerEntry

    await session.flush()  # entries added earlier in this transaction count too
    booked = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.booking_id == booking.id)
    )
    seen = await session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.booking_id == booking.id))
    delta = (booking.client_price or ZERO) - Decimal(booked or 0)
    if seen and delta == 0:
        return
    session.add(LedgerEntry(
        client_id=booking.client_id, booking_id=booking.id, kind="adjustment" if seen else "charge",
        amount=delta, currency=booking.client_price_currency,
        period=booking.reservation_start.astimezone(UTC).strftime("%Y-%m"), description=why[:200], created_at=now,
    ))


@dataclass(frozen=True, slots=True)
class Statement:
    month: str
    lines: list[Booking]
    ledger_total: Decimal = ZERO  # the client's ledger for the month; equals the lines' sum
    ledger_entries: int = 0

    def totals(self) -> dict[str, Decimal]:
        sums = {"client_price": ZERO, "cpo_cost": ZERO, "reservation_fee": ZERO, "commission": ZERO}
        for b in self.lines:
            sums["client_price"] += b.client_price or ZERO
            for key in ("cpo_cost", "reservation_fee", "commission"):
                sums[key] += Decimal(str((b.price_breakdown or {}).get(key, "0")))
        return sums


def month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest("month must be YYYY-MM") from None
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


async def final_bookings(db: Database, client_id: str, start: datetime, end: datetime,
                         group_id: str | None = None) -> list[Booking]:
    query = select(Booking).where(
        Booking.client_id == client_id,
        Booking.status.in_([s.value for s in FINAL_STATES]),
        Booking.reservation_start >= start,
        Booking.reservation_start < end,
    )
    if group_id:
        query = query.where(Booking.fleet_group_id == group_id)
    async with db.read() as session:
        return list(await session.scalars(query.order_by(Booking.reservation_start, Booking.id)))


async def statement(db: Database, client_id: str, month: str) -> Statement:
    """The month's ledger, one line per booking charged in it."""
    from sqlalchemy import func

    from chargebook.db.models import LedgerEntry

    month_bounds(month)  # validates
    async with db.read() as session:
        total, count = (await session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0), func.count())
            .where(LedgerEntry.client_id == client_id, LedgerEntry.period == month)
        )).one()
        ids = select(LedgerEntry.booking_id).where(LedgerEntry.client_id == client_id, LedgerEntry.period == month)
        lines = list(await session.scalars(
            select(Booking).where(Booking.id.in_(ids)).order_by(Booking.reservation_start, Booking.id)))
    return Statement(month, lines, Decimal(total or 0), int(count))


CSV_COLUMNS = ["booking_id", "external_id", "status", "status_reason", "reservation_start", "reservation_end",
               "location_id", "location_city", "evse_uid", "token_strategy", "fleet_group_id", "customer_id",
               "cpo_cost", "reservation_fee", "commission", "client_price", "currency"]


def to_csv(lines: list[Booking]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for b in lines:
        parts = b.price_breakdown or {}
        writer.writerow([
            b.id, b.external_id or "", b.status, b.status_reason or "",
            _iso(b.reservation_start), _iso(b.reservation_end), b.location_id, b.location_city or "", b.evse_uid,
            b.token_strategy, b.fleet_group_id or "", b.customer_id or "",
            parts.get("cpo_cost", "0"), parts.get("reservation_fee", "0"), parts.get("commission", "0"),
            f"{(b.client_price or ZERO):.2f}", b.client_price_currency,
        ])
    return out.getvalue()


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def period(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The fleet export's inclusive day range as a half-open UTC interval."""
    if period_end < period_start:
        raise InvalidRequest("period_end must not be before period_start")
    if (period_end - period_start).days > 366:
        raise InvalidRequest("the period may span at most 366 days")
    start = datetime(period_start.year, period_start.month, period_start.day, tzinfo=UTC)
    end = datetime(period_end.year, period_end.month, period_end.day, tzinfo=UTC)
    return start, end + timedelta(days=1)
