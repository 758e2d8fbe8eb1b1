"""A client's X-Request-ID follows its request: into the JSON log lines written while it is
handled, onto the rows it creates, and to the CPO as the X-Correlation-ID of the OCPI
commands it causes (sent later by the worker, each call with a fresh X-Request-ID)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest

from chargebook.cpo_sim import DriverRules
from tests.factories import window
from tests.integration.test_ocpi_loop import Loop

pytestmark = pytest.mark.integration


def _log_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_request_ids_reach_logs_and_the_cpo(loop_factory: Callable[..., Loop],
                                            capfd: pytest.CaptureFixture[str]) -> None:
    loop = loop_factory(driver=DriverRules(no_show_share=1.0, session_seconds=0.5))
    (location_id, evse_uid), = loop.bookable()
    create_id, cancel_id = f"create-{secrets.token_hex(4)}", f"cancel-{secrets.token_hex(4)}"
    start, end = window(20, 60)
    created = loop.http.post("/bookings", headers={"X-Request-ID": create_id}, json={
        "location_id": location_id, "evse_uid": evse_uid, "reservation_start": start, "reservation_end": end})
    assert created.status_code == 202 and created.headers["X-Request-ID"] == create_id
    booking = created.json()
    confirmed = loop.wait_for(booking["id"], {"CONFIRMED", "CANCELLED"})
    assert confirmed["status"] == "CONFIRMED", confirmed
    cancelled = loop.http.post(f"/bookings/{booking['id']}/cancel", headers={"X-Request-ID": cancel_id})
    assert cancelled.status_code == 200 and cancelled.headers["X-Request-ID"] == cancel_id

    def cpo_commands() -> dict[str, dict[str, Any]]:
        seen = loop.admin.get("/sim/commands").json()
        return {c["command"]: c for c in seen if c["request"].get("reservation_id") == booking["id"]}

    deadline = time.monotonic() + 20
    while "CANCEL_RESERVATION" not in cpo_commands() and time.monotonic() < deadline:
        time.sleep(0.1)
    commands = cpo_commands()
    assert commands["RESERVE_NOW"]["correlation_id"] == create_id
    assert commands["CANCEL_RESERVATION"]["correlation_id"] == cancel_id
    request_ids = {commands["RESERVE_NOW"]["request_id"], commands["CANCEL_RESERVATION"]["request_id"]}
    assert len(request_ids) == 2 and not request_ids & {create_id, cancel_id}  # each call its own

    logged = _log_lines(capfd.readouterr().out)
    by_id = {rid: [line for line in logged if line.get("request_id") == rid] for rid in (create_id, cancel_id)}
    # The API's line for the create, and the worker's line for the RESERVE_NOW it caused.
    assert any(line["event"] == "http request" and line["route"] == "/api/v1/client/bookings"
               and line["status"] == 202 for line in by_id[create_id]), by_id[create_id]
    assert any(line["event"] == "command sent" and line["type"] == "RESERVE_NOW"
               and line["booking_id"] == booking["id"] for line in by_id[create_id]), by_id[create_id]
    assert any(line["event"] == "http request" and line["status"] == 200 for line in by_id[cancel_id])
    assert any(line["event"] == "command sent" and line["type"] == "CANCEL_RESERVATION" for line in by_id[cancel_id])
    assert all(line["level"] and line["timestamp"].endswith("Z") for line in logged if "request_id" in line)
