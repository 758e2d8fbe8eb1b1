"""Sends a loop has started and not yet finished, at most ``slots`` at a time.

A loop that calls peers (commands and Bookings requests to CPOs, webhooks to clients) starts
one task per claimed row and does not wait for it: a pass fills the free slots and returns.
A peer that answers slowly, or trickles its answer a byte at a time, holds one slot until its
deadline, never the loop, the other loops or the heartbeat (``runner.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger("chargebook.worker")


class InFlight:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        #: Set whenever a send finishes: its slot is free, and its outcome may have made more
        #: work due (a delivered webhook releases the booking's next event).
        self.finished = asyncio.Event()

    @property
    def free(self) -> int:
        return max(0, self.slots - len(self._tasks))

    @property
    def keys(self) -> list[str]:
        """The rows being sent right now (a claim skips them)."""
        return list(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, key: str, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work, name=f"send {key}")
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._done(key, done))

    def _done(self, key: str, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(key, None)
        self.finished.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("send failed", row=key, error=repr(task.exception()))

    async def wait_all(self) -> None:
        """Wait for every send in flight (a one-shot pass, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self, grace_seconds: float) -> None:
        """Give the sends in flight ``grace_seconds`` to finish, then cancel the rest. A
        cancelled send's row stays leased; when the lease ends, a worker sends it again."""
        if not self._tasks:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_seconds):
                await self.wait_all()
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
