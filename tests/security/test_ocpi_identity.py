"""No CPO can take over another CPO: identity is bound to the token (docs/security.md § OCPI
identity). Each attack is refused with the OCPI status chosen for it, before we call the
attacker's endpoints, and the victim still works afterwards: its token opens our endpoints,
its row (endpoints, tokens) is unchanged, and a booking at it is confirmed by it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chargebook.cpo_sim import DriverRules, SimulatorServer
from chargebook.db.models import OcpiInvite, Party
from chargebook.ocpi.transport import authorization_header
from chargebook.services import ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer, WorkerThread
from tests.factories import make_client, with_db
from tests.integration.test_ocpi_loop import Loop, sim_config
from tests.ocpi_api.conftest import make_cpo

pytestmark = pytest.mark.integration

VICTIM = ("DE", "VIC")


@dataclass
class World:
    live: LiveServer
    victim: SimulatorServer
    attacker: SimulatorServer  # serves real versions, so only the identity check can refuse
    url: str

    def credentials(self, identity: tuple[str, str]) -> dict[str, Any]:
        return {"token": self.attacker.token_a, "url": self.attacker.versions_url,
                "roles": [{"role": "CPO", "country_code": identity[0].lower(), "party_id": identity[1].lower(),
                           "business_details": {"name": "Definitely the victim"}}]}

    def invite(self, identity: tuple[str, str] | None = None, name: str = "someone") -> str:
        return with_db(self.url, lambda db: ocpi_parties.issue_invite(db, name, identity))

    def call(self, method: str, token: str, body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=self.live.base, timeout=30) as http:
            return http.request(method, "/ocpi/2.2.1/credentials", json=body,
                                headers={"Authorization": authorization_header(token)})


def _victim_row(url: str) -> dict[str, Any]:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            party = await session.scalar(select(Party).where(Party.party_id == VICTIM[1]))
            assert party is not None
            return {k: getattr(party, k) for k in ("id", "status", "versions_url", "endpoints",
                                                    "token_for_them", "token_from_them_hash", "name")}

    return with_db(url, run)  # type: ignore[no-any-return]


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[World]:
    settings = Settings(database_url=fresh_database_url, worker_interval_seconds=0.1)
    with LiveServer(settings) as live, WorkerThread(live.settings):
        # Its drivers never come, so a confirmed booking stays CONFIRMED.
        victim = SimulatorServer(sim_config(party_id=VICTIM[1], locations=3, driver=DriverRules(no_show_share=1.0)))
        attacker = SimulatorServer(sim_config(party_id="ATK", locations=1, push_on_register=False))
        victim.start()
        attacker.start()
        try:
            w = World(live, victim, attacker, fresh_database_url)
            victim.register_with(f"{live.base}/ocpi/versions", w.invite(VICTIM, "victim"))
            yield w
        finally:
            attacker.stop()
            victim.stop()


def _assert_victim_unharmed(w: World, before: dict[str, Any]) -> None:
    assert _victim_row(w.url) == before
    peer = w.victim.simulator.store.peer
    assert peer is not None
    with httpx.Client(base_url=w.live.base) as http:
        r = http.get("/ocpi/2.2.1", headers={"Authorization": authorization_header(peer.client_token)})
        assert r.status_code == 200 and r.json()["status_code"] == 1000
    _, key = make_client(w.url)
    loop = Loop(w.live, w.victim, w.url, key)
    try:
        bookable = []
        for _ in range(100):  # the victim pushes its catalogue after registering
            bookable = loop.bookable()
            if bookable:
                break
            time.sleep(0.1)
        (location_id, evse_uid), = bookable
        booking = loop.wait_for(loop.book(location_id, evse_uid)["id"], {"CONFIRMED", "CANCELLED", "EXPIRED"})
        assert booking["status"] == "CONFIRMED", booking
        assert booking["id"] in w.victim.simulator.store.reservations
    finally:
        loop.http.close()
        loop.admin.close()


def test_post_with_a_fresh_token_a_naming_a_registered_party_is_refused(world: World) -> None:
    before = _victim_row(world.url)
    r = world.call("POST", world.invite(), world.credentials(VICTIM))
    assert r.status_code == 405 and r.json()["status_code"] == 2000
    assert "DE-VIC is already registered" in r.json()["status_message"]
    _assert_victim_unharmed(world, before)


def test_post_with_a_token_a_issued_for_another_party_is_refused(world: World) -> None:
    before = _victim_row(world.url)
    token_a = world.invite(("DE", "ATK"))
    r = world.call("POST", token_a, world.credentials(VICTIM))
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    assert "this token A is for DE-ATK" in r.json()["status_message"]
    # The invite is not spent by the attempt: the party it is for can still register with it.
    ok = world.call("POST", token_a, world.credentials(("DE", "ATK")))
    assert ok.status_code == 200 and ok.json()["status_code"] == 1000, ok.text
    _assert_victim_unharmed(world, before)


def test_a_spent_token_a_registers_nobody_else(world: World) -> None:
    before = _victim_row(world.url)
    token_a = world.invite()
    first = world.call("POST", token_a, world.credentials(("DE", "ATK")))
    assert first.status_code == 200 and first.json()["status_code"] == 1000, first.text
    # The invite recorded whom it registered.
    invites = with_db(world.url, lambda db: _invite_identity(db, "someone"))
    assert invites == [("DE", "ATK")]
    second = world.call("POST", token_a, world.credentials(("DE", "NEW")))
    assert second.status_code == 401
    _assert_victim_unharmed(world, before)


def test_put_moving_a_registered_party_onto_the_victims_identity_is_refused(world: World) -> None:
    before = _victim_row(world.url)
    attacker_id, attacker_token = make_cpo(world.url)
    r = world.call("PUT", attacker_token, world.credentials(VICTIM))
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    assert f"this token is DE-{attacker_id}'s" in r.json()["status_message"]
    _assert_victim_unharmed(world, before)


async def _invite_identity(db, name: str) -> list[tuple[str | None, str | None]]:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        rows = await session.execute(select(OcpiInvite.country_code, OcpiInvite.party_id)
                                     .where(OcpiInvite.name == name, OcpiInvite.used_at.is_not(None)))
        return [tuple(row) for row in rows]  # type: ignore[misc]
