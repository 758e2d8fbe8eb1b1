"""`chargebook demo`: the whole platform on one machine, ready to try with curl.

chargebook (SQLite, API and worker) and two simulated CPOs start in this process:
DE-SIM speaks OCPI 2.2.1 only, DE-SBK also 2.3.0 with the Bookings module. chargebook
registers with both (credentials handshake; the highest mutual version is negotiated and
printed), pulls their catalogues, and a client key is created. Bookings then really travel:
at DE-SIM as RESERVE_NOW shortly before the window, at DE-SBK as a BookingRequest at once
(the CPO's calendar says the slot is free); the simulated drivers arrive, charge, and the
CDR completes each booking with its price.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import uvicorn
from sqlalchemy import select

from chargebook.api.app import CLIENT_BASE, create_app
from chargebook.cli import demo_console
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
BOOKINGS_LOCATIONS = 60  # the second CPO, with the OCPI 2.3.0 Bookings module


def demo_settings(base: Settings) -> Settings:
    # The demo's own output is the curl instructions: logs only for warnings, readable.
    quiet: dict[str, object] = {"log_level": "WARNING", "log_json": False}
    # The demo's webhook receivers run on this machine: let webhooks reach loopback, unless
    # the operator said otherwise (CHARGEBOOK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=false).
    if "webhook_allow_private_networks" not in base.model_fields_set:
        quiet["webhook_allow_private_networks"] = True
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


def bookings_simulator_config(fast_forward: bool) -> SimConfig:
    """A second CPO offering OCPI 2.3.0 with the Bookings module: it confirms a booking for
    a future slot at once; its driver arrives at the booked start (plus a few seconds)."""
    driver = (DriverRules(arrive_after_seconds=5, session_seconds=15, meter_interval_seconds=5, session_kwh=14.2)
              if fast_forward else
              DriverRules(arrive_after_seconds=120, session_seconds=1800, meter_interval_seconds=60))
    return SimConfig(locations=BOOKINGS_LOCATIONS, seed=23, party_id="SBK", name="Simulated Bookings CPO",
                     ocpi_versions=["2.2.1", "2.3.0"], driver=driver)


async def _connect(db: Database, sim: SimulatorServer, settings: Settings, name: str) -> tuple[Party, dict[str, int]]:
    me = ocpi_parties.Identity.from_settings(settings)
    party = await ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, name)
    return party, await ocpi_catalogue.sync_party(db, party)


async def _example(db: Database, party_id: str) -> tuple[Location, Evse]:
    """A free, reservable EVSE of the party, in Berlin if it has one there; at a CPO with the
    Bookings module, one its calendar books."""
    from chargebook.db.models import BookingLocation

    query = (select(Location, Evse)
             .join(Evse, Evse.location_pk == Location.pk)
             .join(Party, Location.party_pk == Party.id)
             .where(Party.party_id == party_id, Evse.reservable.is_(True), Evse.status == "AVAILABLE"))
    if party_id == "SBK":
        query = query.join(BookingLocation, (BookingLocation.party_pk == Party.id)
                           & (BookingLocation.location_id == Location.id) & (BookingLocation.evse_uid == Evse.uid))
    async with db.read() as session:
        row = (await session.execute(
            query.order_by((Location.city == "Berlin").desc(), Location.pk, Evse.pk).limit(1))).one()
    return row[0], row[1]


def _body(location: Location, evse: Evse, start: datetime, end: datetime, ref: str) -> str:
    return (
        f'{{"location_id": "{location.id}", "evse_uid": "{evse.uid}", '
        f'"reservation_start": "{start.strftime(FMT)}", "reservation_end": "{end.strftime(FMT)}", '
        f'"external_id": "{ref}-{start.strftime("%H%M")}"}}'
    )


FMT = "%Y-%m-%dT%H:%M:%SZ"


def _instructions(base: str, key: str, examples: list[tuple[Location, Evse]], cpos: list[str],
                  console_lines: str = "") -> str:
    start = (utcnow() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)
    (location, evse), (booked_location, booked_evse) = examples
    lat, lng = round(location.latitude, 4), round(location.longitude, 4)
    cpo_lines = "\n".join(f"  CPO      : {cpo}" for cpo in cpos)
    return f"""
chargebook demo is running.

  base URL : {base}
  API key  : {key}
  API docs : {base.removesuffix(CLIENT_BASE)}/docs
{cpo_lines}
{console_lines}
Search near {location.city} for chargers free from {start.strftime(FMT)} to {end.strftime(FMT)}:

  curl -s -H "X-API-Key: {key}" "{base}/search?lat={lat}&lng={lng}&radius=10&start_time={start.strftime(FMT)}&end_time={end.strftime(FMT)}&limit=3"

Book one at DE-SIM (OCPI 2.2.1: RESERVE_NOW is sent shortly before the window; 202, status
REQUESTED; token_strategy left out means ad_hoc):

  curl -s -X POST -H "X-API-Key: {key}" -H "Content-Type: application/json" "{base}/bookings" \\
       -d '{_body(location, evse, start, end, "demo")}'

Book one at DE-SBK (OCPI 2.3.0 Bookings: the request goes out at once and the CPO confirms
the future slot within seconds; cpo_reservation_id is then the CPO's booking id):

  curl -s -X POST -H "X-API-Key: {key}" -H "Content-Type: application/json" "{base}/bookings" \\
       -d '{_body(booked_location, booked_evse, start, end, "demo-sbk")}'

Poll one (use the "id" from the answer) and watch it walk PENDING → CONFIRMED → ATTENDING → COMPLETED
(at DE-SBK the driver comes at the booked start):

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
    sims = [SimulatorServer(simulator_config(fast_forward)), SimulatorServer(bookings_simulator_config(fast_forward))]
    stop = asyncio.Event()
    worker: asyncio.Task[None] | None = None
    try:
        cpos, examples = [], []
        for sim in sims:
            await asyncio.to_thread(sim.start)
            config = sim.simulator.config
            party, counts = await _connect(db, sim, settings, config.name)
            extra = f", {counts['booking_locations']} booking locations" if "booking_locations" in counts else ""
            cpos.append(f"{config.name} ({party.country_code}-{party.party_id}) at {sim.versions_url}, "
                        f"OCPI {party.version} negotiated (it offers {', '.join(config.ocpi_versions)}); "
                        f"synced {counts['locations']} locations, {counts['tariffs']} tariffs{extra}")
            examples.append(await _example(db, party.party_id))
        client, key = await create_client(db, "demo", reservation_fee=Decimal("2.50"),
                                          commission_percent=Decimal("10"))
        worker = asyncio.create_task(run_forever(db, settings, stop))
        logins = await demo_console.people(db, client.id)
        await demo_console.activity(db, f"{root}{CLIENT_BASE}", key, [e for _, e in examples])
        # Plain print: rich would wrap the long curl lines and break copy-paste.
        text = _instructions(f"{root}{CLIENT_BASE}", key, examples, cpos, logins.text(root))
        print(text, flush=True)
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
        for sim in sims:
            with contextlib.suppress(Exception):  # one that never started
                await asyncio.to_thread(sim.stop)
        with contextlib.suppress(Exception):
            await serving
        await db.dispose()
