"""The OCPI adapter answers in OCPI, whatever goes wrong: its own body limit, its own handlers,
a 3000 envelope for the unexpected; request ids and metrics still see every OCPI request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.datastructures import State

from chargebook.ocpi.transport import authorization_header
from chargebook.ocpi_api.app import create_ocpi_app
from chargebook.settings import Settings
from tests.conftest import LiveServer
from tests.ocpi_api.conftest import Cpo, make_cpo
from tests.ocpi_api.test_receivers import location

SMALL_LIMIT = 256 * 1024  # a small OCPI limit, so the test need not send 10 MiB


@pytest.fixture(scope="module")
def limited(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(Settings(database_url=database_url, ocpi_max_body_bytes=SMALL_LIMIT)) as server:
        yield server


@pytest.fixture
def limited_cpo(limited: LiveServer, database_url: str) -> Iterator[Cpo]:
    party_id, token = make_cpo(database_url)
    with httpx.Client(base_url=limited.base, headers={"Authorization": authorization_header(token)}) as http:
        yield Cpo(party_id, token, http)


def _big_location(cpo: Cpo, size: int) -> dict[str, Any]:
    """A Location whose body is about ``size`` bytes (long directions, as big hubs send)."""
    body = location(cpo, "BIGHUB")
    body["coordinates"] = {"latitude": "-46.000000", "longitude": "168.000000"}  # away from searches
    body["directions"] = [{"language": "en", "text": "x" * 500} for _ in range(size // 540)]
    return body


def test_a_body_beyond_the_client_api_limit_is_fine_for_ocpi(limited_cpo: Cpo) -> None:
    body = _big_location(limited_cpo, 150 * 1024)
    assert 64 * 1024 < len(json.dumps(body)) < SMALL_LIMIT
    r = limited_cpo.http.put(limited_cpo.url(f"/locations/DE/{limited_cpo.party_id}/BIGHUB"), json=body)
    assert (r.status_code, r.json()["status_code"]) == (200, 1000), r.text


def test_a_body_beyond_the_ocpi_limit_is_a_2001_envelope(limited_cpo: Cpo) -> None:
    body = json.dumps(_big_location(limited_cpo, SMALL_LIMIT + 10_000)).encode()
    path = limited_cpo.url(f"/locations/DE/{limited_cpo.party_id}/BIGHUB")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        for start in range(0, len(body), 16 * 1024):
            yield body[start:start + 16 * 1024]

    for sent in (body, chunks()):
        r = limited_cpo.http.put(path, content=sent, headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        answer = r.json()
        assert answer["status_code"] == 2001 and str(SMALL_LIMIT) in answer["status_message"]
        assert "error" not in answer and answer["timestamp"].endswith("Z")
    assert limited_cpo.http.get(path).status_code == 404  # nothing was written


def test_unknown_paths_and_methods_are_envelopes(cpo: Cpo) -> None:
    r = cpo.http.get("/ocpi/2.2.1/no-such-module")
    assert (r.status_code, r.json()["status_code"]) == (404, 2000) and "error" not in r.json()
    r = cpo.http.delete("/ocpi/versions")
    assert (r.status_code, r.json()["status_code"]) == (405, 2000)
    r = cpo.http.get("/ocpi/2.2.1/tokens", params={"limit": "many"})
    assert (r.status_code, r.json()["status_code"]) == (400, 2001) and "limit" in r.json()["status_message"]


async def test_an_unexpected_failure_is_a_3000_envelope() -> None:
    """A route that fails in a way no handler knows: the adapter still answers in OCPI."""
    app = create_ocpi_app(Settings(), State())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ocpi") as http:
        r = await http.get("/boom")
    assert r.status_code == 500
    assert r.json()["status_code"] == 3000 and "a bug" not in r.text and "error" not in r.json()


def test_ocpi_requests_keep_request_ids_and_metrics(cpo: Cpo) -> None:
    route = "/ocpi/2.2.1/locations/{country_code}/{party_id}/{location_id}"
    labels = {"method": "GET", "route": route, "status": "404"}
    before = REGISTRY.get_sample_value("chargebook_http_requests_total", labels) or 0.0
    r = cpo.http.get(cpo.url(f"/locations/DE/{cpo.party_id}/NOPE"), headers={"X-Request-ID": "ocpi-req-7"})
    assert r.status_code == 404 and r.headers["X-Request-ID"] == "ocpi-req-7"
    assert REGISTRY.get_sample_value("chargebook_http_requests_total", labels) == before + 1


def test_a_path_with_a_newline_is_still_answered_by_the_ocpi_adapter(cpo: Cpo) -> None:
    r = cpo.http.get(cpo.url(f"/locations/DE/{cpo.party_id}/LOC%0A1/x%0Ay"))
    assert r.status_code == 404 and r.json()["status_code"] in (2000, 2003) and "error" not in r.json()
