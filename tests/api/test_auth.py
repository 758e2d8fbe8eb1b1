"""Keys, suspension, and the wall between tenants."""

from __future__ import annotations

import httpx
import pytest

from chargebook.services import clients as svc
from tests.conftest import LiveServer
from tests.factories import api, booking_body, make_client, make_site, with_db


def test_missing_and_wrong_keys_are_401(live: LiveServer) -> None:
    with httpx.Client(base_url=live.client_base) as anon:
        r = anon.get("/bookings")
        assert r.status_code == 401 and "Missing API key" in r.json()["error"]
        r = anon.get("/bookings", headers={"X-API-Key": "cbk_not-a-key"})
        assert r.status_code == 401 and r.json() == {"error": "Invalid API key"}
        r = anon.get("/bookings", headers={"Authorization": "Bearer cbk_not-a-key"})
        assert r.status_code == 401


def test_bearer_and_header_are_equivalent(live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url)
    with httpx.Client(base_url=live.client_base) as anon:
        assert anon.get("/bookings", headers={"X-API-Key": key}).status_code == 200
        assert anon.get("/bookings", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_rotation_revokes_the_old_key_at_once(live: LiveServer, database_url: str) -> None:
    client_id, old = make_client(database_url)
    new = with_db(database_url, lambda db: svc.rotate_key(db, client_id))
    with httpx.Client(base_url=live.client_base) as anon:
        assert anon.get("/bookings", headers={"X-API-Key": old}).status_code == 401
        assert anon.get("/bookings", headers={"X-API-Key": new}).status_code == 200


def test_suspended_client_gets_403_everywhere(live: LiveServer, database_url: str) -> None:
    client_id, key = make_client(database_url)
    with_db(database_url, lambda db: svc.set_client_status(db, client_id, "suspended"))
    with api(live.client_base, key) as http:
        for method, path in (("GET", "/bookings"), ("POST", "/bookings"), ("GET", "/groups"),
                             ("GET", "/search?lat=52&lng=13")):
            r = http.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 403, (path, r.text)
            assert r.json() == {"error": "Client account is suspended"}
    with_db(database_url, lambda db: svc.set_client_status(db, client_id, "active"))
    with api(live.client_base, key) as http:
        assert http.get("/bookings").status_code == 200


def test_keys_are_stored_hashed(database_url: str) -> None:
    from sqlalchemy import select

    from chargebook.db.models import ApiKey

    client_id, key = make_client(database_url)

    async def stored(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return list(await session.scalars(select(ApiKey.key_hash).where(ApiKey.client_id == client_id)))

    hashes = with_db(database_url, stored)
    assert hashes == [svc.hash_key(key)] and key not in hashes[0]


@pytest.fixture
def two_tenants(live: LiveServer, database_url: str):  # type: ignore[no-untyped-def]
    """Tenant A owns one of everything; tenant B asks for each of them."""
    site = make_site(database_url)
    _, key_a = make_client(database_url, name="A")
    _, key_b = make_client(database_url, name="B")
    with api(live.client_base, key_a) as a, api(live.client_base, key_b) as b:
        customer = a.post("/customers", json={"name": "Ada"}).json()
        token = a.post(f"/customers/{customer['id']}/tokens", json={}).json()
        group = a.post("/groups", json={"name": "Vans"}).json()
        booking = a.post("/bookings", json=booking_body(site)).json()
        yield a, b, site, {"customer": customer["id"], "token": token["id"], "group": group["id"],
                           "booking": booking["id"]}


def test_a_client_never_sees_another_clients_data(two_tenants) -> None:  # type: ignore[no-untyped-def]
    a, b, site, ids = two_tenants
    foreign = [
        ("GET", f"/bookings/{ids['booking']}", None),
        ("POST", f"/bookings/{ids['booking']}/cancel", {}),
        ("POST", f"/bookings/{ids['booking']}/start", None),
        ("POST", f"/bookings/{ids['booking']}/stop", None),
        ("GET", f"/bookings/{ids['booking']}/commands", None),
        ("GET", f"/customers/{ids['customer']}", None),
        ("GET", f"/customers/{ids['customer']}/tokens", None),
        ("POST", f"/customers/{ids['customer']}/tokens", {}),
        ("GET", f"/groups/{ids['group']}", None),
        ("GET", f"/groups/{ids['group']}/tokens", None),
        ("POST", f"/groups/{ids['group']}/tokens/bulk", {"count": 1}),
        ("POST", "/bookings", booking_body(site, 1, token_strategy="driver_token", customer_id=ids["customer"])),
        ("POST", "/bookings", booking_body(site, 1, token_strategy="driver_token", token_id=ids["token"])),
        ("POST", "/bookings", booking_body(site, 1, token_strategy="group_token", fleet_group_id=ids["group"])),
    ]
    for method, path, body in foreign:
        r = b.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert set(r.json()) == {"error"}
    # Lists show only one's own.
    assert all(x["id"] != ids["booking"] for x in b.get("/bookings").json()["bookings"])
    assert b.get("/customers").json()["customers"] == []
    assert b.get("/groups").json()["groups"] == []
    # And nothing B did changed A's data.
    assert a.get(f"/bookings/{ids['booking']}").json()["status"] == "REQUESTED"
    assert a.get(f"/groups/{ids['group']}").json()["token_count"] == 0
    assert len(a.get(f"/customers/{ids['customer']}/tokens").json()["tokens"]) == 2  # app token + card
