"""What the console's operator overview shows, read the way ``/metrics`` reads it.

Live bookings, worker heartbeats and the webhook backlog come from the same service calls as
``/metrics`` (``operations.operational_figures``, ``webhook_deliveries.delivery_figures``);
OCPI calls per CPO come from the same Prometheus registry ``/metrics`` exposes. Beside those,
what only the database knows over time: bookings per day and status, and each CPO's commands
and booking requests of the last 24 hours with their failure share.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select

from chargebook import metrics
from chargebook.db.engine import Database
from chargebook.db.models import Booking, Command, OcpiBookingRequest, Party
from chargebook.services import operations, webhook_deliveries

DAYS = 30
OCPI_CALLS_FAMILY = "chargebook_ocpi_calls"  # the counter's name without "_total"


@dataclass(frozen=True, slots=True)
class CallShare:
    """Outbound OCPI calls to one CPO (party label ``CC*PID``) and how many failed."""

    party: str
    calls: int
    errors: int

    @property
    def error_share(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class CommandShare:
    """A CPO's commands and booking requests created in the last 24 hours, from the database."""

    party_pk: str
    party: str
    name: str
    total: int
    failed: int

    @property
    def failure_share(self) -> float:
        return self.failed / self.total if self.total else 0.0


@dataclass(slots=True)
class Overview:
    now: datetime
    today: dict[str, int]  # status -> bookings created today (UTC)
    days: list[date]  # the last DAYS days, oldest first
    per_day: dict[date, dict[str, int]]  # day -> status -> bookings created that day
    live: dict[str, int]
    workers: list[operations.WorkerFigures]
    worker_stale_after: float
    webhooks: webhook_deliveries.DeliveryFigures
    ocpi_calls: list[CallShare] = field(default_factory=list)
    commands: list[CommandShare] = field(default_factory=list)


def _day(value: object) -> date:
    """``date(created_at)`` comes back as a date (PostgreSQL) or an ISO string (SQLite)."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def bookings_per_day(
    db: Database, now: datetime, days: int = DAYS, client_id: str | None = None
) -> dict[date, dict[str, int]]:
    """Bookings created per UTC day and status over the last ``days`` days (today included)."""
    start = datetime.combine(
        now.astimezone(UTC).date() - timedelta(days=days - 1), datetime.min.time(), UTC
    )
    day = func.date(Booking.created_at)
    query = select(day, Booking.status, func.count()).where(Booking.created_at >= start)
    if client_id is not None:
        query = query.where(Booking.client_id == client_id)
    async with db.read() as session:
        rows = (await session.execute(query.group_by(day, Booking.status))).all()
    out: dict[date, dict[str, int]] = defaultdict(dict)
    for raw_day, status, count in rows:
        out[_day(raw_day)][str(status)] = int(count)
    return dict(out)


def ocpi_call_shares() -> list[CallShare]:
    """``chargebook_ocpi_calls_total`` as ``/metrics`` reports it, summed per CPO."""
    calls: dict[str, int] = defaultdict(int)
    errors: dict[str, int] = defaultdict(int)
    for family in metrics.collecting_registry().collect():
        if family.name != OCPI_CALLS_FAMILY:
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            party = sample.labels.get("party", "unidentified")
            calls[party] += int(sample.value)
            if sample.labels.get("outcome") != "ok":
                errors[party] += int(sample.value)
    return [CallShare(p, calls[p], errors[p]) for p in sorted(calls)]


async def command_shares(db: Database, now: datetime) -> list[CommandShare]:
    since = now - timedelta(hours=24)
    async with db.read() as session:
        parties = {p.id: p for p in await session.scalars(select(Party))}
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for table, failed in (
            (Command, Command.state == "failed"),
            (OcpiBookingRequest, OcpiBookingRequest.state == "failed"),
        ):
            rows = await session.execute(
                select(table.party_pk, func.count(), func.sum(case((failed, 1), else_=0)))
                .where(table.created_at >= since)
                .group_by(table.party_pk)
            )
            for party_pk, total, bad in rows.all():
                counts[party_pk][0] += int(total)
                counts[party_pk][1] += int(bad or 0)
    out = []
    for party_pk, (total, bad) in counts.items():
        party = parties.get(party_pk)
        label = f"{party.country_code}*{party.party_id}" if party else party_pk
        out.append(CommandShare(party_pk, label, party.name if party else "?", total, bad))
    return sorted(out, key=lambda c: c.party)


async def overview(db: Database, now: datetime, worker_stale_after: float) -> Overview:
    per_day = await bookings_per_day(db, now)
    today = now.astimezone(UTC).date()
    figures = await operations.operational_figures(db, now)
    return Overview(
        now=now,
        today=per_day.get(today, {}),
        days=[today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)],
        per_day=per_day,
        live=figures.live_bookings,
        workers=figures.workers,
        worker_stale_after=worker_stale_after,
        webhooks=await webhook_deliveries.delivery_figures(db, now),
        ocpi_calls=ocpi_call_shares(),
        commands=await command_shares(db, now),
    )
