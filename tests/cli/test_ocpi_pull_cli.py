"""`chargebook ocpi connect` against `chargebook cpo-sim --no-push`, both real processes: the
pull alone fills the catalogue and ends with its counts and duration."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx

from tests.cli.test_cli import chargebook
from tests.conftest import LiveServer

PUT_LOCATION = 'method="PUT",route="/ocpi/2.2.1/locations/{country_code}/{party_id}/{location_id}"'


def _puts(live: LiveServer) -> float:
    text = httpx.get(f"{live.base}/metrics").text
    return sum(float(m) for m in re.findall(re.escape(PUT_LOCATION) + r',status="\d+"\} ([0-9.e+]+)', text))


def test_connect_pulls_with_counts_and_the_simulator_does_not_push(live: LiveServer, database_url: str) -> None:
    env = {**os.environ, "CHARGEBOOK_DATABASE_URL": database_url}
    sim = subprocess.Popen(
        [sys.executable, "-m", "chargebook.cli", "cpo-sim", "--port", "0", "--locations", "230",
         "--party-id", "NPS", "--no-push", "--exit-after", "120"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert sim.stdout is not None
        seen: dict[str, str] = {}
        for line in sim.stdout:
            if found := re.search(r"(versions URL|token A)\s*:\s*(\S+)", line):
                seen[found.group(1)] = found.group(2)
            if len(seen) == 2:
                break
        before = _puts(live)
        env_public = {"CHARGEBOOK_PUBLIC_URL": live.base}
        os.environ.update(env_public)
        try:
            done = chargebook("ocpi", "connect", seen["versions URL"], "--token-a", seen["token A"],
                              url=database_url, timeout=120)
        finally:
            for key in env_public:
                os.environ.pop(key)
        assert done.returncode == 0, done.stderr + done.stdout
        assert re.search(r"synced:\s+230 locations, \d+ tariffs in [0-9.]+ s", done.stdout), done.stdout
        assert _puts(live) == before  # --no-push: nothing arrived but the pull
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        if sim.stdout is not None:
            sim.stdout.close()
