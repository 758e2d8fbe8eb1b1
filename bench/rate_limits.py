"""What the rate limiter costs per request, per backend (PostgreSQL, SQLite, PostgreSQL+Redis).

Two measurements in one run:

* **In-process**: ``check_request`` called straight (no HTTP), one at a time (latency) and
  from 16 tasks at once (throughput), next to ``authenticate`` (the one query every request
  already pays) for scale.
* **Over HTTP**: requests/s and server CPU per request (the API processes plus the
  PostgreSQL backends serving them; CPU is robust to other load on the machine, requests/s
  is not) of a cheap endpoint (``GET /customers/{id}``, one indexed
  lookup) against ``chargebook serve``-like servers, with the limiter on, and with its
  storage taken out (the decision is still computed and the headers still written, but
  nothing is read or stored). The client has limits high enough never to refuse.

    python bench/rate_limits.py
    python bench/rate_limits.py --backend sqlite --requests 3000
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
import argparse
import asyncio
import multiprocessing as mp
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from common import drop_database, free_port, make_database  # noqa: E402

REDIS_URL = os.environ.get("CHARGEBOOK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
UNLIMITED = 10**9


class _StorageFree:
    """The limiter with its storage taken out: decides as if the client had never called."""

    async def check_request(self, client_id: str, minute_limit: int, quota: int, now: datetime):  # type: ignore[no-untyped-def]
        from chargebook.domain.rate_limits import decide

        return decide(now=now, minute_limit=minute_limit, quota=quota, used=0, in_window=0,
                      oldest=None, edge=None)

    async def close(self) -> None:
        pass


def app_without_limiter_storage():  # type: ignore[no-untyped-def]
    """uvicorn factory for the 'off' runs."""
    from chargebook.api.app import create_app
    from chargebook.settings import Settings

    app = create_app(Settings())
    app.state.limiter = _StorageFree()
    return app


def _settings_env(url: str, redis: bool, prefix: str) -> dict[str, str]:
    env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "CHARGEBOOK_LOG_LEVEL": "WARNING"}
    env.pop("CHARGEBOOK_REDIS_URL", None)
    if redis:
        env.update(CHARGEBOOK_REDIS_URL=REDIS_URL, CHARGEBOOK_REDIS_KEY_PREFIX=prefix)
    return env


async def in_process(url: str, redis: bool, prefix: str, n: int) -> dict[str, float]:
    from chargebook.db.engine import Database
    from chargebook.services.clients import authenticate, create_client
    from chargebook.services.clock import utcnow
    from chargebook.services.rate_limits import SqlRateLimiter
    from chargebook.services.rate_limits_redis import RedisRateLimiter

    db = Database(url, pool_size=16)
    limiter = RedisRateLimiter(REDIS_URL, key_prefix=prefix) if redis else SqlRateLimiter(db)
    try:
        client, key = await create_client(db, "bench-inproc", rate_limit_per_minute=UNLIMITED,
                                          monthly_quota=UNLIMITED)

        async def check() -> None:
            decision = await limiter.check_request(client.id, UNLIMITED, UNLIMITED, utcnow())
            assert decision.admitted

        for _ in range(200):  # warm pools and prepared statements
            await check()
        t0 = time.perf_counter()
        for _ in range(n):
            await check()
        sequential = (time.perf_counter() - t0) / n
        t0 = time.perf_counter()
        for _ in range(n):
            await authenticate(db, key)
        auth = (time.perf_counter() - t0) / n

        async def worker(count: int) -> None:
            for _ in range(count):
                await check()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(n // 16) for _ in range(16)))
        concurrent = (n // 16 * 16) / (time.perf_counter() - t0)
        return {"check_us": sequential * 1e6, "authenticate_us": auth * 1e6, "checks_per_s": concurrent}
    finally:
        await limiter.close()
        await db.dispose()


def seed_client(url: str) -> str:
    """The key of a client that is never refused."""
    from chargebook.db.engine import Database
    from chargebook.services.clients import create_client

    async def run() -> str:
        db = Database(url)
        try:
            _, key = await create_client(db, "bench-http", rate_limit_per_minute=UNLIMITED,
                                         monthly_quota=UNLIMITED)
        finally:
            await db.dispose()
        return key

    return asyncio.run(run())


def _load(base: str, key: str, path: str, count: int, concurrency: int, out: mp.Queue) -> None:
    import aiohttp

    async def main() -> list[int]:
        codes: list[int] = []
        left = [count]
        async with aiohttp.ClientSession(base_url=base, headers={"X-API-Key": key},
                                         connector=aiohttp.TCPConnector(limit=concurrency)) as http:
            async def worker() -> None:
                while left[0] > 0:
                    left[0] -= 1
                    async with http.get(path) as r:
                        await r.read()
                        codes.append(r.status)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return codes

    out.put(asyncio.run(main()))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def server_cpu(root: int, database: str, redis: bool) -> float:
    """CPU seconds used so far by the API processes (``root`` and its children), by the
    PostgreSQL backends serving ``database`` and (``redis``) by the Redis server. Robust to
    other load on the machine, unlike requests/s."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pid = int(entry.name)
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if (pid == root or ppid == root or (title.startswith("postgres:") and f" {database} " in title)
                    or (redis and title.startswith("redis-server"))):
                total += _cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total


def over_http(url: str, redis: bool, prefix: str, limiter_on: bool, requests: int,
              workers: int) -> tuple[float, float]:
    """(requests/s, server CPU ms per request)."""
    import httpx

    key = seed_client(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    factory = "chargebook.api.asgi:app_factory" if limiter_on else "rate_limits:app_without_limiter_storage"
    cmd = [sys.executable, "-m", "uvicorn", factory, "--factory", "--app-dir", str(Path(__file__).parent),
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(cmd, env=_settings_env(url, redis, prefix))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        customer = httpx.post(f"{base}/api/v1/client/customers", json={"name": "Bench"},
                              headers={"X-API-Key": key}).json()["id"]
        path = f"/api/v1/client/customers/{customer}"
        results: mp.Queue = mp.Queue()
        database = url.rsplit("/", 1)[1]
        for count in (300, requests):  # warm-up, then the measured run
            procs = [mp.Process(target=_load, args=(base, key, path, count // 2, 16, results)) for _ in range(2)]
            cpu0 = server_cpu(server.pid, database, redis)
            t0 = time.perf_counter()
            for p in procs:
                p.start()
            codes = results.get() + results.get()
            elapsed = time.perf_counter() - t0
            cpu = server_cpu(server.pid, database, redis) - cpu0
            for p in procs:
                p.join()
        assert set(codes) == {200}, sorted(set(codes))
        return len(codes) / elapsed, cpu * 1000 / len(codes)
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(backend: str, args: argparse.Namespace) -> dict[str, object]:
    kind = "sqlite" if backend == "sqlite" else "postgresql"
    redis = backend == "postgresql+redis"
    tmp = Path(tempfile.mkdtemp(prefix="cbrl_"))
    url = make_database(kind, tmp, "rl")
    prefix = f"cbbench{secrets.token_hex(4)}"
    try:
        from chargebook.db.migrate import upgrade

        upgrade(url)
        inproc = asyncio.run(in_process(url, redis, prefix, args.checks))
        workers = args.server_workers if kind == "postgresql" else 1
        on, cpu_on = over_http(url, redis, prefix, True, args.requests, workers)
        off, cpu_off = over_http(url, redis, prefix, False, args.requests, workers)
        return {"backend": backend, **{k: round(v) for k, v in inproc.items()},
                "http_on": round(on), "http_off": round(off),
                "cpu_ms_on": round(cpu_on, 2), "cpu_ms_off": round(cpu_off, 2)}
    finally:
        drop_database(kind, url)
        if redis:
            import redis as redis_lib

            r = redis_lib.Redis.from_url(REDIS_URL)
            keys = list(r.scan_iter(match=f"{prefix}:*"))
            if keys:
                r.delete(*keys)
            r.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "postgresql+redis", "all"], default="all")
    parser.add_argument("--checks", type=int, default=2000, help="in-process checks per measurement")
    parser.add_argument("--requests", type=int, default=6000, help="HTTP requests per run")
    parser.add_argument("--server-workers", type=int, default=2, help="API processes (PostgreSQL)")
    args = parser.parse_args()
    backends = ["postgresql", "sqlite", "postgresql+redis"] if args.backend == "all" else [args.backend]
    rows = [run(b, args) for b in backends]
    print(f"{'backend':<17} {'check µs':>9} {'auth µs':>8} {'checks/s':>9} {'req/s on':>9} "
          f"{'req/s off':>10} {'CPU ms on':>10} {'CPU ms off':>11}")
    for r in rows:
        print(f"{r['backend']:<17} {r['check_us']:>9} {r['authenticate_us']:>8} {r['checks_per_s']:>9} "
              f"{r['http_on']:>9} {r['http_off']:>10} {r['cpu_ms_on']:>10} {r['cpu_ms_off']:>11}")


if __name__ == "__main__":
    main()
