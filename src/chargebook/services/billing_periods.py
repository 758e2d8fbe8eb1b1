"""Billing periods: a client's calendar months (UTC), open until closed, and their statements.

A month's statement is its ledger: every entry booked in that billing period
(``billing.record_charge``), one line per booking. A booking's final price is booked in the
month its window starts in; once that month is **closed**, a later change (a CDR after a
no-show, a CPO's cancellation fee) is booked in the next open month instead, as an adjustment
of the closed one, and shown as such (``adjustment_of``). Closing keeps the statement exactly
as it was, JSON and CSV, byte for byte: a closed period never changes again.

Only a month that has ended can be closed. Closing twice answers the closed period unchanged.
The console calls :func:`list_periods`, :func:`get_statement` and :func:`close_period`, as the
client API does.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import BillingPeriod, Booking, LedgerEntry
from chargebook.db.queries import insert_missing
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.spreadsheet import LINE_END
from chargebook.services.billing import (
    STATEMENT_COLUMNS,
    ZERO,
    csv_row,
    money_cell,
    month_bounds,
    month_of,
    next_month,
    text_cell,
)
from chargebook.services.clock import utcnow
from chargebook.services.wire import BookingView, booking_json, iso_z, money_number

CURRENCY = "EUR"
#: The most months ``GET /billing/periods`` lists (ten years).
MAX_PERIODS = 120


@dataclass(frozen=True, slots=True)
class Statement:
    """A period's statement as the API answers it: JSON bytes and CSV text."""

    month: str
    status: str  # open | closed
    json: bytes
    csv: str


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    month: str
    status: str
    closed_at: datetime | None
    entries: int
    total: Decimal

    def as_json(self) -> dict[str, Any]:
        start, end = month_bounds(self.month)
        return {"month": self.month, "status": self.status, "start": iso_z(start), "end": iso_z(end),
                "closed_at": iso_z(self.closed_at) if self.closed_at else None,
                "entries": self.entries, "total": money_number(self.total), "currency": CURRENCY}


async def _render(session: AsyncSession, client_id: str, month: str, status: str,
                  closed_at: datetime | None) -> Statement:
    """The statement of ``month`` from the ledger as it stands in this transaction."""
    entries = list(await session.scalars(
        select(LedgerEntry).where(LedgerEntry.client_id == client_id, LedgerEntry.period == month)
        .order_by(LedgerEntry.pk)))
    billed: dict[str, dict[str, Decimal]] = {}
    adjusts: dict[str, str | None] = {}
    for entry in entries:
        parts = billed.setdefault(entry.booking_id, {"amount": ZERO, "cpo_cost": ZERO,
                                                     "reservation_fee": ZERO, "commission": ZERO})
        parts["amount"] += entry.amount
        parts["cpo_cost"] += entry.cpo_cost or ZERO
        parts["reservation_fee"] += entry.reservation_fee or ZERO
        parts["commission"] += entry.commission or ZERO
        service = entry.service_period or entry.period
        adjusts[entry.booking_id] = service if service != month else None
    bookings = list(await session.scalars(
        select(Booking).where(Booking.id.in_(list(billed))).order_by(Booking.reservation_start, Booking.id)
    )) if billed else []
    totals = {"client_price": ZERO, "cpo_cost": ZERO, "reservation_fee": ZERO, "commission": ZERO}
    lines: list[dict[str, Any]] = []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=LINE_END)
    writer.writerow(STATEMENT_COLUMNS)
    for b in bookings:
        parts = billed[b.id]
        totals["client_price"] += parts["amount"]
        for key in ("cpo_cost", "reservation_fee", "commission"):
            totals[key] += parts[key]
        lines.append(booking_json(BookingView(booking=b)) | {
            "billed": {k: money_number(v) for k, v in parts.items()},
            "adjustment_of": adjusts[b.id],
        })
        writer.writerow([*csv_row(b), money_cell(parts["amount"]), text_cell(adjusts[b.id])])
    body = {
        "month": month,
        "status": status,
        "closed_at": iso_z(closed_at) if closed_at else None,
        "currency": CURRENCY,
        "count": len(lines),
        "totals": {k: money_number(v) for k, v in totals.items()},
        "ledger": {"entries": len(entries), "total": money_number(sum((e.amount for e in entries), ZERO))},
        "lines": lines,
    }
    return Statement(month, status, orjson.dumps(body), out.getvalue())


async def get_statement(db: Database, client_id: str, month: str) -> Statement:
    """The month's statement: as it was at closing for a closed period, else the ledger now."""
    month_bounds(month)  # validates
    async with db.read() as session:
        period = await session.get(BillingPeriod, (client_id, month))
        if period is not None and period.status == "closed" and period.statement is not None:
            return Statement(month, "closed", period.statement.encode(), period.statement_csv or "")
        return await _render(session, client_id, month, "open", None)


async def close_period(db: Database, client_id: str, month: str) -> PeriodSummary:
    """Close a month that has ended: its statement is kept as it is now, and later charges for
    it go to the next open month. Closing a closed month changes nothing."""
    _, end = month_bounds(month)
    if end > utcnow():
        raise InvalidRequest(f"Only a past month can be closed: {month} ends at {iso_z(end)}")
    async with db.write() as session:
        await insert_missing(session, BillingPeriod,
                             {"client_id": client_id, "period": month, "status": "open"})
        # FOR UPDATE: waits for charges being booked into this month, which read it FOR SHARE.
        period = await session.get(BillingPeriod, (client_id, month), with_for_update=True,
                                   populate_existing=True)
        assert period is not None
        if period.status != "closed":
            now = utcnow()
            statement = await _render(session, client_id, month, "closed", now)
            period.status, period.closed_at = "closed", now
            period.statement, period.statement_csv = statement.json.decode(), statement.csv
        closed_at = period.closed_at
    return (await _summaries(db, client_id, [month], {month: ("closed", closed_at)}))[0]


async def list_periods(db: Database, client_id: str, since: str | None = None) -> list[PeriodSummary]:
    """The client's months, newest first: from its first billed month (or this month, or
    ``since`` if earlier) to this month, each open or closed, with what its ledger holds."""
    current = month_of(utcnow())
    async with db.read() as session:
        rows = list(await session.execute(
            select(BillingPeriod.period, BillingPeriod.status, BillingPeriod.closed_at)
            .where(BillingPeriod.client_id == client_id)))
    known = {period: (status, closed_at) for period, status, closed_at in rows}
    first = min([current, *known, *([since] if since else [])])
    months: list[str] = []
    month = first
    while month <= current:
        months.append(month)
        month = next_month(month)
    months = [m for m in reversed(months)][:MAX_PERIODS]
    return await _summaries(db, client_id, months, known)


async def _summaries(db: Database, client_id: str, months: list[str],
                     known: dict[str, tuple[str, datetime | None]]) -> list[PeriodSummary]:
    async with db.read() as session:
        sums = {period: (int(n), Decimal(total or 0)) for period, n, total in await session.execute(
            select(LedgerEntry.period, func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.client_id == client_id, LedgerEntry.period.in_(months))
            .group_by(LedgerEntry.period))}
    out = []
    for month in months:
        status, closed_at = known.get(month, ("open", None))
        entries, total = sums.get(month, (0, ZERO))
        out.append(PeriodSummary(month, status, closed_at, entries, total))
    return out
