"""The outbound OCPI client records every call by CPO, module and outcome, and carries the
correlation id it was given (unit tests of the one adapter, over a mock transport)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from chargebook.ocpi.client import (
    OcpiClient,
    Party,
    PeerError,
    PeerProtocolError,
    PeerRejected,
    PeerTimeout,
    PeerUnreachable,
    module_of,
)

CPO = Party("DE", "MTR")
BASE = "https://cpo.example/ocpi/cpo/2.2.1"


def calls(module: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "chargebook_ocpi_calls_total", {"party": "DE*MTR", "module": module, "outcome": outcome})
    return value or 0.0


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/ok"):
        return httpx.Response(200, json={"status_code": 1000, "data": {"result": "ACCEPTED"}})
    if path.endswith("/rejected"):
        return httpx.Response(200, json={"status_code": 2003, "status_message": "unknown location"})
    if path.endswith("/junk"):
        return httpx.Response(200, content=b"<html>")
    if path.endswith("/down"):
        return httpx.Response(502, content=b"bad gateway")
    raise httpx.ReadTimeout("slow", request=request)


@pytest.mark.parametrize(("path", "outcome", "error"), [
    ("commands/RESERVE_NOW/ok", "ok", None),
    ("commands/RESERVE_NOW/rejected", "rejected", PeerRejected),
    ("commands/RESERVE_NOW/junk", "protocol_error", PeerProtocolError),
    ("commands/RESERVE_NOW/down", "unreachable", PeerUnreachable),
    ("commands/RESERVE_NOW/slow", "timeout", PeerTimeout),
])
async def test_every_outcome_is_counted(path: str, outcome: str, error: type[PeerError] | None) -> None:
    before = calls("commands", outcome)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        client = OcpiClient(token="t", to_party=CPO, http=http)
        if error is None:
            await client.request("POST", f"{BASE}/{path}", body={})
        else:
            with pytest.raises(error):
                await client.request("POST", f"{BASE}/{path}", body={})
    assert calls("commands", outcome) == before + 1
    assert PeerTimeout.__mro__[1] is PeerUnreachable  # callers retrying on unreachable still do


async def test_correlation_id_is_carried_and_request_ids_are_fresh() -> None:
    seen: list[httpx.Headers] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json={"status_code": 1000})

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
        client = OcpiClient(token="t", to_party=CPO, http=http, correlation_id="client-req-7")
        await client.get(f"{BASE}/locations")
        await client.get(f"{BASE}/locations")
    assert [h["X-Correlation-ID"] for h in seen] == ["client-req-7", "client-req-7"]
    assert len({h["X-Request-ID"] for h in seen}) == 2


def test_module_label_is_bounded() -> None:
    assert module_of(f"{BASE}/commands/RESERVE_NOW") == "commands"
    assert module_of(f"{BASE}/locations/DE/MTR/LOC1") == "locations"
    assert module_of("https://cpo.example/ocpi/versions") == "versions"
    assert module_of("https://cpo.example/ocpi/cpo/2.2.1") == "versions"
    assert module_of("https://cpo.example/ocpi/2.3.0/booking/abc") == "bookings"
    assert module_of("https://cpo.example/anything/else") == "other"
