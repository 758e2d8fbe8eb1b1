"""The simulator as an ASGI app: ``create_app(SimConfig(...))``.

Serve it with any ASGI server (``uvicorn.run(create_app(cfg))``), or in-process with
:class:`~chargebook.cpo_sim.server.SimulatorServer`. The app's lifespan starts the simulator
(outbound HTTP client) and, on shutdown, cancels and awaits every background task.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from chargebook.cpo_sim.config import SimConfig
from chargebook.cpo_sim.field_quirks import FieldQuirks
from chargebook.cpo_sim.middleware import OCPI_PREFIX, Faults, OcpiHeaders, TrailingSlash
from chargebook.cpo_sim.protocol import OcpiError, ocpi_error_response
from chargebook.cpo_sim.routers import ADMIN_ROUTERS, OCPI_ROUTERS
from chargebook.cpo_sim.simulator import Simulator
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221 import StatusCode


def create_app(config: SimConfig | None = None, *, sim: Simulator | None = None) -> FastAPI:
    """A new simulator app; pass ``sim`` to keep a handle on its state."""
    simulator = sim or Simulator(config or SimConfig())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await simulator.start()
        try:
            yield
        finally:
            await simulator.close()

    app = FastAPI(
        title="chargebook CPO simulator",
        description="An OCPI 2.2.1 / 2.3.0 (+ Bookings) CPO with a generated catalogue, for sandboxes "
        "and tests.",
        lifespan=lifespan,
    )
    app.state.sim = simulator
    for router in OCPI_ROUTERS:
        app.include_router(router)
    if simulator.config.admin_enabled:
        for router in ADMIN_ROUTERS:
            app.include_router(router)

    @app.exception_handler(OcpiError)
    async def ocpi_error(_request: Request, exc: OcpiError) -> Response:
        return ocpi_error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown OCPI paths and wrong methods still get an envelope; /sim gets plain JSON.
        if request.url.path.startswith(OCPI_PREFIX):
            return t.ocpi_response(
                status_code=StatusCode.CLIENT_ERROR,
                message=str(exc.detail),
                http_status=exc.status_code,
            )
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    # Added last = outermost: slashes are normalised first, faults act closest to the app.
    app.add_middleware(Faults, sim=simulator)
    app.add_middleware(OcpiHeaders, sim=simulator)
    app.add_middleware(TrailingSlash)
    app.add_middleware(FieldQuirks, sim=simulator)  # outermost: sees the path as sent
    return app
