"""What a client is charged, when a booking ends, and the monthly statements.

Rules (money rounds half-up to cents per line; a line's price is the sum of its parts):

| how the booking ended                                  | client_price                         |
|--------------------------------------------------------|--------------------------------------|
| COMPLETED                                              | CDR cost + reservation fee + commission |
| CANCELLED before the CPO confirmed, or by the CPO; EXPIRED | 0 (nothing is charged)           |
| CANCELLED by the client after confirmation             | reservation fee (+ the CPO's fee if its CDR arrives) |
| NO_SHOW                                                | reservation fee + the quoted CPO reservation cost (a CDR replaces it) |

Every final price is booked in the client's ledger (:func:`record_charge`); a month's statement
is the ledger's entries of that billing period (``billing_periods.py``). The fleet export lists
ended bookings by their window, at their current price.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import BillingPeriod, Booking, LedgerEntry
from chargebook.db.queries import insert_missing
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import FINAL_STATES, BookingStatus, StatusReason
from chargebook.domain.money import commission, to_cents
from chargebook.domain.spreadsheet import LINE_END, neutralize

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


def month_of(moment: datetime) -> str:
    """The billing period (``YYYY-MM``, UTC) a moment falls in."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


_PERIOD_STATUS = (
    select(BillingPeriod.status)
    .where(BillingPeriod.client_id == bindparam("client_id"), BillingPeriod.period == bindparam("period"))
    .with_for_update(read=True)
)


async def open_period_for(session: AsyncSession, client_id: str, month: str) -> str:
    """The billing period an entry for ``month`` is booked in: that month while it is open,
    else the next open one (the current month always is: only past months close). The
    period's row is read ``FOR SHARE`` on PostgreSQL, so a close of it waits for this
    transaction, and this one, started after a close, sees it closed."""
    while True:
        await insert_missing(session, BillingPeriod,
                             {"client_id": client_id, "period": month, "status": "open"})
        if await session.scalar(_PERIOD_STATUS, {"client_id": client_id, "period": month}) == "open":
            return month
        month = next_month(month)


_BOOKED = select(
    func.coalesce(func.sum(LedgerEntry.amount), 0), func.count(),
    func.coalesce(func.sum(LedgerEntry.reservation_fee), 0), func.coalesce(func.sum(LedgerEntry.commission), 0),
).where(LedgerEntry.booking_id == bindparam("booking_id"))


async def record_charge(session: AsyncSession, booking: Booking, now: datetime, why: str) -> None:
    """Bring the client's ledger in line with the booking's (final) price: a charge the first
    time, an adjustment for any later change. Called in the transaction that sets the price.

    The entry is booked in the month of the booking's start while that billing period is open,
    else in the next open one, as an adjustment of the closed month
    (``billing_periods.open_period_for``). Its parts (CPO cost, fee, commission) add up to it."""
    await session.flush()  # entries added earlier in this transaction count too
    booked, seen, booked_fee, booked_cut = (await session.execute(_BOOKED, {"booking_id": booking.id})).one()
    delta = (booking.client_price or ZERO) - Decimal(booked or 0)
    if seen and delta == 0:
        return
    parts = booking.price_breakdown or {}
    fee = to_cents(Decimal(str(parts.get("reservation_fee") or 0))) - Decimal(booked_fee or 0)
    cut = to_cents(Decimal(str(parts.get("commission") or 0))) - Decimal(booked_cut or 0)
    service = month_of(booking.reservation_start)
    period = await open_period_for(session, booking.client_id, service)
    session.add(LedgerEntry(
        client_id=booking.client_id, booking_id=booking.id,
        kind="charge" if not seen and period == service else "adjustment",
        amount=delta, currency=booking.client_price_currency, period=period, service_period=service,
        cpo_cost=delta - fee - cut, reservation_fee=fee, commission=cut,
        description=why[:200], created_at=now,
    ))


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


CSV_COLUMNS = ["booking_id", "external_id", "status", "status_reason", "reservation_start", "reservation_end",
               "location_id", "location_city", "evse_uid", "token_strategy", "fleet_group_id", "customer_id",
               "cpo_cost", "reservation_fee", "commission", "client_price", "currency"]
#: Statement CSVs add what the period billed for the line, and the closed month it adjusts.
STATEMENT_COLUMNS = [*CSV_COLUMNS, "billed", "adjustment_of"]

def text_cell(value: str | None) -> str:
    """A text cell a spreadsheet shows as text: one that would start a formula gets a leading
    ``'`` (OWASP's rule). Text from CPOs (city, ids) and clients (external_id) goes through
    here; money cells are written by :func:`money_cell` and stay numbers."""
    return neutralize(value)


def money_cell(value: object) -> str:
    """Two decimals, a minus for adjustments: a number to a spreadsheet, never text."""
    return f"{to_cents(Decimal(str(value or 0))):.2f}"


def csv_row(b: Booking) -> list[str]:
    parts = b.price_breakdown or {}
    return [
        text_cell(b.id), text_cell(b.external_id), text_cell(b.status), text_cell(b.status_reason),
        _iso(b.reservation_start), _iso(b.reservation_end), text_cell(b.location_id), text_cell(b.location_city),
        text_cell(b.evse_uid), text_cell(b.token_strategy), text_cell(b.fleet_group_id), text_cell(b.customer_id),
        money_cell(parts.get("cpo_cost")), money_cell(parts.get("reservation_fee")),
        money_cell(parts.get("commission")), money_cell(b.client_price), text_cell(b.client_price_currency),
    ]


def to_csv(lines: list[Booking]) -> str:
    """The fleet export: one row per booking."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=LINE_END)
    writer.writerow(CSV_COLUMNS)
    for b in lines:
        writer.writerow(csv_row(b))
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
