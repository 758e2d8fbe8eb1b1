"""What field CPOs send and the outbound client still reads: one-element lists, non-envelope
401/403, 3000 in HTTP 200, slash redirects, an overall deadline (unit tests of the one adapter,
over a mock transport; the trickling peer is a real socket)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chargebook.ocpi.client import (
    OcpiClient,
    Party,
    PeerAuthRefused,
    PeerProtocolError,
    PeerRejected,
    PeerTimeout,
)
from chargebook.ocpi.redirects import other_form
from tests.trickle import Trickler

CPO = Party("DE", "XTW")
BASE = "https://cpo.example/ocpi/cpo/2.2.1"
LOCATION = {"id": "LOC1", "country_code": "DE", "party_id": "XTW"}


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"status_code": 1000, "data": data})


async def call(handler: Any, method: str, url: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = OcpiClient(token="t", to_party=CPO, http=http)
        if method == "OBJECT":
            return await client.get_object(url)
        return await client.request(method, url, **kwargs)


@pytest.mark.parametrize("data", [LOCATION, [LOCATION]])
async def test_a_single_object_may_come_as_a_one_element_list(data: Any) -> None:
    assert await call(lambda r: ok(data), "OBJECT", f"{BASE}/locations/LOC1") == LOCATION


@pytest.mark.parametrize("data", [[], [LOCATION, LOCATION], ["LOC1"], "LOC1"])
async def test_anything_else_is_not_an_object(data: Any) -> None:
    with pytest.raises(PeerProtocolError, match="not an object"):
        await call(lambda r: ok(data), "OBJECT", f"{BASE}/locations/LOC1")


@pytest.mark.parametrize("status", [401, 403])
async def test_a_non_envelope_auth_failure_names_the_cpo_and_status(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"detail": "Invalid authentication credentials"})

    with pytest.raises(PeerAuthRefused) as caught:
        await call(handler, "GET", f"{BASE}/locations")
    assert str(caught.value) == (
        f"CPO DE*XTW refused our token: HTTP {status} without an OCPI envelope "
        "(Invalid authentication credentials)")
    assert isinstance(caught.value, PeerRejected) and caught.value.http_status == status


async def test_an_envelope_401_stays_a_plain_rejection() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"status_code": 2000, "status_message": "unknown token"})

    with pytest.raises(PeerRejected) as caught:
        await call(handler, "GET", f"{BASE}/locations")
    assert type(caught.value) is PeerRejected and caught.value.status_code == 2000


async def test_3000_in_http_200_is_reported_as_an_undecodable_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status_code": 3000, "status_message": "Generic server error"})

    with pytest.raises(PeerRejected) as caught:
        await call(handler, "GET", f"{BASE}/tokens")
    assert caught.value.status_code == 3000
    assert "token they cannot decode" in str(caught.value)


async def test_3000_in_http_500_is_not_blamed_on_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"status_code": 3000, "status_message": "db down"})

    with pytest.raises(PeerRejected) as caught:
        await call(handler, "GET", f"{BASE}/tokens")
    assert "decode" not in str(caught.value)


def slash_redirecting(seen: list[str]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        if not request.url.path.endswith("/"):
            return httpx.Response(307, headers={"Location": str(request.url.copy_with(
                path=request.url.path + "/"))})
        return ok({"result": "ACCEPTED", "timeout": 30})

    return handler


async def test_a_get_follows_a_slash_redirect_with_its_query() -> None:
    seen: list[str] = []
    reply = await call(slash_redirecting(seen), "GET", f"{BASE}/locations", params={"limit": 5})
    assert seen == [f"GET {BASE}/locations?limit=5", f"GET {BASE}/locations/?limit=5"]
    assert reply.url == f"{BASE}/locations/?limit=5"


async def test_a_post_is_retried_once_at_the_other_form() -> None:
    seen: list[str] = []
    reply = await call(slash_redirecting(seen), "POST", f"{BASE}/commands/RESERVE_NOW", body={"a": 1})
    assert seen == [f"POST {BASE}/commands/RESERVE_NOW", f"POST {BASE}/commands/RESERVE_NOW/"]
    assert reply.data == {"result": "ACCEPTED", "timeout": 30}


async def test_a_post_is_not_retried_twice() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(307, headers={"Location": other_form(str(request.url))})

    with pytest.raises(PeerProtocolError, match="redirect"):
        await call(handler, "PUT", f"{BASE}/tokens/DE/CBK/T1", body={})
    assert len(seen) == 2


async def test_a_redirect_to_another_host_is_not_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://elsewhere.example/locations"})

    with pytest.raises(PeerProtocolError, match="not followed"):
        await call(handler, "GET", f"{BASE}/locations")
    assert seen == [f"{BASE}/locations"]  # our token never went to elsewhere.example


async def test_a_trickling_peer_is_cut_off_by_the_overall_deadline() -> None:
    trickler = Trickler(every_seconds=0.05)
    trickler.start()
    try:
        async with OcpiClient(token="t", timeout=5.0, deadline=0.5) as client:
            with pytest.raises(PeerTimeout, match="no whole answer"):
                await client.get(f"{trickler.url}/ocpi/cpo/2.2.1/locations")
    finally:
        trickler.close()
