"""A bigger fuzz of the client API than the test suite's: schemathesis's CLI against a real
server on a fresh database, with a seeded client, site, booking, customer, fleet group and
webhook endpoints.

    python bench/fuzz_api.py --examples 500 [--backend postgresql] [--phases examples,coverage,fuzzing]

Prints schemathesis's own report; exits non-zero when it found a failure. The checks are the
test suite's (``tests/api/fuzzing.py: CHECKS``).
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

ROOT = _Path(__file__).resolve().parent.parent
_sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "src")]
import argparse
import dataclasses
import json
import os
import subprocess
import tempfile
import time

from common import drop_database, make_database
from tests.api.fuzzing import CHECKS, seed
from tests.conftest import LiveServer
from tests.factories import api

from chargebook.db.migrate import upgrade
from chargebook.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="test cases per operation (default 500)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--seed", type=int, default=1, help="schemathesis's random seed (reproducible runs)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = make_database(args.backend, _Path(tmp), "fuzz")
        try:
            upgrade(url)
            # No worker runs here: /readyz would rightly answer 503, which the fuzz counts as a
            # server error.
            settings = Settings(database_url=url, readiness_requires_worker=False, log_requests=False,
                                webhook_allow_private_networks=True)
            with LiveServer(settings) as server:
                target = seed(url, server.client_base)
                env = {
                    **os.environ,
                    "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT), str(ROOT / "src")]),
                    "SCHEMATHESIS_HOOKS": "fuzz_hooks",
                    "CHARGEBOOK_FUZZ_TARGET": json.dumps(dataclasses.asdict(target)),
                }
                command = [
                    _sys.executable, "-m", "schemathesis.cli", "run", f"{server.base}/openapi.json",
                    "--header", f"X-API-Key:{target.key}",
                    "--checks", ",".join(check.__name__ for check in CHECKS),
                    "--max-examples", str(args.examples), "--phases", args.phases,
                    "--seed", str(args.seed), "--workers", "1", "--suppress-health-check", "all",
                ]
                started = time.monotonic()
                code = subprocess.call(command, env=env, cwd=tmp)
                with api(server.client_base, target.key) as http:  # proof the fuzz reached real rows
                    made = len(http.get("/bookings", params={"limit": 1000}).json()["bookings"])
                print(f"\nbookings the fuzz created (beside the seeded one): {made - 1}")
                print(f"{args.backend}: {args.examples} examples per operation in "
                      f"{time.monotonic() - started:.0f} s; schemathesis exit code {code}")
                return code
        finally:
            drop_database(args.backend, url)


if __name__ == "__main__":
    raise SystemExit(main())
