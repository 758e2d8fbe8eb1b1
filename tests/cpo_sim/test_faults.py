"""Fault modes, each observable from the outside, switched at run time via /sim/config."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from chargebook.cpo_sim import Faults, SimulatorServer
from chargebook.ocpi.client import OcpiClient, PeerProtocolError, PeerUnreachable
from tests.cpo_sim.conftest import Connection, auth, eventually


def faults(connected: Connection, **values: object) -> None:
    answer = httpx.post(f"{connected.sim.url}/sim/config", json={"faults": values})
    assert answer.status_code == 200, answer.text


def test_http_5xx(connected: Connection) -> None:
    faults(connected, error_share=1.0, error_status=503, paths=["/locations"])
    broken = connected.get("locations")
    assert broken.status_code == 503 and not broken.text.startswith("{")
    assert connected.get("tariffs").status_code == 200  # other paths are untouched

    async def through_the_client() -> None:
        async with OcpiClient(token=connected.token) as client:
            with pytest.raises(PeerUnreachable):
                await client.get(f"{connected.base}/locations")

    asyncio.run(through_the_client())
    faults(connected, error_share=0.0)
    assert connected.get("locations").status_code == 200
    events = connected.admin("GET", "events", params={"kind": "fault"})
    assert events and all(e["fault"] == "http_5xx" for e in events)


def test_timeout(connected: Connection) -> None:
    faults(connected, timeout_share=1.0, timeout_seconds=60, paths=["/tariffs"])
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{connected.base}/tariffs", headers=auth(connected.token), timeout=0.3)
    # The simulator still answers elsewhere, and its shutdown wakes the sleeping request.
    assert connected.get("locations").status_code == 200


def test_never_answered_command(connected: Connection) -> None:
    faults(connected, never_answer_share=1.0)
    connected.admin("POST", "config", json={"driver": {"no_show_share": 1.0}})
    evse = connected.reservable()
    answer = connected.reserve(evse, "F1")
    assert answer["data"]["result"] == "ACCEPTED"

    def withheld() -> bool:
        records = connected.admin("GET", "commands")
        return bool(records) and records[0]["result_delivery"] == "withheld"

    eventually(withheld)
    assert not connected.emsp.find("POST", "/emsp/results/F1")
    # The charger did reserve: only the answer was lost.
    assert connected.evse_statuses(evse, 1) == ["RESERVED"]


@pytest.mark.parametrize("kind", ["non_json", "non_envelope"])
def test_malformed_bodies(connected: Connection, kind: str) -> None:
    faults(connected, malformed_share=1.0, malformed_kind=kind, paths=["/tariffs"])
    answer = connected.get("tariffs")
    assert answer.status_code == 200
    if kind == "non_json":
        with pytest.raises(ValueError):
            answer.json()
    else:
        assert "status_code" not in answer.json()

    async def through_the_client() -> None:
        async with OcpiClient(token=connected.token) as client:
            with pytest.raises(PeerProtocolError):
                await client.get(f"{connected.base}/tariffs")

    asyncio.run(through_the_client())


def test_latency_and_faults_at_start(sim_factory: Callable[..., SimulatorServer]) -> None:
    sim = sim_factory(faults=Faults(latency_seconds=0.05, error_share=1.0, paths=["/2.2.1"]))
    assert httpx.get(sim.versions_url, headers=auth(sim.token_a)).status_code == 200
    assert httpx.get(f"{sim.url}/ocpi/cpo/2.2.1", headers=auth(sim.token_a)).status_code == 500
    # Admin endpoints are never faulted.
    assert httpx.get(f"{sim.url}/sim/config").json()["faults"]["latency_seconds"] == 0.05


def test_config_changes_are_validated(connected: Connection) -> None:
    url = f"{connected.sim.url}/sim/config"
    assert httpx.post(url, json={"faults": {"error_share": 2}}).status_code == 400
    assert httpx.post(url, json={"faults": {"eror_share": 1}}).status_code == 400
    assert httpx.post(url, json={"party_id": "XXX"}).status_code == 400
    assert httpx.get(url).json()["faults"]["error_share"] == 0.0
