"""Our OCPI 2.2.1 receiver endpoints, over HTTP, with exact envelopes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import httpx

from tests.conftest import LiveServer
from tests.factories import api, make_client, window
from tests.ocpi_api.conftest import Cpo, make_cpo

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1"


def location(cpo: Cpo, location_id: str = "LOC1") -> dict:  # type: ignore[type-arg]
    body = json.loads((EXAMPLES / "location_example.json").read_text())
    body.update(country_code="DE", party_id=cpo.party_id, id=location_id)
    for evse in body["evses"]:
        evse["capabilities"] = sorted(set(evse.get("capabilities", [])) | {"RESERVABLE"})
    return body


def test_versions_need_a_known_token(live: LiveServer, cpo: Cpo) -> None:
    with httpx.Client(base_url=live.base) as anon:
        r = anon.get("/ocpi/versions")
        assert r.status_code == 401 and r.json()["status_code"] == 2000
        r = anon.get("/ocpi/versions", headers={"Authorization": "Token bm9wZQ=="})
        assert r.status_code == 401
    r = cpo.http.get("/ocpi/versions", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"})
    assert r.status_code == 200 and r.json()["status_code"] == 1000
    assert r.headers["X-Request-ID"] == "req-1" and r.headers["X-Correlation-ID"] == "corr-1"
    assert r.json()["data"] == [{"version": "2.2.1", "url": f"{live.base}/ocpi/2.2.1"},
                                {"version": "2.3.0", "url": f"{live.base}/ocpi/2.3.0"}]
    details = cpo.http.get("/ocpi/2.2.1").json()["data"]
    modules = {(e["identifier"], e["role"]) for e in details["endpoints"]}
    assert {("locations", "RECEIVER"), ("tokens", "SENDER"), ("commands", "SENDER"), ("cdrs", "RECEIVER")} <= modules
    # The plain (not Base64) token is accepted too, as many peers send it.
    plain = cpo.http.get("/ocpi/versions", headers={"Authorization": f"Token {cpo.token}"})
    assert plain.status_code == 200


def test_location_push_patch_and_ownership(cpo: Cpo, database_url: str, live: LiveServer) -> None:
    body = location(cpo)
    path = cpo.url(f"/locations/DE/{cpo.party_id}/LOC1")
    r = cpo.http.put(path, json=body)
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
    assert cpo.http.get(path).json()["data"]["id"] == "LOC1"
    evse_uid = body["evses"][0]["uid"]
    # PATCH an EVSE's status; the parent's last_updated follows.
    r = cpo.http.patch(f"{path}/{evse_uid}", json={"status": "CHARGING", "last_updated": "2030-01-01T00:00:00Z"})
    assert r.json()["status_code"] == 1000
    stored = cpo.http.get(path).json()["data"]
    assert stored["evses"][0]["status"] == "CHARGING" and stored["last_updated"] == "2030-01-01T00:00:00Z"
    # An older PATCH is ignored, not applied.
    r = cpo.http.patch(f"{path}/{evse_uid}", json={"status": "AVAILABLE", "last_updated": "2020-01-01T00:00:00Z"})
    assert r.json()["status_code"] == 1000 and "ignored" in r.json()["status_message"]
    assert cpo.http.get(f"{path}/{evse_uid}").json()["data"]["status"] == "CHARGING"
    # PATCH without last_updated is 2001.
    r = cpo.http.patch(f"{path}/{evse_uid}", json={"status": "AVAILABLE"})
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    # Another party's objects are off limits, in the URL and in the body.
    other_party, _ = make_cpo(database_url)
    r = cpo.http.put(cpo.url(f"/locations/DE/{other_party}/LOC1"), json=dict(body, party_id=other_party))
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    r = cpo.http.put(path, json=dict(body, party_id=other_party))
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    # A body that breaks the model is 2001, naming the field.
    broken = copy.deepcopy(body)
    del broken["coordinates"]
    r = cpo.http.put(path, json=broken)
    assert r.status_code == 400 and "coordinates" in r.json()["status_message"]
    r = cpo.http.put(path, content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    # The pushed location is searchable by clients.
    _, key = make_client(database_url)
    with api(live.client_base, key) as client:
        lat, lng = float(body["coordinates"]["latitude"]), float(body["coordinates"]["longitude"])
        found = client.get("/search", params={"lat": lat, "lng": lng, "radius": 1}).json()["results"]
        assert any(x["location_id"] == "LOC1" and x["cpo_party_id"] == cpo.party_id for x in found)


def test_evse_status_patches_out_of_order_and_unknown(cpo: Cpo) -> None:
    body = location(cpo, "LOC-ORDER")
    path = cpo.url(f"/locations/DE/{cpo.party_id}/LOC-ORDER")
    assert cpo.http.put(path, json=body).json()["status_code"] == 1000
    uid = body["evses"][0]["uid"]
    newer = {"status": "CHARGING", "last_updated": "2031-01-01T00:00:02Z"}
    older = {"status": "AVAILABLE", "last_updated": "2031-01-01T00:00:01Z"}
    # Sent newest first (as two connections may deliver them): the older one is ignored.
    assert cpo.http.patch(f"{path}/{uid}", json=newer).json()["status_code"] == 1000
    late = cpo.http.patch(f"{path}/{uid}", json=older).json()
    assert late["status_code"] == 1000 and "ignored" in late["status_message"]
    assert cpo.http.get(f"{path}/{uid}").json()["data"]["status"] == "CHARGING"
    assert cpo.http.get(path).json()["data"]["last_updated"] == "2031-01-01T00:00:02Z"
    r = cpo.http.patch(f"{path}/NO-SUCH-EVSE", json=newer)
    assert r.status_code == 404 and r.json()["status_code"] == 2003


def test_tariff_put_keeps_exact_numbers(cpo: Cpo) -> None:
    tariff = json.loads((EXAMPLES / "tariff_10_025kwh_parking_start.json").read_text())
    tariff.update(country_code="DE", party_id=cpo.party_id, last_updated="2026-01-01T00:00:00Z")
    r = cpo.http.put(cpo.url(f"/tariffs/DE/{cpo.party_id}/{tariff['id']}"), json=tariff)
    assert r.json()["status_code"] == 1000, r.text
    r = cpo.http.put(cpo.url(f"/tariffs/DE/{cpo.party_id}/other"), json=tariff)
    assert r.status_code == 400


def test_token_list_is_paginated(cpo: Cpo, live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url)
    with api(live.client_base, key) as client:
        group = client.post("/groups", json={"name": "g"}).json()
        client.post(f"/groups/{group['id']}/tokens/bulk", json={"count": 5})
    first = cpo.http.get(cpo.url("/tokens"), params={"limit": 2})
    assert first.json()["status_code"] == 1000
    total = int(first.headers["X-Total-Count"])
    assert total >= 5 and first.headers["X-Limit"] == "2"
    seen = [t["uid"] for t in first.json()["data"]]
    link = first.headers.get("Link")
    while link:
        url = link.split(";")[0].strip("<>")
        page = cpo.http.get(url)
        seen += [t["uid"] for t in page.json()["data"]]
        link = page.headers.get("Link")
    assert len(seen) == total == len(set(seen))
    token = first.json()["data"][0]
    assert {"country_code", "party_id", "uid", "type", "contract_id", "issuer", "valid", "whitelist",
            "last_updated"} <= set(token)


def test_authorization_references_must_list_evse_uids(cpo: Cpo) -> None:
    """LocationReferences.evse_uids is a list: anything else is 2001, never a 500 (a number) nor
    a string read letter by letter."""
    for evse_uids in (5, "EVSE1", {"uid": "EVSE1"}):
        refs = {"location_id": "LOC9", "evse_uids": evse_uids}
        r = cpo.http.post(cpo.url("/tokens/DEADBEEF/authorize"), json=refs)
        assert r.status_code == 400 and r.json()["status_code"] == 2001, (evse_uids, r.text)


def test_authorization_rules(cpo: Cpo, live: LiveServer, database_url: str) -> None:
    # A booking at this CPO's location with each strategy.
    cpo.http.put(cpo.url(f"/locations/DE/{cpo.party_id}/LOC9"), json=location(cpo, "LOC9"))
    loc = cpo.http.get(cpo.url(f"/locations/DE/{cpo.party_id}/LOC9")).json()["data"]
    evses = [e["uid"] for e in loc["evses"]]
    _, key = make_client(database_url)
    with api(live.client_base, key) as client:
        customer = client.post("/customers", json={}).json()
        driver = client.post(f"/customers/{customer['id']}/tokens", json={}).json()
        start, end = window(120, 60)  # beyond the early-arrival grace
        body = {"location_id": "LOC9", "evse_uid": evses[0], "reservation_start": start, "reservation_end": end}
        adhoc = client.post("/bookings", json=body)
        assert adhoc.status_code == 202, adhoc.text
        ad_uid = adhoc.json()["token"]["uid"]

    def ask(uid: str, evse: str | None = None, location_id: str = "LOC9") -> httpx.Response:
        refs = {"location_id": location_id, "evse_uids": [evse] if evse else []}
        return cpo.http.post(cpo.url(f"/tokens/{uid}/authorize"), json=refs)

    r = ask(driver["uid"])
    assert r.json()["data"]["allowed"] == "ALLOWED" and r.json()["data"]["token"]["uid"] == driver["uid"]
    # The ad-hoc token is not valid long before its window, nor at another EVSE.
    assert ask(ad_uid, evses[0]).json()["data"]["allowed"] == "NOT_ALLOWED"
    assert ask(ad_uid, evses[-1]).json()["data"]["allowed"] == "NOT_ALLOWED"
    r = ask("DEADBEEF")
    assert r.status_code == 404 and r.json()["status_code"] == 2004
