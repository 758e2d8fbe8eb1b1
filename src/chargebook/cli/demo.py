"""`chargebook demo`: the whole platform on one machine, ready to try with curl.

chargebook (SQLite, API and worker) and a simulated CPO start in this process; chargebook
registers with the CPO over OCPI 2.2.1 (credentials handshake), pulls its catalogue, and a
client key is created. Bookings then really travel: RESERVE_NOW to the CPO, its result back,
the simulated driver arrives, charges, and the CDR completes the booking with its price.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import uvicorn
from sqlalchemy import select

from chargebook.api.app import CLIENT_BASE, create_app
from chargebook.cpo_sim import DriverRules, SimConfig, SimulatorServer
from chargebook.db.engine import Database
from chargebook.db.migrate import upgrade
from chargebook.db.models import Evse, Location, Party
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.services.clients import create_client
from chargebook.services.clock import utcnow
from chargebook.settings import Settings
from chargebook.worker.runner import run_forever

DEMO_LOCATIONS = 300


def demo_settings(base: Settings) -> Settings:
    # The demo's own output is the curl instructions: logs only for warnings, readable.
    quiet = {"log_level": "WARNING", "log_json": False}
    if "database_url" in base.model_fields_set:
        return base.model_copy(update=quiet)
    return base.model_copy(update={"database_url": f"sqlite:///{Path('chargebook-demo.db').resolve()}", **quiet})


def simulator_config(fast_forward: bool) -> SimConfig:
    """Fast-forward: the driver arrives seconds after the CPO confirms and charges briefly, so
    a booking walks REQUESTED → … → COMPLETED within a minute. Otherwise the driver comes
    ten minutes after the confirmation and charges for half an hour."""
    driver = (DriverRules(arrive_after_seconds=5, session_seconds=15, meter_interval_seconds=5, session_kwh=18.4)
              if fast_forward else
              DriverRules(arrive_after_seconds=600, session_seconds=1800, meter_interval_seconds=60))
    return SimConfig(locations=DEMO_LOCATIONS, name="Simulated CPO", driver=driver)


async def _connect(db: Database, sim: SimulatorServer, settings: Settings) -> dict[str, int]:
    me = ocpi_parties.Identity.from_settings(settings)
    party = await ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, "Simulated CPO")
    return await ocpi_catalogue.sync_party(db, party)


async def _example(db: Database) -> tuple[Location, Evse]:
    async with db.read() as session:
        row = (
            await session.execute(
                select(Location, Evse)
                .join(Evse, Evse.location_pk == Location.pk)
                .join(Party, Location.party_pk == Party.id)
                .where(Party.status == "registered", Evse.reservable.is_(True), Evse.status == "AVAILABLE")
                .order_by((Location.city == "Berlin").desc(), Location.pk, Evse.pk)
                .limit(1)
            )
        ).one()
    return row[0], row[1]


def _instructions(base: str, key: str, location: Location, evse: Evse, cpo: str) -> str:
    start = (utcnow() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    lat, lng = round(location.latitude, 4), round(location.longitude, 4)
    body = (
        f'{{"location_id": "{location.id}", "evse_uid": "{evse.uid}", '
        f'"reservation_start": "{start.strftime(fmt)}", "reservation_end": "{end.strftime(fmt)}", '
        f'"external_id": "demo-{start.strftime("%H%M")}"}}'
    )
    return f"""
chargebook demo is running.

  base URL : {base}
  API key  : {key}
  API docs : {base.removesuffix(CLIENT_BASE)}/docs
  CPO      : {cpo}

Search near {location.city} for chargers free from {start.strftime(fmt)} to {end.strftime(fmt)}:

  curl -s -H "X-API-Key: {key}" "{base}/search?lat={lat}&lng={lng}&radius=10&start_time={start.strftime(fmt)}&end_time={end.strftime(fmt)}&limit=3"

Book one (202, status REQUESTED; token_strategy left out means ad_hoc):

  curl -s -X POST -H "X-API-Key: {key}" -H "Content-Type: application/json" "{base}/bookings" \\
       -d '{body}'

Poll it (use the "id" from the answer) and watch it walk PENDING → CONFIRMED → ATTENDING → COMPLETED:

  curl -s -H "X-API-Key: {key}" "{base}/bookings/BOOKING_ID"

List and cancel:

  curl -s -H "X-API-Key: {key}" "{base}/bookings?limit=10"
  curl -s -X POST -H "X-API-Key: {key}" -H "Content-Type: application/json" "{base}/bookings/BOOKING_ID/cancel" -d '{{"reason": "plans changed"}}'
"""


async def run_demo(settings: Settings, host: str, port: int, exit_after: float | None, fast_forward: bool) -> None:
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    app = create_app(settings, db)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving
            return
        await asyncio.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
    root = f"http://{host}:{bound}"
    app.state.settings = settings = settings.model_copy(update={"public_url": root})
    sim = SimulatorServer(simulator_config(fast_forward))
    stop = asyncio.Event()
    worker: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(sim.start)
        counts = await _connect(db, sim, settings)
        _, key = await create_client(db, "demo", reservation_fee=Decimal("2.50"), commission_percent=Decimal("10"))
        location, evse = await _example(db)
        worker = asyncio.create_task(run_forever(db, settings, stop))
        cpo = (f"Simulated CPO (DE-SIM) at {sim.versions_url}, OCPI 2.2.1; "
               f"synced {counts['locations']} locations, {counts['tariffs']} tariffs")
        # Plain print: rich would wrap the long curl lines and break copy-paste.
        print(_instructions(f"{root}{CLIENT_BASE}", key, location, evse, cpo), flush=True)
        if exit_after is not None:
            await asyncio.sleep(exit_after)
            server.should_exit = True
        await serving
    finally:
        server.should_exit = True
        stop.set()
        if worker is not None:
            with contextlib.suppress(Exception):
                await worker
        await asyncio.to_thread(sim.stop)
        with contextlib.suppress(Exception):
            await serving
        await db.dispose()
