"""Run an ASGI app, and the simulator in particular, in a background thread.

For chargebook's demo, its integration tests and anyone scripting a sandbox::

    from chargebook.cpo_sim import SimConfig, SimulatorServer

    with SimulatorServer(SimConfig(locations=20)) as cpo:   # or cpo.start() … cpo.stop()
        cpo.versions_url, cpo.token_a                       # give these to the eMSP
        cpo.register_with("http://127.0.0.1:8000/ocpi/versions", "token-A-from-the-eMSP")

The server binds its socket before it starts (port 0 picks a free one), so the URL is known
up front and there is no race for the port. It runs uvicorn with its own event loop;
:meth:`SimulatorServer.call` runs a coroutine in that loop and waits for its result.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Self, TypeVar

import uvicorn

from chargebook.cpo_sim import outbound, registration
from chargebook.cpo_sim.app import create_app
from chargebook.cpo_sim.config import SimConfig, updated
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import Peer

T = TypeVar("T")
STARTUP_SECONDS = 20.0


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A bound TCP socket (port 0: a free one); uvicorn listens on it when it starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


class ThreadedServer:
    """Any ASGI app on ``host:port`` in a daemon thread (uvicorn, lifespan on)."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "asgi",
        sock: socket.socket | None = None,
    ) -> None:
        self._sock = sock or bind(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="none",
            timeout_graceful_shutdown=3,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"{name}-{self.port}", daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self._sock])

    @property
    def url(self) -> str:
        return base_url(self.host, self.port)

    def start(self) -> str:
        """Start serving; returns the base URL once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.01)
        return self.url

    def request_stop(self) -> None:
        """Ask the server to stop without waiting (stop several at once, then :meth:`join`)."""
        self.server.should_exit = True

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._sock.close()

    def stop(self) -> None:
        self.request_stop()
        self.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimulatorServer(ThreadedServer):
    """The CPO simulator served in-process. ``public_url`` defaults to this server's URL."""

    def __init__(
        self, config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        config = config or SimConfig()
        sock = bind(host, port)
        if "public_url" not in config.model_fields_set:
            config = config.model_copy(update={"public_url": base_url(host, sock.getsockname()[1])})
        self.sim = Simulator(config)
        super().__init__(create_app(sim=self.sim), host=host, name="cpo-sim", sock=sock)

    @property
    def simulator(self) -> Simulator:
        return self.sim

    @property
    def versions_url(self) -> str:
        return self.simulator.config.versions_url

    @property
    def token_a(self) -> str:
        """The token A an eMSP registers with (the configured one, until it is spent)."""
        return self.simulator.config.token_a

    def request_stop(self) -> None:
        """Wake sleeping handlers (timeout faults) first, then stop uvicorn."""
        loop = self.simulator.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.simulator.begin_shutdown)
            except RuntimeError:
                pass  # the loop ended meanwhile
        super().request_stop()

    # --- acting in the simulator's loop ----------------------------------------------------

    def call(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60.0) -> T:
        """Run ``make()`` in the simulator's event loop and return its result."""
        loop = self.simulator.loop
        if loop is None:
            raise RuntimeError("the simulator is not running")
        return asyncio.run_coroutine_threadsafe(make(), loop).result(timeout)

    def register_with(self, versions_url: str, token_a: str) -> Peer:
        """Register with an eMSP that gave us ``token_a`` (we are the credentials Sender)."""
        return self.call(lambda: registration.register_with(self.simulator, versions_url, token_a))

    def push_catalogue(self) -> dict[str, int]:
        return self.call(lambda: outbound.push_catalogue(self.simulator))

    def configure(self, **sections: dict[str, Any]) -> SimConfig:
        """Change run-time rules: ``configure(faults={"error_share": 1.0})``."""
        sim = self.simulator

        async def apply() -> SimConfig:
            sim.config = updated(sim.config, sections)
            return sim.config

        return self.call(apply)
