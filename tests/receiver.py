"""A real HTTP webhook receiver on 127.0.0.1 (aiohttp, in a thread with its own event loop).

``answer`` decides each response's status from the request number (0-based); ``stop()`` makes
the port refuse connections until ``start()`` serves on the same port again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from tests.conftest import free_port


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # lower-cased names
    body: bytes
    answered: int


class Receiver:
    def __init__(self, answer: Callable[[int], int] = lambda n: 200) -> None:
        self.answer = answer
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._lock:
            status = self.answer(len(self.received))
            self.received.append(Received({k.lower(): v for k, v in request.headers.items()}, body, status))
        return web.Response(status=status, text="ok" if status < 300 else "nope")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> Receiver:
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_until(self, condition: Callable[[list[Received]], bool], seconds: float = 60) -> list[Received]:
        deadline = time.monotonic() + seconds
        while True:
            got = self.snapshot()
            if condition(got) or time.monotonic() > deadline:
                return got
            time.sleep(0.05)
