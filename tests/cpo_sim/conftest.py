"""Fixtures: a simulator and a recording eMSP, each a real server on 127.0.0.1.

Rules are tuned for speed: the driver arrives 0.2 s after a reservation is accepted and
charges for 0.5 s, chargers answer commands after 10 ms. Waits are bounded guards, never
timing assertions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chargebook.cpo_sim import (
    BookingRules,
    CommandRules,
    DriverRules,
    SimConfig,
    SimulatorServer,
    ThreadedServer,
)
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221 import format_datetime, load_json
from tests.cpo_sim.emsp import RecordingEmsp, token_object


def fast_config(**overrides: Any) -> SimConfig:
    values: dict[str, Any] = {
        "locations": 12,
        "seed": 3,
        "push_delay_seconds": 0.0,
        "commands": CommandRules(result_delay_seconds=0.01, timeout_seconds=5),
        "driver": DriverRules(
            arrive_after_seconds=0.2, session_seconds=0.5, meter_interval_seconds=0.2
        ),
    }
    values.update(overrides)
    return SimConfig(**values)


@pytest.fixture
def servers() -> Iterator[list[ThreadedServer]]:
    """Every server a test started; all are stopped together (each stop takes ~0.2 s)."""
    started: list[ThreadedServer] = []
    yield started
    for server in started:
        server.request_stop()
    for server in started:
        server.join()


@pytest.fixture
def sim_factory(servers: list[ThreadedServer]) -> Callable[..., SimulatorServer]:
    def make(**overrides: Any) -> SimulatorServer:
        server = SimulatorServer(fast_config(**overrides))
        server.start()
        servers.append(server)
        return server

    return make


@pytest.fixture
def sim(sim_factory: Callable[..., SimulatorServer]) -> SimulatorServer:
    return sim_factory()


@pytest.fixture
def emsp(servers: list[ThreadedServer]) -> RecordingEmsp:
    recorder = RecordingEmsp().start()
    servers.append(recorder.server)
    return recorder


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy (a guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)
    return value


def auth(token: str) -> dict[str, str]:
    return {"Authorization": t.authorization_header(token)}


def body(response: httpx.Response) -> Any:
    return load_json(response.content)


def emsp_registers(sim: SimulatorServer, emsp: RecordingEmsp, version: str = "2.2.1") -> str:
    """The eMSP's side of the handshake, by hand: versions and details with token A, then
    POST credentials (token B) with token A on ``version``. Returns the token C the simulator
    issued."""
    headers = auth(sim.token_a)
    versions = body(httpx.get(sim.versions_url, headers=headers))["data"]
    chosen = next(v for v in versions if v["version"] == version)
    details = body(httpx.get(chosen["url"], headers=headers))["data"]
    url = next(e["url"] for e in details["endpoints"] if e["identifier"] == "credentials")
    answer = body(httpx.post(url, headers=headers, json=emsp.credentials(emsp.issue_token())))
    assert answer["status_code"] == 1000, answer
    return str(answer["data"]["token"])


@dataclass
class Connection:
    sim: SimulatorServer
    emsp: RecordingEmsp
    token: str  # token C: what the eMSP presents to the simulator
    version: str = "2.2.1"

    @property
    def base(self) -> str:
        return f"{self.sim.url}/ocpi/cpo/{self.version}"

    def get(self, path: str, **params: Any) -> httpx.Response:
        url = path if path.startswith("http") else f"{self.base}/{path}"
        return httpx.get(url, params=params or None, headers=auth(self.token))

    def post(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base}/{path}", json=payload, headers=auth(self.token))

    def command(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(f"{self.base}/commands/{name}", json=payload, headers=auth(self.token))
        return dict(body(answer))

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return body(httpx.request(method, f"{self.sim.url}/sim/{path}", **kwargs))

    def evses(self, **filters: str) -> list[dict[str, Any]]:
        return list(self.admin("GET", "evses", params=filters))

    def reservable(self, n: int = 0) -> dict[str, Any]:
        return self.evses(status="AVAILABLE", capability="RESERVABLE")[n]

    def reserve(
        self, evse: dict[str, Any], ref: str, *, expires_in: float = 600, **extra: Any
    ) -> dict[str, Any]:
        payload = {
            "response_url": f"{self.emsp.base}/emsp/results/{ref}",
            "token": extra.pop("token", token_object()),
            "expiry_date": format_datetime(datetime.now(UTC) + timedelta(seconds=expires_in)),
            "reservation_id": ref,
            "location_id": evse["location_id"],
            "evse_uid": evse["evse_uid"],
            **extra,
        }
        return self.command("RESERVE_NOW", payload)

    def evse_statuses(self, evse: dict[str, Any], count: int) -> list[str]:
        """The statuses PATCHed for ``evse``, once there are at least ``count`` of them."""

        def patches(calls: list[Any]) -> list[str] | None:
            found = [
                c.body["status"]
                for c in calls
                if c.method == "PATCH" and c.path.endswith("/" + evse["evse_uid"])
            ]
            return found if len(found) >= count else None

        return list(self.emsp.wait_for(patches))

    def result_of(self, ref: str) -> dict[str, Any]:
        calls = self.emsp.wait_for(lambda cs: [c for c in cs if c.path == f"/emsp/results/{ref}"])
        return dict(calls[0].body)


@pytest.fixture
def connected(sim: SimulatorServer, emsp: RecordingEmsp) -> Connection:
    """The eMSP registered with the simulator (and the catalogue push has begun)."""
    return Connection(sim, emsp, emsp_registers(sim, emsp))


# --- OCPI 2.3.0 with Bookings ----------------------------------------------------------

BOTH = ["2.2.1", "2.3.0"]


def fast_bookings(**overrides: Any) -> BookingRules:
    values: dict[str, Any] = {
        "processing_delay_seconds": 0.05,
        "min_booking_minutes": 0,
        "noshow_cdrs": True,
    }
    values.update(overrides)
    return BookingRules(**values)


@pytest.fixture
def emsp230(servers: list[ThreadedServer]) -> RecordingEmsp:
    recorder = RecordingEmsp(versions=("2.2.1", "2.3.0")).start()
    servers.append(recorder.server)
    return recorder


@pytest.fixture
def booking_cpo(sim_factory: Callable[..., SimulatorServer]) -> SimulatorServer:
    return sim_factory(ocpi_versions=BOTH, bookings=fast_bookings())


@pytest.fixture
def booked(booking_cpo: SimulatorServer, emsp230: RecordingEmsp) -> Connection:
    """The eMSP registered with the simulator on 2.3.0."""
    token = emsp_registers(booking_cpo, emsp230, "2.3.0")
    return Connection(booking_cpo, emsp230, token, "2.3.0")
