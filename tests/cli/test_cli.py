"""The operator CLI, run as a real process against a fresh database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.console.kit import Visitor


def chargebook(*args: str, url: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "chargebook.cli", *args], env=env, capture_output=True, text=True,
        timeout=timeout, cwd=cwd,
    )


def test_clients_lifecycle(fresh_database_url: str) -> None:
    assert chargebook("db", "upgrade", url=fresh_database_url).returncode == 0
    created = chargebook("clients", "create", "Acme Fleet", "--reservation-fee", "2.50",
                         "--commission-percent", "10", "--rate-limit-per-minute", "50", url=fresh_database_url)
    assert created.returncode == 0, created.stderr
    client_id = re.search(r"client_id: (\S+)", created.stdout).group(1)  # type: ignore[union-attr]
    key = re.search(r"api_key:\s+(\S+)", created.stdout).group(1)  # type: ignore[union-attr]
    listed = chargebook("clients", "list", url=fresh_database_url)
    assert client_id in listed.stdout and "Acme Fleet" in listed.stdout and "2.5" in listed.stdout
    assert key not in listed.stdout
    rotated = chargebook("clients", "rotate-key", client_id, url=fresh_database_url)
    new_key = re.search(r"api_key:\s+(\S+)", rotated.stdout).group(1)  # type: ignore[union-attr]
    assert new_key != key
    assert chargebook("clients", "suspend", client_id, url=fresh_database_url).returncode == 0
    assert "suspended" in chargebook("clients", "list", url=fresh_database_url).stdout
    assert chargebook("clients", "resume", client_id, url=fresh_database_url).returncode == 0
    missing = chargebook("clients", "suspend", "cli_nope", url=fresh_database_url)
    assert missing.returncode == 2 and "Client not found" in missing.stderr
    bad = chargebook("clients", "create", "X", "--reservation-fee", "lots", url=fresh_database_url)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_demo_prints_working_curl_commands(fresh_database_url: str, tmp_path: Path) -> None:
    """The demo's printed key and booking body work against its own server."""
    env = {**os.environ, "CHARGEBOOK_DATABASE_URL": fresh_database_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chargebook.cli", "demo", "--port", "0", "--exit-after", "120"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "List and cancel" in line:
                break
        text = "".join(lines)
        base = re.search(r"base URL : (\S+)", text).group(1)  # type: ignore[union-attr]
        key = re.search(r"API key  : (\S+)", text).group(1)  # type: ignore[union-attr]
        body, bookings_body = re.findall(r"-d '(\{\"location_id.*\})'", text)
        assert "(DE-SIM)" in text and "OCPI 2.2.1 negotiated" in text
        assert "(DE-SBK)" in text and "OCPI 2.3.0 negotiated" in text
        with httpx.Client(base_url=base, headers={"X-API-Key": key}) as http:
            search = http.get("/search", params={"lat": 52.52, "lng": 13.405, "radius": 10}).json()
            assert search["total"] > 0
            booked = http.post("/bookings", content=body, headers={"Content-Type": "application/json"})
            assert booked.status_code == 202, booked.text
            # The demo's simulated CPO confirms, its driver charges, and the CDR completes it.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                booking = http.get(f"/bookings/{booked.json()['id']}").json()
                if booking["status"] not in ("REQUESTED", "PENDING", "CONFIRMED", "ATTENDING"):
                    break
                time.sleep(0.5)
            assert booking["status"] == "COMPLETED", booking
            assert [h["to_status"] for h in booking["status_history"]] == [
                "REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED"]
            assert booking["price_breakdown"]["estimated"] is False and booking["client_price"] > 2.5
            # Through the OCPI 2.3.0 Bookings module: confirmed by the CPO's own booking id.
            booked = http.post("/bookings", content=bookings_body, headers={"Content-Type": "application/json"})
            assert booked.status_code == 202, booked.text
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                booking = http.get(f"/bookings/{booked.json()['id']}").json()
                if booking["status"] not in ("REQUESTED", "PENDING"):
                    break
                time.sleep(0.5)
            assert booking["status"] == "CONFIRMED", booking
            assert booking["cpo_reservation_id"] and booking["cpo_reservation_id"] != booking["id"]
        _demo_console_opens(text, base.removesuffix("/api/v1/client"))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


def _demo_console_opens(text: str, root: str) -> None:
    """The printed console logins work, and the demo's group and bookings are there at once."""
    assert f"Console  : {root}/console/" in text
    operator = re.search(r"operator\s+: (\S+)\s+password (\S+)", text)
    fleet = re.search(r"client user : (\S+)\s+password (\S+)", text)
    assert operator and fleet
    ops, manager = Visitor(root), Visitor(root)
    try:
        assert ops.login(operator.group(1), operator.group(2)).status_code == 303
        assert "demo-console-" in ops.get("/ops/bookings").text
        assert "DE*SIM" in ops.get("/ops/cpos").text and "DE*SBK" in ops.get("/ops/cpos").text
        assert manager.login(fleet.group(1), fleet.group(2)).status_code == 303
        assert "Demo fleet" in manager.get("/client/groups").text
        assert "demo-console-" in manager.get("/client/bookings").text
    finally:
        ops.close()
        manager.close()


def test_keys_and_limits_from_the_cli_take_effect_at_once(fresh_database_url: str) -> None:
    from chargebook.settings import Settings
    from tests.conftest import LiveServer

    url = fresh_database_url  # migrated already
    created = chargebook("clients", "create", "Depot", url=url)
    client_id = re.search(r"client_id: (\S+)", created.stdout).group(1)  # type: ignore[union-attr]
    key = re.search(r"api_key:\s+(\S+)", created.stdout).group(1)  # type: ignore[union-attr]
    assert created.stdout.count(key) == 1
    with LiveServer(Settings(database_url=url)) as live, httpx.Client(base_url=live.client_base) as http:
        def get(k: str) -> httpx.Response:
            return http.get("/usage", headers={"X-API-Key": k})

        assert get(key).json()["rate_limit"]["limit"] == 100  # the defaults
        assert get(key).json()["quota"]["limit"] == 10_000

        rotated = chargebook("clients", "rotate-key", client_id, url=url)
        new_key = re.search(r"api_key:\s+(\S+)", rotated.stdout).group(1)  # type: ignore[union-attr]
        assert rotated.stdout.count(new_key) == 1
        assert get(key).status_code == 401 and get(new_key).status_code == 200

        assert chargebook("clients", "suspend", client_id, url=url).returncode == 0
        for path in ("/usage", "/bookings", "/groups"):
            assert http.get(path, headers={"X-API-Key": new_key}).status_code == 403
        assert chargebook("clients", "resume", client_id, url=url).returncode == 0

        updated = chargebook("clients", "update", client_id, "--rate-limit-per-minute", "5",
                             "--monthly-quota", "7", "--reservation-fee", "1.25", url=url)
        assert updated.returncode == 0, updated.stderr
        assert f"{client_id}: 5/min, 7/month, fee 1.25 EUR, commission 0 %" in updated.stdout
        standing = get(new_key)
        assert standing.headers["X-RateLimit-Limit"] == "5"  # the next request already uses it
        assert standing.json()["quota"] == {**standing.json()["quota"], "limit": 7, "used": 4}

        listed = chargebook("clients", "list", url=url).stdout
        row = next(line for line in listed.splitlines() if client_id in line)
        assert re.search(r"\b5\b.*\b7\b.*\b4\b", row), row  # rate/min, quota/month, used this month
        assert "1.25" in row

        bad = chargebook("clients", "update", client_id, "--monthly-quota", "0", url=url)
        assert bad.returncode == 2 and "must be positive" in bad.stderr


def test_ocpi_invite_names_the_party_it_registers(fresh_database_url: str) -> None:
    named = chargebook("ocpi", "invite", "Stadtwerke", "--country-code", "de", "--party-id", "swk",
                       url=fresh_database_url)
    assert named.returncode == 0, named.stderr
    assert re.search(r"token_a:\s+\S+", named.stdout) and "for party:    DE-SWK" in named.stdout
    anyone = chargebook("ocpi", "invite", "Someone", url=fresh_database_url)
    assert anyone.returncode == 0 and "the first that registers with it" in anyone.stdout
    half = chargebook("ocpi", "invite", "Half", "--country-code", "DE", url=fresh_database_url)
    assert half.returncode != 0 and "Traceback" not in half.stderr
    bad = chargebook("ocpi", "invite", "Bad", "--country-code", "D1", "--party-id", "X", url=fresh_database_url)
    assert bad.returncode == 2 and "country_code" in bad.stderr and "Traceback" not in bad.stderr
