"""The OCPI adapter as an application of its own, mounted by the app factory at ``/ocpi``.

Its own exception handlers (``errors.py``) make every answer an OCPI envelope by
construction, and its own body limit (``CHARGEBOOK_OCPI_MAX_BODY_BYTES``, 10 MiB by default:
CDRs with many charging periods and big charging hubs exceed the client API's 64 KiB) answers
with one too. It shares the parent's state (settings, database), and the parent's middleware
(request ids, metrics, request log) sees every OCPI request as it sees the client API's.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.routing import Mount

from chargebook.http_edge import BodyLimit
from chargebook.ocpi_api import errors, ocpi_router
from chargebook.settings import Settings

MOUNT = "/ocpi"


def ocpi_mount(app: FastAPI) -> Mount:
    """``/ocpi`` and everything under it, whatever the path holds: Starlette's own pattern
    stops at a newline (``%0A`` in a path segment), which would hand such a request to the
    client API and its ``{"error"}`` bodies."""
    mount = Mount(MOUNT, app=app)
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount


def create_ocpi_app(settings: Settings, state: State) -> FastAPI:
    """``state`` is the parent application's: settings replaced later there (the demo sets its
    public URL after start) are seen here too."""
    app = FastAPI(title="chargebook OCPI (eMSP)", openapi_url=None, docs_url=None, redoc_url=None)
    app.state = state
    errors.install(app)
    app.include_router(ocpi_router())
    app.add_middleware(errors.UnexpectedFailure)
    app.add_middleware(BodyLimit, max_bytes=settings.ocpi_max_body_bytes, refuse=errors.refuse_body)
    return app
