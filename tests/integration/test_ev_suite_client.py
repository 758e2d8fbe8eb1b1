"""An EV Suite integration, run unchanged against chargebook: only the base URL and key change.

Two simulated OCPI 2.2.1 CPOs (DE*SIM with its own sessions running, and DE*SBX, which also
publishes one of DE*SIM's location ids: OCPI ids are unique only per CPO), chargebook's API
and worker, all real servers on 127.0.0.1. The requests are the ones EV Suite's docs show
(curl examples, the EMP search-to-book guide, the fleet guides, the corporate usage report).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargebook.cpo_sim import SimulatorServer
from chargebook.services import contracts, ocpi_catalogue, ocpi_parties
from chargebook.settings import Settings
from tests.conftest import FreshDatabase, LiveServer, WorkerThread
from tests.factories import api, make_client, window, with_db
from tests.integration.test_ocpi_loop import sim_config

pytestmark = pytest.mark.integration


@dataclass
class Platform:
    live: LiveServer
    url: str
    sim: SimulatorServer  # DE*SIM
    twin: SimulatorServer  # DE*SBX, which shares one location id with DE*SIM
    shared: tuple[str, str]  # (location_id, evse_uid) both CPOs publish

    def client(self, **terms: Any) -> tuple[str, httpx.Client]:
        client_id, key = make_client(self.url, **terms)
        return client_id, api(self.live.client_base, key)

    def wait_for(self, http: httpx.Client, booking_id: str, statuses: set[str], seconds: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            booking = http.get(f"/bookings/{booking_id}").json()
            if booking["status"] in statuses or time.monotonic() > deadline:
                return booking  # type: ignore[no-any-return]
            time.sleep(0.1)

    def reserve_nows(self, sim: SimulatorServer) -> list[dict[str, Any]]:
        views = httpx.get(f"{sim.url}/sim/commands", timeout=10).json()
        return [c for c in views if "RESERVE_NOW" in str(c)]


def _reservable(location: Any) -> list[Any]:
    return [e for e in location.evses or [] if "RESERVABLE" in [str(c) for c in e.capabilities or []]]


def _pick(sim: SimulatorServer, status: str, nth: int = 0) -> tuple[Any, Any]:
    """The ``nth`` location of the simulator with a reservable EVSE in ``status`` (and, for
    CHARGING, an AVAILABLE one beside it), and that EVSE. AVAILABLE picks skip locations with
    a busy EVSE, so that each test has chargers of its own."""
    found = []
    for location in sim.simulator.store.locations.values():
        evses = _reservable(location)
        available = [e for e in evses if str(e.status) == "AVAILABLE"]
        charging = [e for e in evses if str(e.status) == "CHARGING"]
        if status == "CHARGING" and charging and available:
            found.append((location, charging[0]))
        if status == "AVAILABLE" and available and not charging:
            found.append((location, available[0]))
    assert len(found) > nth, f"the catalogue has too few locations with a reservable {status} EVSE"
    return found[nth]


@pytest.fixture(scope="module")
def platform(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    fresh = FreshDatabase(backend, Path(tmp_path_factory.mktemp("evsuite")))
    settings = Settings(database_url=fresh.url, worker_interval_seconds=0.1, command_retry_attempts=2,
                        command_retry_base_seconds=0.2)
    live = LiveServer(settings).__enter__()
    worker = WorkerThread(live.settings).__enter__()
    sim = SimulatorServer(sim_config(locations=40, seed=11))
    twin = SimulatorServer(sim_config(locations=0, party_id="SBX", name="Twin CPO"))
    sim.start()
    twin.start()
    shared_location, shared_evse = _pick(sim, "AVAILABLE")
    # The twin publishes a location under the same id, with the same EVSE uids.
    copy = shared_location.model_copy(deep=True, update={"party_id": "SBX"})
    twin.simulator.store.locations[next(k for k, v in sim.simulator.store.locations.items()
                                        if v is shared_location)] = copy
    me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)
    for cpo in (sim, twin):
        async def connect(db, cpo=cpo):  # type: ignore[no-untyped-def]
            party = await ocpi_parties.connect(db, cpo.versions_url, cpo.token_a, me, None)
            return await ocpi_catalogue.sync_party(db, party)

        with_db(fresh.url, connect)
    try:
        yield Platform(live, fresh.url, sim, twin, (shared_location.id, shared_evse.uid))
    finally:
        worker.__exit__()
        sim.stop()
        twin.stop()
        live.__exit__()
        fresh.drop()


def test_the_docs_curl_examples_run_unchanged(platform: Platform) -> None:
    """Search, create without token_strategy, poll, cancel: the code-examples page, with the
    key as X-API-Key and as a bearer token."""
    client_id, http = platform.client(reservation_fee=Decimal("2.50"))
    location, evse = _pick(platform.sim, "AVAILABLE", 1)
    lat, lng = float(location.coordinates.latitude), float(location.coordinates.longitude)
    found = http.get("/search", params={"lat": lat, "lng": lng, "radius": 25, "limit": 5})
    assert found.status_code == 200
    assert {"total", "results", "cpo_results"} <= set(found.json())
    first = found.json()["results"][0]
    assert {"location_id", "name", "distance_km", "cpo_name", "cpo_party_id", "supports_reservation",
            "evses", "pricing"} <= set(first)
    start, end = window(180, 60)  # beyond the CPO's reserve lead time: stays REQUESTED
    body = {"location_id": location.id, "evse_uid": evse.uid, "reservation_start": start,
            "reservation_end": end, "external_id": "my-ref-001"}
    if location.id == platform.shared[0]:
        body["cpo_party_id"] = "SIM"
    created = http.post("/bookings", json=body)
    assert created.status_code == 202, created.text
    booking = created.json()
    assert booking["status"] == "REQUESTED" and booking["token_strategy"] == "ad_hoc"
    # Confirmation timing, told: the RESERVE_NOW goes out the CPO's lead time (60 min) before.
    planned = datetime.fromisoformat(start.replace("Z", "+00:00")) - timedelta(minutes=60)
    assert booking["cpo_request_at"] == planned.isoformat().replace("+00:00", "Z")
    with httpx.Client(base_url=platform.live.client_base,
                      headers={"Authorization": f"Bearer {http.headers['X-API-Key']}"}) as bearer:
        polled = bearer.get(f"/bookings/{booking['id']}").json()
    assert {k: polled[k] for k in ("status", "cpo_reservation_id", "client_price")} == {
        "status": "REQUESTED", "cpo_reservation_id": None, "client_price": booking["client_price"]}
    cancelled = http.post(f"/bookings/{booking['id']}/cancel", json={"reason": "Plans changed"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    http.close()


def test_a_booking_made_from_what_search_offered_is_confirmed(platform: Platform) -> None:
    """A window 16 minutes ahead: its RESERVE_NOW goes out at once, so search offers only EVSEs
    that are AVAILABLE now (the simulator has sessions running), and the booking of the first
    offer is confirmed by the CPO."""
    _, http = platform.client()
    location, busy = _pick(platform.sim, "CHARGING")
    lat, lng = float(location.coordinates.latitude), float(location.coordinates.longitude)
    start, end = window(16, 60)
    offered = http.get("/search", params={"lat": lat, "lng": lng, "radius": 1, "start_time": start,
                                          "end_time": end, "limit": 5}).json()["results"]
    mine = next(r for r in offered if r["location_id"] == location.id)
    assert busy.uid not in [e["evse_uid"] for e in mine["evses"]]
    assert all(e["status"] == "AVAILABLE" for r in offered for e in r["evses"])
    refused = http.post("/bookings", json={"location_id": location.id, "evse_uid": busy.uid,
                                           "reservation_start": start, "reservation_end": end,
                                           "cpo_party_id": "SIM"})
    assert refused.status_code == 409 and refused.json()["reason"] == "EVSE_IN_USE"
    first = offered[0]
    created = http.post("/bookings", json={
        "location_id": first["location_id"], "evse_uid": first["evses"][0]["evse_uid"],
        "reservation_start": start, "reservation_end": end, "cpo_party_id": first["cpo_party_id"],
        "cpo_country_code": first["cpo_country_code"]})
    assert created.status_code == 202, created.text
    done = platform.wait_for(http, created.json()["id"], {"CONFIRMED", "CANCELLED", "ATTENDING", "COMPLETED"})
    assert done["status"] in {"CONFIRMED", "ATTENDING", "COMPLETED"}, done
    assert done["status_history"][2]["to_status"] == "CONFIRMED"
    http.close()


def test_ids_two_cpos_share_need_the_cpo_and_reach_only_it(platform: Platform) -> None:
    _, http = platform.client()
    location_id, evse_uid = platform.shared
    start, end = window(20, 60)
    body = {"location_id": location_id, "evse_uid": evse_uid, "reservation_start": start, "reservation_end": end}
    ambiguous = http.post("/bookings", json=body)
    assert ambiguous.status_code == 409 and ambiguous.json()["reason"] == "AMBIGUOUS_CPO"
    assert sorted(c["cpo_party_id"] for c in ambiguous.json()["choices"]) == ["SBX", "SIM"]
    assert "DE*SBX" in ambiguous.json()["error"] and "DE*SIM" in ambiguous.json()["error"]
    sim_before = len(platform.reserve_nows(platform.sim))
    created = http.post("/bookings", json={**body, "cpo_party_id": "sbx"})  # a CiString: any case
    assert created.status_code == 202, created.text
    done = platform.wait_for(http, created.json()["id"], {"CONFIRMED", "CANCELLED", "ATTENDING", "COMPLETED"})
    assert done["status"] in {"CONFIRMED", "ATTENDING", "COMPLETED"}, done
    assert any(created.json()["id"] in str(c) for c in platform.reserve_nows(platform.twin))
    assert not any(created.json()["id"] in str(c) for c in platform.reserve_nows(platform.sim))
    assert len(platform.reserve_nows(platform.sim)) >= sim_before
    unknown = http.post("/bookings", json={**body, "cpo_party_id": "XYZ"})
    assert unknown.status_code == 404 and "Location not found" in unknown.json()["error"]
    http.close()


def test_a_contract_scopes_search_booking_and_cpo_results(platform: Platform) -> None:
    client_id, http = platform.client()
    location, evse = _pick(platform.sim, "AVAILABLE", 2)
    lat, lng = float(location.coordinates.latitude), float(location.coordinates.longitude)
    start, end = window(180, 60)
    body = {"location_id": location.id, "evse_uid": evse.uid, "reservation_start": start,
            "reservation_end": end, "cpo_party_id": "SIM"}
    contract = with_db(platform.url, lambda db: contracts.set_contract(db, client_id, [("DE", "SBX")]))
    assert not contract.all_cpos and [c.code for c in contract.cpos] == ["DE*SBX"]
    results = http.get("/search", params={"lat": lat, "lng": lng, "radius": 200, "limit": 50}).json()
    assert {r["cpo_party_id"] for r in results["results"]} <= {"SBX"}
    assert "SIM" not in results["cpo_results"]
    outside = http.post("/bookings", json=body)
    assert outside.status_code == 404, outside.text  # like an unknown EVSE: nothing about DE*SIM
    assert outside.json()["error"] == f"Location not found: {location.id}"
    # The shared id is no longer ambiguous for this client: only DE*SBX is in its contract.
    shared_id, shared_evse = platform.shared
    one = http.post("/bookings", json={**body, "location_id": shared_id, "evse_uid": shared_evse,
                                       "cpo_party_id": None})
    assert one.status_code == 202, one.text
    assert http.post(f"/bookings/{one.json()['id']}/cancel").status_code == 200
    with_db(platform.url, lambda db: contracts.set_contract(db, client_id, None))
    inside = http.post("/bookings", json=body)
    assert inside.status_code == 202, inside.text
    assert http.post(f"/bookings/{inside.json()['id']}/cancel").status_code == 200
    http.close()


def test_the_same_external_id_every_morning(platform: Platform) -> None:
    """EV Suite's fleet guide books `fleet-delivery-route-morning` every morning and tells
    clients to cancel and create a new booking to change one."""
    _, http = platform.client()
    location, evse = _pick(platform.sim, "AVAILABLE", 3)
    ref = "fleet-delivery-route-morning"

    def body(start_in: int) -> dict[str, Any]:
        start, end = window(start_in, 60)
        return {"location_id": location.id, "evse_uid": evse.uid, "reservation_start": start,
                "reservation_end": end, "external_id": ref, "cpo_party_id": "SIM"}

    def book(start_in: int) -> httpx.Response:
        return http.post("/bookings", json=body(start_in))

    first_body = body(24 * 60)
    monday = http.post("/bookings", json=first_body)
    assert monday.status_code == 202, monday.text
    retry = http.post("/bookings", json=first_body)  # a retry after a timeout
    assert retry.status_code == 202 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == monday.json()["id"]
    changed = book(24 * 60 + 30)  # a different request while Monday's is live
    assert changed.status_code == 409 and changed.json()["reason"] == "EXTERNAL_ID_IN_USE"
    http.post(f"/bookings/{monday.json()['id']}/cancel", json={"reason": "route moved"})
    tuesday = book(24 * 60 + 30)
    assert tuesday.status_code == 202 and "Idempotent-Replayed" not in tuesday.headers
    listed = http.get("/bookings", params={"external_id": ref}).json()["bookings"]
    assert [b["id"] for b in listed] == [tuesday.json()["id"], monday.json()["id"]]
    http.post(f"/bookings/{tuesday.json()['id']}/cancel")
    http.close()


def test_driver_token_with_just_a_customer_id(platform: Platform) -> None:
    """The EMP search-to-book guide: `token_strategy: driver_token` with `customer_id` only.
    The customer's app token is offered to CPOs like any other token."""
    _, http = platform.client()
    customer = http.post("/customers", json={"name": "Ada"}).json()
    (app_token,) = http.get(f"/customers/{customer['id']}/tokens").json()["tokens"]
    assert app_token["type"] == "APP_USER"
    pulled = httpx.post(f"{platform.sim.url}/sim/tokens/pull", timeout=30)
    assert pulled.status_code == 200 and pulled.json()["tokens"] >= 1
    assert (app_token["uid"].lower(), "APP_USER") in platform.sim.simulator.store.tokens  # the CPO has it
    location, evse = _pick(platform.sim, "AVAILABLE", 4)
    start, end = window(20, 60)
    created = http.post("/bookings", json={
        "location_id": location.id, "evse_uid": evse.uid, "reservation_start": start, "reservation_end": end,
        "token_strategy": "driver_token", "customer_id": customer["id"], "external_id": "emp042-20260210",
        "cpo_party_id": "SIM", "fleet_group_id": "ignored", "surprise": "ignored too"})
    assert created.status_code == 202, created.text
    assert created.json()["token_uid"] == app_token["uid"]
    done = platform.wait_for(http, created.json()["id"], {"CONFIRMED", "CANCELLED", "ATTENDING", "COMPLETED"})
    assert done["status"] in {"CONFIRMED", "ATTENDING", "COMPLETED"}, done
    http.close()
