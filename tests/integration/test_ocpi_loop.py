"""chargebook and the CPO simulator, both real servers on 127.0.0.1, over OCPI 2.2.1.

Each test registers chargebook with a fresh simulator (credentials handshake), syncs its
catalogue, books through the client API, and follows the booking to its final state while
the worker sends commands and the simulated driver charges.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chargebook.cpo_sim import CommandRules, DriverRules, SimConfig, SimulatorServer
from chargebook.db.models import ChargeDetailRecord, Evse, Location, Party
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer, WorkerThread
from tests.factories import api, make_client, window, with_db

pytestmark = pytest.mark.integration


class Loop:
    def __init__(self, live: LiveServer, sim: SimulatorServer, url: str, key: str) -> None:
        self.live, self.sim, self.url = live, sim, url
        self.http = api(live.client_base, key)
        self.admin = httpx.Client(base_url=sim.url, timeout=10)

    def bookable(self, n: int = 1, *, dc: bool | None = None) -> list[tuple[str, str]]:
        async def run(db):  # type: ignore[no-untyped-def]
            async with db.read() as session:
                rows = await session.execute(
                    select(Location.id, Evse.uid).join(Evse, Evse.location_pk == Location.pk)
                    .join(Party, Party.id == Location.party_pk)
                    .where(Evse.reservable.is_(True), Evse.status == "AVAILABLE",
                           Party.party_id == self.sim.simulator.config.party_id)
                    .order_by(Location.id, Evse.uid))
                return [tuple(r) for r in rows]

        return with_db(self.url, run)[:n]  # type: ignore[return-value]

    def book(self, location_id: str, evse_uid: str, **extra: Any) -> dict[str, Any]:
        start, end = window(20, 60)
        r = self.http.post("/bookings", json={"location_id": location_id, "evse_uid": evse_uid,
                                              "reservation_start": start, "reservation_end": end, **extra})
        assert r.status_code == 202, r.text
        return r.json()  # type: ignore[no-any-return]

    def wait_for(self, booking_id: str, statuses: set[str], seconds: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            booking = self.http.get(f"/bookings/{booking_id}").json()
            if booking["status"] in statuses or time.monotonic() > deadline:
                return booking  # type: ignore[no-any-return]
            time.sleep(0.1)


def sim_config(**overrides: Any) -> SimConfig:
    values: dict[str, Any] = {
        "locations": 8, "seed": 5, "push_delay_seconds": 0.0,
        "commands": CommandRules(result_delay_seconds=0.02, timeout_seconds=2),
        "driver": DriverRules(arrive_after_seconds=0.3, session_seconds=0.6, meter_interval_seconds=0.2,
                              session_kwh=12.5),
    }
    values.update(overrides)
    return SimConfig(**values)


@pytest.fixture
def loop_factory(fresh_database_url: str) -> Iterator[Callable[..., Loop]]:
    made: list[tuple[LiveServer, WorkerThread, SimulatorServer, Loop]] = []

    def make(**overrides: Any) -> Loop:
        settings = Settings(database_url=fresh_database_url, worker_interval_seconds=0.1,
                            command_retry_attempts=2, command_retry_base_seconds=0.2)
        live = LiveServer(settings).__enter__()
        worker = WorkerThread(live.settings).__enter__()
        sim = SimulatorServer(sim_config(**overrides))
        sim.start()
        me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)

        async def connect(db):  # type: ignore[no-untyped-def]
            party = await ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None)
            return await ocpi_catalogue.sync_party(db, party)

        counts = with_db(fresh_database_url, connect)
        assert counts["locations"] == sim.simulator.config.locations and counts["tariffs"] >= 1
        _, key = make_client(fresh_database_url, reservation_fee=Decimal("2.50"), commission_percent=Decimal("10"))
        loop = Loop(live, sim, fresh_database_url, key)
        made.append((live, worker, sim, loop))
        return loop

    yield make
    for live, worker, sim, loop in made:
        loop.http.close()
        loop.admin.close()
        worker.__exit__()
        sim.stop()
        live.__exit__()


def test_booking_walks_to_completed_with_the_cdr_price(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory()
    (location_id, evse_uid), = loop.bookable()
    booking = loop.book(location_id, evse_uid, external_id="loop-1")
    done = loop.wait_for(booking["id"], {"COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"})
    assert done["status"] == "COMPLETED", done
    assert [h["to_status"] for h in done["status_history"]] == [
        "REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED"]
    assert done["cpo_reservation_id"] == booking["id"]
    breakdown = done["price_breakdown"]
    assert breakdown["estimated"] is False and breakdown["cpo_cost"] > 0
    cpo = Decimal(str(breakdown["cpo_cost"]))
    assert Decimal(str(done["client_price"])) == cpo + Decimal("2.50") + (cpo / 10).quantize(Decimal("0.01"))

    async def cdrs(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return list(await session.execute(select(ChargeDetailRecord.booking_id, ChargeDetailRecord.flag,
                                                     ChargeDetailRecord.total_cost_incl_vat)))

    rows = [r for r in with_db(loop.url, cdrs) if r[0] == booking["id"]]
    assert len(rows) == 1 and rows[0][1] is None  # our own tariff calculation agrees
    assert rows[0][2] == cpo


def test_rejection_and_never_answered_commands(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory()
    (loc_a, evse_a), (loc_b, evse_b) = loop.bookable(2)
    loop.admin.post("/sim/config", json={"commands": {"reject_evse_uids": [evse_a]}}).raise_for_status()
    rejected = loop.wait_for(loop.book(loc_a, evse_a)["id"], {"CANCELLED", "CONFIRMED"})
    assert (rejected["status"], rejected["status_reason"]) == ("CANCELLED", "CPO_REJECTED")
    loop.admin.post("/sim/config", json={"faults": {"never_answer_share": 1.0}}).raise_for_status()
    silent = loop.wait_for(loop.book(loc_b, evse_b)["id"], {"CANCELLED", "CONFIRMED"}, seconds=30)
    assert (silent["status"], silent["status_reason"]) == ("CANCELLED", "CPO_TIMEOUT")
    assert [h["to_status"] for h in silent["status_history"]] == ["REQUESTED", "PENDING", "CANCELLED"]


def test_unreachable_cpo_fails_the_booking(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory()
    (loc, evse), = loop.bookable()
    loop.admin.post("/sim/config", json={"faults": {"error_share": 1.0, "paths": ["/commands/"]}}).raise_for_status()
    failed = loop.wait_for(loop.book(loc, evse)["id"], {"CANCELLED", "CONFIRMED"})
    assert (failed["status"], failed["status_reason"]) == ("CANCELLED", "CPO_UNREACHABLE")


def test_client_cancel_sends_cancel_reservation_and_cpo_cancel(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory(driver=DriverRules(no_show_share=1.0, session_seconds=0.5))
    (loc_a, evse_a), (loc_b, evse_b) = loop.bookable(2)
    mine = loop.wait_for(loop.book(loc_a, evse_a)["id"], {"CONFIRMED", "CANCELLED"})
    assert mine["status"] == "CONFIRMED"
    cancelled = loop.http.post(f"/bookings/{mine['id']}/cancel", json={"reason": "plans changed"}).json()
    assert cancelled["status"] == "CANCELLED"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        commands = loop.http.get(f"/bookings/{mine['id']}/commands").json()["commands"]
        if any(c["type"] == "CANCEL_RESERVATION" and c["result"] for c in commands):
            break
        time.sleep(0.1)
    assert [c["type"] for c in commands] == ["RESERVE_NOW", "CANCEL_RESERVATION"]
    assert commands[1]["result"] == "ACCEPTED"
