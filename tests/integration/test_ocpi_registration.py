"""A CPO registers with us (token A from `ocpi invite`), rotates its credentials, pushes its
catalogue, cancels a reservation itself, and unregisters — all over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from chargebook.cpo_sim import SimulatorServer
from chargebook.db.models import Location, Party
from chargebook.services import ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer, WorkerThread
from tests.factories import with_db
from tests.integration.test_ocpi_loop import Loop, sim_config

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(fresh_database_url: str) -> Iterator[tuple[LiveServer, SimulatorServer, str]]:
    settings = Settings(database_url=fresh_database_url, worker_interval_seconds=0.1)
    with LiveServer(settings) as live, WorkerThread(live.settings):
        sim = SimulatorServer(sim_config(locations=6))
        sim.start()
        try:
            yield live, sim, fresh_database_url
        finally:
            sim.stop()


def _party(url: str) -> Any:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            party = await session.scalar(select(Party).where(Party.party_id == "SIM"))
            locations = await session.scalar(select(func.count()).select_from(Location))
            return party, locations

    return with_db(url, run)


def _eventually(check: Any, seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_cpo_registers_with_us_rotates_and_unregisters(stack: tuple[LiveServer, SimulatorServer, str]) -> None:
    live, sim, url = stack
    token_a = with_db(url, lambda db: ocpi_parties.issue_invite(db, "Simulated CPO"))
    peer = sim.register_with(f"{live.base}/ocpi/versions", token_a)
    assert peer is not None
    party, _ = _party(url)
    assert party.status == "registered" and party.version == "2.2.1"
    assert {"locations:SENDER", "commands:RECEIVER", "credentials:SENDER"} <= set(party.endpoints)
    # Token A is spent.
    with httpx.Client(base_url=live.base) as anon:
        r = anon.get("/ocpi/versions", headers={"Authorization": f"Token {token_a}"})
        assert r.status_code == 401
    # Its catalogue arrives by push.
    assert _eventually(lambda: _party(url)[1] == 6)
    # Rotation: the CPO PUTs new credentials; the old token stops working, the new one works.
    old_hash = party.token_from_them_hash
    with httpx.Client(base_url=sim.url) as admin:
        admin.post("/sim/rotate").raise_for_status()
        rotated, _ = _party(url)
        assert rotated.status == "registered" and rotated.token_from_them_hash != old_hash
        admin.post("/sim/push").raise_for_status()
        # Unregister: DELETE credentials; the party is marked, its token refused.
        admin.post("/sim/unregister").raise_for_status()
    gone, _ = _party(url)
    assert gone.status == "unregistered" and gone.token_from_them_hash is None


def test_cpo_initiated_cancellation(loop_factory: Any) -> None:
    loop: Loop = loop_factory(driver={"no_show_share": 1.0, "session_seconds": 0.5})
    (loc, evse), = loop.bookable()
    booking = loop.wait_for(loop.book(loc, evse)["id"], {"CONFIRMED", "CANCELLED"})
    assert booking["status"] == "CONFIRMED"
    # The CPO cancels (e.g. the charger broke): CANCELED_RESERVATION at our response_url.
    loop.admin.post(f"/sim/reservations/{booking['id']}/cancel").raise_for_status()
    done = loop.wait_for(booking["id"], {"CANCELLED"})
    assert (done["status"], done["status_reason"]) == ("CANCELLED", "CPO_CANCELLED")
