"""The worker process: every loop of ``worker/`` runs as a task of its own, with its own
cadence, beside a heartbeat task, until stopped.

Every loop is level-triggered (it derives its work from rows), so any number of workers may
run against one PostgreSQL and a killed worker loses nothing.

Loops are independent: a loop whose pass is slow (a CPO or a webhook receiver that answers a
byte at a time, a large catalogue pull) holds only itself. The loops that call peers keep
their sends in flight without waiting for them (``in_flight.py``), and a pass of the loops
that wait for peers (polls, catalogue pulls) has a time budget. The heartbeat beats on its
own clock whatever the loops are doing: its lag is how late it beat, which grows only when
the process is starved or its event loop blocked; the heartbeat's pass seconds are the
longest a loop has been in its current pass (or took for its last one).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from chargebook import metrics
from chargebook.db.engine import Database
from chargebook.domain.outbox import RetryPolicy
from chargebook.services.clock import utcnow
from chargebook.services.operations import WorkerIdentity, forget_worker, record_heartbeat
from chargebook.services.tokens import Issuer
from chargebook.services.webhook_deliveries import DeliveryPolicy
from chargebook.settings import Settings
from chargebook.worker.deliver_webhooks import WebhookSender
from chargebook.worker.enqueue_reservations import enqueue_due_reservations
from chargebook.worker.expire_booking_answers import expire_unanswered_bookings
from chargebook.worker.expire_bookings import expire_due_bookings
from chargebook.worker.expire_commands import expire_unanswered_commands
from chargebook.worker.in_flight import InFlight
from chargebook.worker.outbox_sends import CONCURRENT_SENDS
from chargebook.worker.poll_bookings import poll_due_bookings
from chargebook.worker.send_booking_requests import send_due_booking_requests
from chargebook.worker.send_commands import send_due_commands
from chargebook.worker.sync_parties import sync_stale_parties

log = structlog.get_logger("chargebook.worker")

#: A pass of a loop that waits for peers is abandoned after this long (its rows are claimed
#: again by a later pass); the catalogue pull of a large CPO takes minutes, a poll seconds.
POLL_BUDGET_SECONDS = 120.0
SYNC_BUDGET_SECONDS = 1800.0
#: A heartbeat that cannot be written this fast is skipped (the next one tries again).
HEARTBEAT_BUDGET_SECONDS = 10.0
#: On stop, passes and sends in flight get this long to finish, then they are cancelled.
STOP_GRACE_SECONDS = 10.0


@dataclass(slots=True)
class Loop:
    """One background loop: a pass, how often it runs, and what may cut it short."""

    name: str
    step: Callable[[], Awaitable[int]]  # one pass; returns how many things moved
    every: float  # seconds between the end of one pass and the start of the next
    budget: float | None = None  # a longer pass is abandoned
    wake: asyncio.Event | None = None  # set when more may be due before `every` has passed
    on_stop: Callable[[float], Awaitable[None]] | None = None  # let sends in flight finish


@dataclass(slots=True)
class Progress:
    """When each loop's current pass started, and how long its last one took."""

    running: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)

    def slowest(self, now: float) -> float | None:
        """The longest any loop has been in its current pass, or took for its last one."""
        spans = [now - started for started in self.running.values()]
        spans += [d for name, d in self.last.items() if name not in self.running]
        return max(spans, default=None)


def loops(db: Database, settings: Settings, worker_id: str) -> list[Loop]:
    """Every loop of the worker, with its parameters from ``Settings``."""
    every = settings.worker_interval_seconds
    issuer = Issuer(settings.ocpi_country_code, settings.ocpi_party_id, settings.token_issuer)
    retry = RetryPolicy(
        settings.command_retry_attempts,
        settings.command_retry_base_seconds,
        settings.command_send_timeout_seconds,
    )
    poll_every = timedelta(seconds=settings.booking_poll_seconds)
    grace = timedelta(minutes=settings.no_show_grace_minutes)
    commands, requests = InFlight(CONCURRENT_SENDS), InFlight(CONCURRENT_SENDS)
    webhooks = WebhookSender(
        db,
        DeliveryPolicy(
            settings.webhook_max_attempts,
            settings.webhook_backoff_seconds,
            allow_private_networks=settings.webhook_allow_private_networks,
        ),
    )
    return [
        Loop(
            "enqueue_reservations",
            lambda: enqueue_due_reservations(db, utcnow(), settings.base_url(), issuer),
            every,
        ),
        Loop(
            "send_commands",
            lambda: send_due_commands(db, utcnow(), retry, issuer, commands, worker_id),
            every,
            wake=commands.finished,
            on_stop=commands.stop,
        ),
        Loop("expire_commands", lambda: expire_unanswered_commands(db, utcnow()), every),
        Loop(
            "send_booking_requests",
            lambda: send_due_booking_requests(
                db, utcnow(), retry, issuer, poll_every, requests, worker_id
            ),
            every,
            wake=requests.finished,
            on_stop=requests.stop,
        ),
        Loop(
            "poll_bookings",
            lambda: poll_due_bookings(db, utcnow(), poll_every),
            every,
            budget=POLL_BUDGET_SECONDS,
        ),
        Loop("expire_booking_answers", lambda: expire_unanswered_bookings(db, utcnow()), every),
        Loop("expire_bookings", lambda: expire_due_bookings(db, utcnow(), grace), every),
        Loop(
            "sync_parties",
            lambda: sync_stale_parties(
                db, utcnow(), timedelta(minutes=settings.sync_interval_minutes)
            ),
            every,
            budget=SYNC_BUDGET_SECONDS,
        ),
        Loop(
            "deliver_webhooks",
            webhooks.start_due,
            every,
            wake=webhooks.in_flight.finished,
            on_stop=webhooks.close,
        ),
    ]


async def _pause(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    """Sleep ``seconds``, or less when stopped or woken."""
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    if wake is not None:
        wake.clear()


async def _run(loop: Loop, progress: Progress, stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        progress.running[loop.name] = started
        try:
            async with asyncio.timeout(loop.budget):
                moved = await loop.step()
            if moved:
                log.info("worker pass", loop=loop.name, moved=moved)
        except TimeoutError:
            log.warning(
                "worker pass over its budget; abandoned", loop=loop.name, budget_seconds=loop.budget
            )
        except Exception:  # a bad pass must not kill the loop; the next pass retries
            log.exception("worker pass failed", loop=loop.name)
        duration = time.monotonic() - started
        del progress.running[loop.name]
        progress.last[loop.name] = duration
        metrics.WORKER_PASS_SECONDS.labels(loop.name).observe(duration)
        await _pause(stop, loop.every, loop.wake)


async def _beat(
    db: Database, me: WorkerIdentity, every: float, progress: Progress, stop: asyncio.Event
) -> None:
    due = time.monotonic()
    while not stop.is_set():
        lag = max(0.0, time.monotonic() - due)
        metrics.WORKER_LOOP_LAG.set(lag)
        try:
            async with asyncio.timeout(HEARTBEAT_BUDGET_SECONDS):
                await record_heartbeat(db, me, utcnow(), progress.slowest(time.monotonic()), lag)
        except Exception:  # noqa: BLE001 - a missed beat is logged; the next one tries again
            log.exception("heartbeat failed")
        due = time.monotonic() + every
        await _pause(stop, every)


async def run_forever(db: Database, settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    me = WorkerIdentity.of_this_process(utcnow())
    log.info("worker started", worker_id=me.id, hostname=me.hostname, pid=me.pid)
    progress = Progress()
    background = loops(db, settings, me.id)
    tasks = [
        asyncio.create_task(
            _beat(db, me, settings.worker_interval_seconds, progress, stop), name="heartbeat"
        )
    ]
    tasks += [
        asyncio.create_task(_run(loop, progress, stop), name=loop.name) for loop in background
    ]
    try:
        await stop.wait()
    finally:
        stop.set()
        # Passes finish within the grace; one still waiting on a peer is cancelled (its rows
        # are claimed again by the next worker that finds them due).
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(
            *(loop.on_stop(STOP_GRACE_SECONDS) for loop in background if loop.on_stop),
            return_exceptions=True,
        )
        with contextlib.suppress(Exception):  # stopping cleanly: readiness sees us gone at once
            await forget_worker(db, me.id)
        log.info("worker stopped", worker_id=me.id)
