"""Operations: worker heartbeats, readiness checks, and the figures ``/metrics`` reads from the
database at scrape time (so every API process reports the same numbers).

Each ``chargebook worker`` process writes its heartbeat row every pass
(:func:`record_heartbeat`) and deletes it when it stops cleanly (:func:`forget_worker`). A
worker killed without warning leaves its row behind: it ages (readiness and the heartbeat
gauges show it) and is pruned after :data:`PRUNE_AFTER`.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from chargebook.db.engine import Database
from chargebook.db.migrate import APPLIED_REVISIONS
from chargebook.db.models import Booking, WorkerHeartbeat
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.services.ids import new_id

#: A dead worker's heartbeat stays visible this long (its age keeps growing on /metrics),
#: then the next beat of any worker deletes it.
PRUNE_AFTER = timedelta(hours=1)
#: Readiness gives the database this long to answer before calling it unreachable.
DATABASE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    id: str
    hostname: str
    pid: int
    started_at: datetime

    @classmethod
    def of_this_process(cls, now: datetime) -> WorkerIdentity:
        return cls(new_id("wrk"), socket.gethostname()[:255], os.getpid(), now)


async def record_heartbeat(
    db: Database, worker: WorkerIdentity, now: datetime, last_pass_seconds: float | None,
    lag_seconds: float | None,
) -> None:
    """This worker is alive at ``now``; also prune heartbeats of workers long gone."""
    async with db.write() as session:
        row = await session.get(WorkerHeartbeat, worker.id)
        if row is None:  # first beat (or pruned while this worker was stuck for an hour)
            session.add(WorkerHeartbeat(
                id=worker.id, hostname=worker.hostname, pid=worker.pid, started_at=worker.started_at,
                beat_at=now, last_pass_seconds=last_pass_seconds, lag_seconds=lag_seconds,
            ))
        else:
            row.beat_at, row.last_pass_seconds, row.lag_seconds = now, last_pass_seconds, lag_seconds
        await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - PRUNE_AFTER))


async def forget_worker(db: Database, worker_id: str) -> None:
    """A worker stopping cleanly removes its heartbeat, so readiness sees it gone at once."""
    async with db.write() as session:
        await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.id == worker_id))


# --- readiness -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    #: The worker check's figures, for the body: the newest heartbeat's age (None: none, or
    #: unreadable), whether it is fresh, and whether readiness depends on it.
    facts: dict[str, float | bool | None] | None = None


@dataclass(frozen=True, slots=True)
class ReadinessRules:
    head: frozenset[str]  # the Alembic head(s) of this release's migration scripts
    worker_stale_after: timedelta
    require_worker: bool = False
    known: frozenset[str] = frozenset()  # every revision of this release's scripts


async def readiness(db: Database, rules: ReadinessRules, now: datetime) -> list[Check]:
    """Database reachable, schema at this release's head: whether this process can serve.
    The worker heartbeat is reported beside them, and decides only with ``require_worker``:
    taking every API process out of rotation because the workers are down would turn a
    degraded platform (bookings wait in REQUESTED) into an outage."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            async with db.read() as session:
                await session.execute(select(1))
    except Exception as exc:  # noqa: BLE001 - whatever it is, the database cannot be used now
        return [
            Check("database", False, _reason(exc)),
            Check("schema", False, "not checked: the database is unreachable"),
            _worker_check(rules, "not checked: the database is unreachable", None, False),
        ]
    return [Check("database", True, "reachable"), await _schema(db, rules), await _worker(db, rules, now)]


async def _schema(db: Database, rules: ReadinessRules) -> Check:
    try:
        async with db.read() as session:
            applied = frozenset(str(v) for v in await session.scalars(APPLIED_REVISIONS))
    except Exception as exc:  # noqa: BLE001 - e.g. no alembic_version table: never migrated
        return Check("schema", False, f"cannot read the schema revision ({_reason(exc)}): "
                                      "run `chargebook db upgrade`")
    if applied == rules.head:
        return Check("schema", True, f"at {_revisions(applied)}")
    if applied and not applied & (rules.known | rules.head):
        # Migrated by a newer release: upgrades migrate first, then roll the processes, and
        # migrations only add, so this release keeps working until it is replaced.
        return Check("schema", True, f"at {_revisions(applied)}, newer than this release's "
                                     f"{_revisions(rules.head)} (a newer release migrated it)")
    return Check("schema", False, f"database at {_revisions(applied) or 'no revision'}, this release "
                                  f"needs {_revisions(rules.head)}: run `chargebook db upgrade`")


async def _worker(db: Database, rules: ReadinessRules, now: datetime) -> Check:
    try:
        async with db.read() as session:
            newest = await session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    except Exception as exc:  # noqa: BLE001 - e.g. the table is missing: the schema is not current
        return _worker_check(rules, f"cannot read heartbeats ({_reason(exc)})", None, False)
    stale = rules.worker_stale_after.total_seconds()
    if newest is None:
        return _worker_check(rules, "no worker has reported (run `chargebook worker`)", None, False)
    age = max(0.0, (now - newest).total_seconds())
    return _worker_check(rules, f"newest heartbeat {age:.1f} s ago (stale after {stale:g} s)",
                         round(age, 1), age <= stale)


def _worker_check(rules: ReadinessRules, detail: str, age: float | None, fresh: bool) -> Check:
    return Check("worker", fresh or not rules.require_worker, detail,
                 {"heartbeat_age_seconds": age, "fresh": fresh, "required": rules.require_worker})


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return (text.splitlines() or [text])[0][:300]


def _revisions(revisions: Collection[str]) -> str:
    return ", ".join(sorted(revisions))


# --- figures for /metrics --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerFigures:
    id: str
    hostname: str
    pid: int
    age_seconds: float
    last_pass_seconds: float | None
    lag_seconds: float | None


@dataclass(slots=True)
class Figures:
    live_bookings: dict[str, int] = field(default_factory=dict)  # every live status, 0 if none
    workers: list[WorkerFigures] = field(default_factory=list)


# Only live states: their rows are few (bookings end within hours) and the range scan on
# ix_bookings_status_start reads just them, however many ended bookings pile up.
_LIVE_BOOKINGS = (
    select(Booking.status, func.count())
    .where(Booking.status.in_(sorted(s.value for s in LIVE_STATES)))
    .group_by(Booking.status)
)
_HEARTBEATS = select(WorkerHeartbeat).order_by(WorkerHeartbeat.started_at)


async def operational_figures(db: Database, now: datetime) -> Figures:
    async with db.read() as session:
        counts = {str(status): int(n) for status, n in (await session.execute(_LIVE_BOOKINGS)).all()}
        beats = list(await session.scalars(_HEARTBEATS))
    figures = Figures(live_bookings={s.value: counts.get(s.value, 0) for s in sorted(LIVE_STATES)})
    for beat in beats:
        figures.workers.append(WorkerFigures(
            beat.id, beat.hostname, beat.pid, max(0.0, (now - beat.beat_at).total_seconds()),
            beat.last_pass_seconds, beat.lag_seconds,
        ))
    return figures
