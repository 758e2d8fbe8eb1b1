"""Test fixtures: one URL picks the database; each backend gets a fresh database per run.

Database-backed tests run on SQLite and on PostgreSQL (``backend`` is parametrized). When
PostgreSQL is unreachable the PostgreSQL half is skipped locally, and fails under ``CI=true``.
Set ``CHARGEBOOK_TEST_BACKENDS=sqlite`` (or ``postgresql``) to run one half only.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn

from chargebook.api.app import create_app
from chargebook.db.engine import Database
from chargebook.db.migrate import upgrade
from chargebook.services import pricing
from chargebook.settings import Settings

PG_ADMIN_URL = os.environ.get("CHARGEBOOK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("CHARGEBOOK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def _pg_available() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc)


def create_pg_database() -> str:
    """A new empty database; returns its plain URL."""
    import psycopg

    problem = _pg_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable under CI=true: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"cbtest_{secrets.token_hex(5)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class FreshDatabase:
    """Creates and migrates one database of a backend; drops it afterwards."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        if backend == "postgresql":
            self.url = create_pg_database()
        else:
            self.url = f"sqlite:///{tmp / f'cb_{secrets.token_hex(4)}.db'}"
        upgrade(self.url)

    def drop(self) -> None:
        if self.backend == "postgresql":
            drop_pg_database(self.url)


@pytest.fixture(autouse=True)
def _tariff_versions_start_over() -> None:
    """Each test may use the other backend's database, where row pks repeat: what the process
    remembers of tariff versions (a pk and its last_updated) is dropped before it runs."""
    pricing.forget_tariffs()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database per backend for the whole run; tests keep apart by unique ids."""
    fresh = FreshDatabase(backend, tmp_path_factory.mktemp(backend))
    yield fresh.url
    fresh.drop()


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, for tests that count rows globally."""
    fresh = FreshDatabase(backend, tmp_path)
    yield fresh.url
    fresh.drop()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=5)
    yield database
    await database.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """chargebook's API served by uvicorn on 127.0.0.1 in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.client_base = f"{self.base}/api/v1/client"
        if settings.public_url is None:  # CPOs must be told where we really are
            settings = settings.model_copy(update={"public_url": self.base})
        self.settings = settings
        app = create_app(settings)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("chargebook did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live(database_url: str) -> Iterator[LiveServer]:
    # Tests register webhooks on loopback (receivers, the discard port); the default refusal
    # is tested by tests/security/test_webhook_ssrf.py with servers of its own.
    with LiveServer(Settings(database_url=database_url, webhook_allow_private_networks=True)) as server:
        yield server


def run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine from a sync test (fixtures that seed data through services)."""
    return asyncio.run(coro)


@pytest.fixture
async def fresh_db(fresh_database_url: str) -> AsyncIterator[Database]:
    """A Database of its own, for tests that act on every row (worker passes, counts)."""
    database = Database(fresh_database_url, pool_size=5)
    yield database
    await database.dispose()


class WorkerThread:
    """chargebook's worker loops in a thread with their own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from chargebook.worker.runner import run_forever

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            db = Database(self.settings.database_url, pool_size=3)
            try:
                await run_forever(db, self.settings, self._stop)
            finally:
                await db.dispose()

        asyncio.run(main())

    def __enter__(self) -> WorkerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=20)
