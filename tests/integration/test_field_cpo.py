"""The whole loop against a CPO that behaves like those in the field (the simulator's
``field`` quirk profile): slash redirects, one-element lists, explicit nulls, unusable
``Link`` headers, non-envelope auth errors, CDRs without ``evse_uid`` and requests without
ids or routing headers. chargebook and the simulator are real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from chargebook.cpo_sim import DriverRules, SimulatorServer
from chargebook.db.models import ChargeDetailRecord, Location, Party
from chargebook.ocpi.client import OcpiClient, PeerRejected
from chargebook.ocpi.client import Party as OcpiParty
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer, WorkerThread
from tests.factories import with_db
from tests.integration.test_ocpi_loop import Loop, sim_config

pytestmark = pytest.mark.integration

FIELD = {"quirks": ["field"], "page_limit": 3}
ENDED = {"COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"}


def field_events(loop: Loop, quirk: str) -> list[dict[str, Any]]:
    events = loop.admin.get("/sim/events", params={"kind": "quirk"}).json()
    return [e for e in events if e["quirk"] == quirk]


def test_we_register_pull_search_and_book_to_completed(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory(**FIELD)  # registration and the paged pull, asserted by the factory
    assert field_events(loop, "slash_redirects")  # every module URL was redirected once
    (location_id, evse_uid), = loop.bookable()
    found = loop.http.get("/search", params=_near(loop, location_id)).json()["results"]
    assert any(r["location_id"] == location_id for r in found)
    booking = loop.book(location_id, evse_uid, external_id="field-1")
    done = loop.wait_for(booking["id"], ENDED)
    assert done["status"] == "COMPLETED", done
    assert [h["to_status"] for h in done["status_history"]] == [
        "REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED"]
    cpo = Decimal(str(done["price_breakdown"]["cpo_cost"]))
    assert done["price_breakdown"]["estimated"] is False and cpo > 0
    assert Decimal(str(done["client_price"])) == cpo + Decimal("2.50") + (cpo / 10).quantize(Decimal("0.01"))

    async def cdrs(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return list(await session.execute(
                select(ChargeDetailRecord.booking_id, ChargeDetailRecord.data, ChargeDetailRecord.total_cost_incl_vat)))

    (row,) = [r for r in with_db(loop.url, cdrs) if r[0] == booking["id"]]
    assert "evse_uid" not in row[1]["cdr_location"] and row[2] == cpo  # matched through its session


def test_a_cancel_reaches_the_cpo(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory(**FIELD, driver=DriverRules(no_show_share=1.0, session_seconds=0.5))
    (loc, evse), = loop.bookable()
    mine = loop.wait_for(loop.book(loc, evse)["id"], {"CONFIRMED", "CANCELLED"})
    assert mine["status"] == "CONFIRMED", mine
    cancelled = loop.http.post(f"/bookings/{mine['id']}/cancel", json={"reason": "plans changed"}).json()
    assert cancelled["status"] == "CANCELLED"
    commands = _eventually(lambda: [c for c in loop.http.get(f"/bookings/{mine['id']}/commands").json()["commands"]
                                    if c["type"] == "CANCEL_RESERVATION" and c["result"]])
    assert commands and commands[0]["result"] == "ACCEPTED"
    reservations = loop.admin.get("/sim/reservations").json()
    assert [r["status"] for r in reservations if r["reservation_id"] == mine["id"]] == ["CANCELED"]


def test_a_silent_cpo_times_the_booking_out(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory(**FIELD)
    (loc, evse), = loop.bookable()
    loop.admin.post("/sim/config", json={"faults": {"never_answer_share": 1.0}}).raise_for_status()
    silent = loop.wait_for(loop.book(loc, evse)["id"], {"CANCELLED", "CONFIRMED"}, seconds=30)
    assert (silent["status"], silent["status_reason"]) == ("CANCELLED", "CPO_TIMEOUT")


@pytest.fixture
def stack(fresh_database_url: str) -> Iterator[tuple[LiveServer, SimulatorServer, str]]:
    settings = Settings(database_url=fresh_database_url, worker_interval_seconds=0.1)
    with LiveServer(settings) as live, WorkerThread(live.settings):
        sim = SimulatorServer(sim_config(locations=6, **FIELD))
        sim.start()
        try:
            yield live, sim, fresh_database_url
        finally:
            sim.stop()


def test_the_cpo_registers_with_us_and_pushes_without_ids(stack: tuple[LiveServer, SimulatorServer, str]) -> None:
    live, sim, url = stack
    token_a = with_db(url, lambda db: ocpi_parties.issue_invite(db, "Field CPO"))
    assert sim.register_with(f"{live.base}/ocpi/versions", token_a) is not None

    async def state(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            party = await session.scalar(select(Party).where(Party.party_id == "SIM"))
            count = await session.scalar(select(func.count()).select_from(Location))
            return party, count

    party, _ = with_db(url, state)
    assert party.status == "registered"
    assert _eventually(lambda: with_db(url, state)[1] == 6)  # pushed, full of nulls, no ids
    # And we can pull from it too, through its redirects and broken links.
    counts = with_db(url, lambda db: ocpi_catalogue.sync_party(db, party))
    assert counts["locations"] == 6


def _near(loop: Loop, location_id: str) -> dict[str, Any]:
    async def where(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            row = (await session.execute(select(Location.latitude, Location.longitude)
                                         .where(Location.id == location_id))).one()
            return {"lat": row[0], "lng": row[1], "radius": 1}

    return with_db(loop.url, where)  # type: ignore[no-any-return]


def _eventually(check: Callable[[], Any], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_refused_token_is_named(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory(**FIELD)
    base = f"{loop.sim.url}/ocpi/cpo/2.2.1/locations"

    async def call(token: str) -> str:
        async with OcpiClient(token=token, to_party=OcpiParty("DE", "SIM")) as client:
            with pytest.raises(PeerRejected) as caught:
                await client.get(base)
        return str(caught.value)

    refused = asyncio.run(call("a-token-it-never-issued"))
    assert refused.startswith("CPO DE*SIM refused our token: HTTP 401 without an OCPI envelope")
