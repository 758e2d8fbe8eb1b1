"""Registering with a CPO reads its versions list and never trusts it: an entry without a URL
is not an offer (OCPI 2.2.1 version_information_endpoint.asciidoc § Version class: ``url`` is
required), so a list with nothing usable is "no mutual version", never a crash. A real CPO
stand-in answers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from chargebook.db.engine import Database
from chargebook.domain.errors import InvalidRequest
from chargebook.services.ocpi_parties import Identity, connect
from tests.conftest import free_port

US = Identity("DE", "CBK", "chargebook", "http://127.0.0.1:9")


def _envelope(data: Any) -> web.Response:
    return web.json_response(
        {"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z", "data": data})


@pytest.fixture
async def cpo_versions() -> AsyncIterator[str]:
    """A CPO whose versions list names 2.2.1 and 2.3.0 without a URL for either."""

    async def versions(_: web.Request) -> web.Response:
        return _envelope([{"version": "2.2.1"}, {"version": "2.3.0", "url": None}])

    app = web.Application()
    app.router.add_get("/ocpi/versions", versions)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/ocpi/versions"
    await runner.cleanup()


async def test_a_version_without_url_is_not_offered(db: Database, cpo_versions: str) -> None:
    with pytest.raises(InvalidRequest, match="no mutual OCPI version"):
        await connect(db, cpo_versions, "token-a", US, None)
