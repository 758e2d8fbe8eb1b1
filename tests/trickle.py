"""A peer that never finishes answering: a real TCP server on 127.0.0.1 that reads a request
and then sends its HTTP status line and headers one byte at a time, forever.

Every read an HTTP client makes gets a byte before its read timeout, so no per-read timeout
ever fires; only a deadline on the whole call ends it. ``open`` tells how many requests are
being trickled at right now, ``requests`` what arrived (the request line and the body).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

from tests.conftest import free_port

ANSWER = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"." * 10_000_000


@dataclass(frozen=True)
class Trickled:
    line: str  # "POST /ocpi/cpo/2.2.1/commands/RESERVE_NOW HTTP/1.1"
    body: bytes
    at: float  # time.monotonic() when the request arrived


class Trickler:
    def __init__(self, every_seconds: float = 0.2) -> None:
        self.every = every_seconds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Trickled] = []
        self.open = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = next(
                (
                    int(v)
                    for k, _, v in (h.partition(":") for h in lines[1:])
                    if k.strip().lower() == "content-length"
                ),
                0,
            )
            body = await reader.readexactly(length) if length else b""
            with self._lock:
                self.requests.append(Trickled(lines[0], body, time.monotonic()))
                self.open += 1
            try:
                for byte in ANSWER:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(self.every)
            finally:
                with self._lock:
                    self.open -= 1
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up: that is the point
        finally:
            writer.close()

    def start(self) -> Trickler:
        self._thread.start()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

        asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        return self

    def snapshot(self) -> tuple[list[Trickled], int]:
        with self._lock:
            return list(self.requests), self.open

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
