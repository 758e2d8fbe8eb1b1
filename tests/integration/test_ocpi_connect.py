"""`chargebook ocpi connect`, run as the operator runs it, against a simulated CPO that behaves
like CPOs met in the field: it refuses our `GET /credentials` with token A (a bare 401) and,
while our credentials POST is open, calls our versions and version details back with token B."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from chargebook.cpo_sim import SimulatorServer
from chargebook.db.models import Location, OcpiRegistration, Party
from chargebook.domain.errors import IdentityTaken
from chargebook.services import ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer
from tests.factories import with_db
from tests.integration.test_ocpi_loop import sim_config

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(fresh_database_url: str) -> Iterator[tuple[LiveServer, SimulatorServer]]:
    with LiveServer(Settings(database_url=fresh_database_url)) as live:
        sim = SimulatorServer(sim_config(locations=4, refuse_credentials_get=True, early_callback=True))
        sim.start()
        try:
            yield live, sim
        finally:
            sim.stop()


def ocpi_connect(live: LiveServer, versions_url: str, token_a: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHARGEBOOK_DATABASE_URL": live.settings.database_url,
           "CHARGEBOOK_PUBLIC_URL": live.base, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "chargebook.cli", "ocpi", "connect", versions_url,
                           "--token-a", token_a], env=env, capture_output=True, text=True, timeout=120, check=False)


def _state(url: str) -> dict[str, Any]:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            parties = list(await session.execute(select(Party.party_id, Party.status, Party.token_from_them_hash)))
            return {
                "parties": [tuple(p) for p in parties],
                "registrations": await session.scalar(select(func.count()).select_from(OcpiRegistration)),
                "locations": await session.scalar(select(func.count()).select_from(Location)),
            }

    return with_db(url, run)  # type: ignore[no-any-return]


def test_connect_succeeds_when_the_cpo_refuses_credentials_get_and_calls_back_at_once(
    stack: tuple[LiveServer, SimulatorServer],
) -> None:
    live, sim = stack
    done = ocpi_connect(live, sim.versions_url, sim.token_a)
    assert done.returncode == 0, done.stderr
    assert "connected: chargebook CPO simulator (DE-SIM), OCPI 2.2.1" in done.stdout
    assert "synced:    4 locations" in done.stdout
    state = _state(live.settings.database_url)
    # The party is bound (registered, with token B as the token it presents), nothing pending.
    ((party_id, status, token_hash),) = state["parties"]
    assert (party_id, status) == ("SIM", "registered") and token_hash
    assert state["registrations"] == 0 and state["locations"] == 4
    events = [e["kind"] for e in sim.simulator.store.events]
    assert "early_callback" in events and "registered" in events
    assert sim.simulator.store.peer is not None


def test_connect_with_a_wrong_token_a_fails_cleanly_and_leaves_nothing(
    stack: tuple[LiveServer, SimulatorServer],
) -> None:
    live, sim = stack
    failed = ocpi_connect(live, sim.versions_url, "not-the-token-a")
    assert failed.returncode == 2 and "error:" in failed.stderr and "Traceback" not in failed.stderr
    assert _state(live.settings.database_url) == {"parties": [], "registrations": 0, "locations": 0}
    assert sim.simulator.store.peer is None


@pytest.mark.parametrize("refuse_credentials_get", [True, False])
def test_a_post_the_cpo_refuses_leaves_no_pending_registration_nor_party(
    fresh_database_url: str, refuse_credentials_get: bool
) -> None:
    # The CPO needs a module we do not offer: it answers our POST with 3003, after token B was
    # opened (and, when it let us read its credentials first, bound to a new party).
    config = sim_config(locations=1, required_emsp_modules=["hubclientinfo"], early_callback=True,
                        refuse_credentials_get=refuse_credentials_get)
    with LiveServer(Settings(database_url=fresh_database_url)) as live, SimulatorServer(config) as sim:
        failed = ocpi_connect(live, sim.versions_url, sim.token_a)
        assert failed.returncode == 2 and "3003" in failed.stderr, failed.stderr
        assert _state(fresh_database_url) == {"parties": [], "registrations": 0, "locations": 0}
        assert "early_callback" in [e["kind"] for e in sim.simulator.store.events]


def test_connect_to_another_cpo_naming_a_registered_identity_is_refused(
    stack: tuple[LiveServer, SimulatorServer],
) -> None:
    live, sim = stack
    url = live.settings.database_url
    me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)
    with_db(url, lambda db: ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None))
    before = _state(url)["parties"]
    # Another server says it is DE-SIM too (its credentials GET would say so as well).
    impostor = SimulatorServer(sim_config(locations=1, push_on_register=False))
    with impostor, pytest.raises(IdentityTaken, match="DE-SIM is already registered"):
        with_db(url, lambda db: ocpi_parties.connect(db, impostor.versions_url, impostor.token_a, me, None))
    after = _state(url)
    assert after["parties"] == before and after["registrations"] == 0


def test_connect_again_to_the_same_versions_url_renews_the_party(
    stack: tuple[LiveServer, SimulatorServer],
) -> None:
    live, sim = stack
    url = live.settings.database_url
    me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)
    first = with_db(url, lambda db: ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None))

    async def forget_us() -> str:  # the CPO lost our connection and issues a new token A
        sim.simulator.store.peer = None
        sim.simulator.store.token_a = "fresh-token-a"
        return "fresh-token-a"

    token_a = sim.call(forget_us)
    again = with_db(url, lambda db: ocpi_parties.connect(db, sim.versions_url, token_a, me, None))
    assert again.id == first.id and again.status == "registered"
    assert again.token_from_them_hash != first.token_from_them_hash
    assert _state(url)["registrations"] == 0
