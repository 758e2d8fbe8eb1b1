"""Crafted input is a 4xx with the documented body, never a 500 (issue 12.5).

Each request here answered 500 once: a cursor that decodes to something the database cannot
take, an OCPI page offset past 64 bits, an impossible date in a PATCH, two issues of one token
UID at the same moment. The client API answers ``{"error"}``, the OCPI adapter an envelope.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveServer
from tests.factories import api, make_client
from tests.ocpi_api.conftest import Cpo
from tests.ocpi_api.test_receivers import location

FAR_AWAY = {"latitude": "-46.000000", "longitude": "168.000000"}
CURSOR_ERROR = {"error": "cursor: not a cursor returned by this API"}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.fixture
def http(live: LiveServer, database_url: str) -> Iterator[httpx.Client]:
    _, key = make_client(database_url)
    with api(live.client_base, key) as client:
        yield client


@pytest.mark.parametrize("raw", [
    "2026-11-24T20:00:00|bkg_x",  # no UTC offset
    "2026-11-24T20:00:00.123456|bkg_x",
    "0001-01-01T00:00:00+14:00|bkg_x",  # before the first instant in UTC
    "9999-12-31T23:59:59-14:00|bkg_x",  # after the last one
    "2026-13-01T00:00:00+00:00|bkg_x",
    "no separator",
])
def test_a_booking_list_cursor_that_we_never_wrote_is_400(http: httpx.Client, raw: str) -> None:
    r = http.get("/bookings", params={"cursor": _cursor(raw)})
    assert (r.status_code, r.json()) == (400, CURSOR_ERROR), r.text


@pytest.mark.parametrize("raw", [f"d|{10**30}", f"d|{2**63}", "d|-1", f"d|-{2**63 + 1}", "d|" + "9" * 100, "d|1e3", "d| 12", "d|1_000"],
                         ids=["10^30", "2^63", "-1", "-2^63-1", "100 digits", "1e3", "space", "underscore"])
def test_a_webhook_deliveries_cursor_with_a_huge_number_is_400(http: httpx.Client, raw: str) -> None:
    hook = http.post("/webhooks", json={"url": "https://hooks.invalid/in", "event_types": ["*"]}).json()["id"]
    r = http.get(f"/webhooks/{hook}/deliveries", params={"cursor": _cursor(raw)})
    assert (r.status_code, r.json()) == (400, CURSOR_ERROR), r.text


@pytest.mark.parametrize(("offset", "limit"), [
    (str(2**64), "10"), (str(2**63), "10"), ("-1", "10"), ("0", "-5"), ("0", str(2**64)),
    ("0", "0"), ("1e3", "10"), ("0", str(-(2**70))),
])
def test_an_ocpi_offset_or_limit_out_of_range_is_2001(cpo: Cpo, offset: str, limit: str) -> None:
    r = cpo.http.get(cpo.url("/tokens"), params={"offset": offset, "limit": limit})
    if r.status_code == 200:  # a huge limit is capped, as OCPI allows (X-Limit says so)
        assert r.json()["status_code"] == 1000 and int(r.headers["X-Limit"]) <= 100
        return
    assert (r.status_code, r.json()["status_code"]) == (400, 2001), r.text
    assert "error" not in r.json()


@pytest.mark.parametrize("stamp", ["2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T25:00:00Z",
                                   "yesterday", 20260101, None, ["2026-01-01T00:00:00Z"]])
@pytest.mark.parametrize("level", ["location", "evse", "connector"])
def test_a_location_patch_with_an_impossible_last_updated_is_2001(cpo: Cpo, stamp: object, level: str) -> None:
    body = location(cpo, "CRAFTED")
    body["coordinates"] = FAR_AWAY  # out of the way of tests that search near the example's point
    base = cpo.url(f"/locations/DE/{cpo.party_id}/CRAFTED")
    assert cpo.http.put(base, json=body).json()["status_code"] == 1000
    evse = body["evses"][0]
    path = {"location": base, "evse": f"{base}/{evse['uid']}",
            "connector": f"{base}/{evse['uid']}/{evse['connectors'][0]['id']}"}[level]
    r = cpo.http.patch(path, json={"name" if level == "location" else "status": "X", "last_updated": stamp})
    assert (r.status_code, r.json()["status_code"]) == (400, 2001), r.text
    assert "last_updated" in r.json()["status_message"]
    assert cpo.http.get(base).json()["data"]["last_updated"] == body["last_updated"]  # nothing written


def test_two_concurrent_issues_of_one_uid_answer_one_201_and_one_409(live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url)
    with api(live.client_base, key) as http:
        customers = [http.post("/customers", json={"name": f"Driver {n}"}).json()["id"] for n in range(2)]

    async def race(uid: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.client_base, headers={"X-API-Key": key}, timeout=30) as client:
            return list(await asyncio.gather(*(
                client.post(f"/customers/{c}/tokens", json={"uid": uid}) for c in customers)))

    for n in range(6):
        answers = asyncio.run(race(f"04A2C3D4E5F6{n:02d}"))
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        (refused,) = [r for r in answers if r.status_code == 409]
        assert "in use" in refused.json()["error"]
