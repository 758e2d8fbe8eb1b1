"""Limits hold across API processes: two `chargebook serve` processes, one database (and one
Redis), one client allowed 30 a minute, 90 requests at once split over both."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chargebook.services.clock import utcnow
from chargebook.services.rate_limits import SqlRateLimiter
from tests.conftest import free_port
from tests.factories import make_client, with_db
from tests.redis_support import delete_prefix, require_redis, unique_prefix

SRC = str(Path(__file__).resolve().parents[2] / "src")
LIMIT = 30


class ApiProcess:
    """The API in a process of its own (what `chargebook serve` runs, without its migration
    step: the database is migrated already), running this checkout's code."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "chargebook.api.asgi:app_factory", "--factory",
             "--port", str(self.port), "--log-level", "warning"],
            env={**os.environ, **env, "PYTHONPATH": path},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"API process exited: {self.proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("API process did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def _two_processes(env: dict[str, str]) -> Iterator[list[ApiProcess]]:
    procs = [ApiProcess(env), ApiProcess(env)]
    try:
        for p in procs:
            p.wait_ready()
        yield procs
    finally:
        for p in procs:
            p.stop()


@pytest.fixture(params=["database", "redis"])
def setup(request: pytest.FixtureRequest, backend: str, fresh_database_url: str) -> Iterator[tuple[list[ApiProcess], str]]:
    env = {"CHARGEBOOK_DATABASE_URL": fresh_database_url, "CHARGEBOOK_LOG_LEVEL": "WARNING"}
    prefix = None
    if request.param == "redis":
        prefix = unique_prefix()
        env.update(CHARGEBOOK_REDIS_URL=require_redis(), CHARGEBOOK_REDIS_KEY_PREFIX=prefix)
    else:
        env["CHARGEBOOK_REDIS_URL"] = ""
    try:
        for procs in _two_processes(env):
            yield procs, request.param
    finally:
        if prefix:
            delete_prefix(prefix)


async def _burst(procs: list[ApiProcess], key: str, count: int) -> list[httpx.Response]:
    clients = [httpx.AsyncClient(base_url=f"{p.base}/api/v1/client", headers={"X-API-Key": key}, timeout=60)
               for p in procs]
    try:
        for c in clients:  # open the connections first, so that the burst is a burst
            assert (await c.get("/nope")).status_code == 404
        start = asyncio.Event()

        async def one(i: int) -> httpx.Response:
            await start.wait()
            return await clients[i % len(clients)].get("/usage")

        tasks = [asyncio.create_task(one(i)) for i in range(count)]
        start.set()
        return await asyncio.gather(*tasks)
    finally:
        for c in clients:
            await c.aclose()


def test_a_burst_over_two_processes_gets_exactly_the_limit(
    setup: tuple[list[ApiProcess], str], fresh_database_url: str
) -> None:
    procs, kind = setup
    client_id, key = make_client(fresh_database_url, rate_limit_per_minute=LIMIT, monthly_quota=100_000)
    responses = asyncio.run(_burst(procs, key, 3 * LIMIT))

    admitted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert (len(admitted), len(refused)) == (LIMIT, 2 * LIMIT), sorted(r.status_code for r in responses)
    for r in refused:
        seconds = int(r.headers["Retry-After"])
        assert 1 <= seconds <= 60
        assert r.json() == {"error": f"Rate limit exceeded. Retry after {seconds} seconds."}
        assert r.headers["X-RateLimit-Remaining"] == "0"
    # Each admitted request was counted once, in turn: the month's counts are 1..30 exactly.
    assert sorted(r.json()["quota"]["used"] for r in admitted) == list(range(1, LIMIT + 1))
    assert all(r.json()["rate_limit"]["limit"] == LIMIT for r in admitted)
    if kind == "database":  # checks take turns, so each one saw a different window too
        assert sorted(r.json()["rate_limit"]["remaining"] for r in admitted) == list(range(LIMIT))
        usage = with_db(fresh_database_url, lambda db: SqlRateLimiter(db).month_usage([client_id], utcnow()))
        assert usage == {client_id: LIMIT}
    # Both processes answer the same about the client's standing afterwards.
    for p in procs:
        again = httpx.get(f"{p.base}/api/v1/client/usage", headers={"X-API-Key": key})
        assert again.status_code == 429 and again.headers["X-RateLimit-Remaining"] == "0"
