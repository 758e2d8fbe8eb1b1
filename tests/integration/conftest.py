"""Fixtures of the integration tests: chargebook (API and worker) and the CPO simulator as
real servers on 127.0.0.1, registered with each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from chargebook.cpo_sim import DriverRules, SimulatorServer
from chargebook.db.engine import Database
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer, WorkerThread
from tests.factories import make_client, with_db
from tests.integration.test_ocpi_loop import (
    Loop,
    loop_factory,  # noqa: F401 (a fixture these tests share)
    sim_config,
)

#: Our command sends give up after this (the simulator's late answers come later).
SEND_TIMEOUT = 1.5


@pytest.fixture
def command_loop(fresh_database_url: str) -> Iterator[Callable[..., Loop]]:
    made: list[tuple[LiveServer, WorkerThread, SimulatorServer, Loop]] = []

    def make(*, attempts: int, base_seconds: float) -> Loop:
        """chargebook with this command retry policy, and a simulator whose drivers never come
        (a reservation in use cannot be cancelled)."""
        settings = Settings(
            database_url=fresh_database_url,
            worker_interval_seconds=0.1,
            command_retry_attempts=attempts,
            command_retry_base_seconds=base_seconds,
            command_send_timeout_seconds=SEND_TIMEOUT,
        )
        live = LiveServer(settings).__enter__()
        worker = WorkerThread(live.settings).__enter__()
        sim = SimulatorServer(sim_config(driver=DriverRules(no_show_share=1.0)))
        sim.start()
        me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)

        async def connect(db: Database) -> dict[str, int]:
            party = await ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None)
            return await ocpi_catalogue.sync_party(db, party)

        with_db(fresh_database_url, connect)
        _, key = make_client(fresh_database_url)
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
