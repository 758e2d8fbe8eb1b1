"""The operations middleware's cost on booking creates, measured in one process.

Three apps on one PostgreSQL database: without `HttpMetrics`, with it, and with it plus the
access-log line. Booking creates go straight to each app's ASGI callable (no network, no
load processes), interleaved in batches so that the load of a busy machine hits all three
alike. Prints the CPU per create of each. Logs go to stdout: redirect it.

    python bench/middleware_cost.py 30 100 > /dev/null    # 30 rounds of 100 creates per app
"""

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bookings import plan, seed  # noqa: E402
from common import drop_database, make_database  # noqa: E402


def main():
    rounds, batch = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (30, 100)
    url = make_database("postgresql", Path(tempfile.mkdtemp()), "ab")
    try:
        key, targets = seed(url, 400)
        bodies = plan(targets, rounds * batch * 3 + 300, 0.0, 9)
        from chargebook.api.app import create_app
        from chargebook.db.engine import Database
        from chargebook.settings import Settings

        db = Database(url)
        apps = {
            "bare (no HttpMetrics)": create_app(Settings(database_url=url, log_requests=False), db),
            "metrics only": create_app(Settings(database_url=url, log_requests=False), db),
            "metrics + access log": create_app(Settings(database_url=url, log_requests=True), db),
        }
        apps["bare (no HttpMetrics)"].user_middleware = [
            m
            for m in apps["bare (no HttpMetrics)"].user_middleware
            if m.cls.__name__ != "HttpMetrics"
        ]

        async def call(app, body):
            raw = json.dumps(body).encode()
            scope = {
                "type": "http",
                "method": "POST",
                "path": "/api/v1/client/bookings",
                "raw_path": b"/api/v1/client/bookings",
                "query_string": b"",
                "root_path": "",
                "headers": [
                    (b"host", b"x"),
                    (b"x-api-key", key.encode()),
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(raw)).encode()),
                ],
                "scheme": "http",
                "server": ("x", 80),
                "client": ("y", 1),
                "http_version": "1.1",
                "asgi": {"version": "3.0"},
            }
            sent = False

            async def receive():
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}

            async def send(m):
                pass

            await app(scope, receive, send)

        async def drive():
            it = iter(bodies)
            for app in apps.values():
                for _ in range(100):
                    await call(app, next(it))
            cpu = {k: 0.0 for k in apps}
            for r in range(rounds):
                for name, app in list(apps.items()) if r % 2 == 0 else list(reversed(apps.items())):
                    t = time.process_time()
                    for _ in range(batch):
                        await call(app, next(it))
                    cpu[name] += time.process_time() - t
            await db.dispose()
            return cpu

        cpu = asyncio.run(drive())
        for k, v in cpu.items():
            print(f"{k:24s} {v / (rounds * batch) * 1000:.3f} ms CPU per create", file=sys.stderr)
    finally:
        drop_database("postgresql", url)


if __name__ == "__main__":
    main()
