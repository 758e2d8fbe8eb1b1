"""`chargebook demo`: the whole platform on one machine, ready to try with curl."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import uvicorn
from sqlalchemy import func, select

from chargebook.api.app import CLIENT_BASE, create_app
from chargebook.cpo_sim.catalogue import generate_locations
from chargebook.db.engine import Database
from chargebook.db.migrate import upgrade
from chargebook.db.models import Evse, Location
from chargebook.services.catalogue import seed_catalogue
from chargebook.services.clients import create_client
from chargebook.services.clock import utcnow
from chargebook.settings import Settings
from chargebook.worker.runner import run_forever

DEMO_LOCATIONS = 300


def demo_settings(base: Settings) -> Settings:
    if "database_url" in base.model_fields_set:
        return base
    return base.model_copy(update={"database_url": f"sqlite:///{Path('chargebook-demo.db').resolve()}"})


async def _prepare(db: Database) -> tuple[str, Location, Evse]:
    async with db.read() as session:
        count = await session.scalar(select(func.count()).select_from(Location))
    if not count:
        await seed_catalogue(db, "DE", "SIM", "Simulated CPO", list(generate_locations(DEMO_LOCATIONS)))
    _client, key = await create_client(
        db, "demo", reservation_fee=Decimal("2.50"), commission_percent=Decimal("10")
    )
    async with db.read() as session:
        location, evse = (
            await session.execute(
                select(Location, Evse)
                .join(Evse, Evse.location_pk == Location.pk)
                .where(Location.city == "Berlin", Evse.reservable.is_(True), Evse.status == "AVAILABLE")
                .order_by(Location.pk, Evse.pk)
                .limit(1)
            )
        ).one()
    return key, location, evse


def _instructions(base: str, key: str, location: Location, evse: Evse) -> str:
    start = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
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

Search near Berlin for chargers free from {start.strftime(fmt)} to {end.strftime(fmt)}:

  curl -s -H "X-API-Key: {key}" "{base}/search?lat=52.52&lng=13.405&radius=10&start_time={start.strftime(fmt)}&end_time={end.strftime(fmt)}&limit=3"

Book one (202, status REQUESTED; token_strategy left out means ad_hoc):

  curl -s -X POST -H "X-API-Key: {key}" -H "Content-Type: application/json" "{base}/bookings" \\
       -d '{body}'

Poll it (use the "id" from the answer):

  curl -s -H "X-API-Key: {key}" "{base}/bookings/BOOKING_ID"

List and cancel:

  curl -s -H "X-API-Key: {key}" "{base}/bookings?limit=10"
  curl -s -X POST -H "X-API-Key: {key}" -H "Content-Type: application/json" "{base}/bookings/BOOKING_ID/cancel" -d '{{"reason": "plans changed"}}'
"""


async def run_demo(settings: Settings, host: str, port: int, exit_after: float | None) -> None:
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    key, location, evse = await _prepare(db)
    app = create_app(settings, db)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_forever(db, settings, stop))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving
            return
        await asyncio.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
    # Plain print: rich would wrap the long curl lines and break copy-paste.
    print(_instructions(f"http://{host}:{bound}{CLIENT_BASE}", key, location, evse), flush=True)
    try:
        if exit_after is not None:
            await asyncio.sleep(exit_after)
            server.should_exit = True
        await serving
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await worker
        await db.dispose()
