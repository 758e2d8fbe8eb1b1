"""A caller that hangs up before its body arrives is a 499 ("client closed request") in the
metrics and the request log, never a 500 with a traceback."""

from __future__ import annotations

import re
import socket
import time

import httpx

from chargebook.ocpi.transport import authorization_header
from tests.conftest import LiveServer
from tests.factories import make_client
from tests.ocpi_api.conftest import Cpo

PATCH_ROUTE = "/ocpi/2.2.1/locations/{country_code}/{party_id}/{location_id}/{evse_uid}"
BOOKINGS_ROUTE = "/api/v1/client/bookings"


def _count(live: LiveServer, method: str, route: str, status: int) -> float:
    text = httpx.get(f"{live.base}/metrics").text
    pattern = (rf'chargebook_http_requests_total\{{method="{method}",route="{re.escape(route)}",'
               rf'status="{status}"\}} ([0-9.e+]+)')
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


def _hang_up(live: LiveServer, request_line: str, headers: dict[str, str]) -> None:
    """Send the head and a tenth of the announced body, then close the connection."""
    head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Content-Length": "400"}.items())
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        sock.sendall(f"{request_line}\r\nHost: 127.0.0.1\r\n{head}\r\n".encode() + b'{"status": ')


def _wait_for(live: LiveServer, method: str, route: str, status: int, above: float) -> float:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = _count(live, method, route, status)
        if seen > above:
            return seen
        time.sleep(0.05)
    return _count(live, method, route, status)


def test_a_cpo_hanging_up_mid_patch_is_a_499(live: LiveServer, cpo: Cpo) -> None:
    before = (_count(live, "PATCH", PATCH_ROUTE, 499), _count(live, "PATCH", PATCH_ROUTE, 500))
    _hang_up(live, f"PATCH /ocpi/2.2.1/locations/DE/{cpo.party_id}/LOC1/E1 HTTP/1.1",
             {"Authorization": authorization_header(cpo.token), "Content-Type": "application/json"})
    assert _wait_for(live, "PATCH", PATCH_ROUTE, 499, before[0]) == before[0] + 1
    assert _count(live, "PATCH", PATCH_ROUTE, 500) == before[1]


def test_a_client_hanging_up_mid_create_is_a_499(live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url)
    before = (_count(live, "POST", BOOKINGS_ROUTE, 499), _count(live, "POST", BOOKINGS_ROUTE, 500))
    _hang_up(live, "POST /api/v1/client/bookings HTTP/1.1",
             {"X-API-Key": key, "Content-Type": "application/json"})
    assert _wait_for(live, "POST", BOOKINGS_ROUTE, 499, before[0]) == before[0] + 1
    assert _count(live, "POST", BOOKINGS_ROUTE, 500) == before[1]
