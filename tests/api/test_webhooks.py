"""The webhooks API over HTTP against a real server: validation, tenancy, listing with attempts."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from chargebook.domain.webhooks import MAX_ENDPOINTS_PER_CLIENT
from chargebook.services.webhook_deliveries import DeliveryPolicy
from chargebook.settings import Settings
from chargebook.worker.deliver_webhooks import deliver_due_webhooks
from tests.conftest import LiveServer
from tests.factories import api, booking_body, make_client, make_site, with_db
from tests.receiver import Receiver

NOWHERE = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens, connections are refused


@pytest.fixture
def http(live: LiveServer, database_url: str):  # type: ignore[no-untyped-def]
    _, key = make_client(database_url)
    with api(live.client_base, key) as client:
        yield client


def _create(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/webhooks", json={"url": NOWHERE, "event_types": ["*"], **body})


def test_register_read_list_rotate_delete(http: httpx.Client) -> None:
    r = _create(http, event_types=["booking.confirmed", "booking.cancelled"], description="ops")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_") and created["id"].startswith("whk_")
    assert (created["url"], created["event_types"], created["description"]) == (
        NOWHERE, ["booking.confirmed", "booking.cancelled"], "ops")
    assert created["created_at"].endswith("Z")

    shown = http.get(f"/webhooks/{created['id']}").json()
    assert "secret" not in shown and shown["url"] == NOWHERE
    listed = http.get("/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]

    rotated = http.post(f"/webhooks/{created['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != created["secret"]

    ping = http.post(f"/webhooks/{created['id']}/test")
    assert ping.status_code == 202
    assert (ping.json()["event_type"], ping.json()["status"], ping.json()["attempts"]) == ("ping", "pending", [])

    assert http.delete(f"/webhooks/{created['id']}").status_code == 204
    assert http.get(f"/webhooks/{created['id']}").status_code == 404
    assert http.get(f"/webhooks/{created['id']}/deliveries").status_code == 404
    assert http.get("/webhooks").json() == {"webhooks": []}


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://example.com/x"}, "url"),
    ({"url": "example.com/hooks"}, "url"),
    ({"url": "https://user:secret@example.com/"}, "url"),
    ({"url": "https://example.com/" + "a" * 2100}, "url"),
    ({"url": 42}, "url"),
    ({"event_types": []}, "event_types"),
    ({"event_types": ["booking.confirmed", "booking.exploded"]}, "event_types"),
    ({"event_types": "booking.confirmed"}, "event_types"),
    ({"description": "x" * 201}, "description"),
    ({"secret": "mine"}, "secret"),
])
def test_bad_input_is_400_naming_the_field(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    r = _create(http, **body)
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]
    assert http.get("/webhooks").json() == {"webhooks": []}  # nothing written


def test_missing_fields_and_bad_json(http: httpx.Client) -> None:
    r = http.post("/webhooks", json={"event_types": ["*"]})
    assert r.status_code == 400 and "url" in r.json()["error"]
    r = http.post("/webhooks", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()


def test_a_client_sees_only_its_own_endpoints(live: LiveServer, database_url: str, http: httpx.Client) -> None:
    mine = _create(http).json()["id"]
    _, other_key = make_client(database_url)
    with api(live.client_base, other_key) as other:
        assert other.get("/webhooks").json() == {"webhooks": []}
        for method, path in [("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/test"),
                             ("POST", "/rotate-secret")]:
            r = other.request(method, f"/webhooks/{mine}{path}")
            assert r.status_code == 404 and r.json() == {"error": f"Webhook not found: {mine}"}, (method, path)
    assert http.get(f"/webhooks/{mine}").status_code == 200  # still there


def test_at_most_the_maximum_number_of_endpoints(http: httpx.Client) -> None:
    for _ in range(MAX_ENDPOINTS_PER_CLIENT):
        assert _create(http).status_code == 201
    r = _create(http)
    assert r.status_code == 409 and "webhooks" in r.json()["error"]


def test_bad_cursor_and_limit(http: httpx.Client) -> None:
    hook = _create(http).json()["id"]
    assert http.get(f"/webhooks/{hook}/deliveries", params={"cursor": "!!"}).status_code == 400
    r = http.get(f"/webhooks/{hook}/deliveries", params={"limit": 0})
    assert r.status_code == 400 and "limit" in r.json()["error"]


def test_deliveries_list_every_attempt_newest_first_with_paging(fresh_database_url: str) -> None:
    receiver = Receiver(answer=lambda n: 503 if n == 0 else 200).start()
    policy = DeliveryPolicy(max_attempts=50, backoff_seconds=0.05,  # the dead one never gives up here
                            allow_private_networks=True)
    try:
        with LiveServer(Settings(database_url=fresh_database_url, webhook_allow_private_networks=True)) as live:
            _, key = make_client(fresh_database_url)
            site = make_site(fresh_database_url)
            with api(live.client_base, key) as http:
                good = http.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]}).json()["id"]
                dead = http.post("/webhooks", json={"url": NOWHERE, "event_types": ["booking.requested"]}).json()
                booking = http.post("/bookings", json=booking_body(site)).json()
                assert http.post(f"/webhooks/{good}/test").status_code == 202

                deadline = time.monotonic() + 30
                while len([r for r in receiver.snapshot() if r.answered == 200]) < 2 and time.monotonic() < deadline:
                    with_db(fresh_database_url, lambda db: deliver_due_webhooks(db, policy))
                    time.sleep(0.05)

                page1 = http.get(f"/webhooks/{good}/deliveries", params={"limit": 1}).json()
                assert [d["event_type"] for d in page1["deliveries"]] == ["ping"]
                page2 = http.get(f"/webhooks/{good}/deliveries",
                                 params={"limit": 1, "cursor": page1["next_cursor"]}).json()
                (requested,) = page2["deliveries"]
                assert (requested["event_type"], requested["booking_id"]) == ("booking.requested", booking["id"])
                page3 = http.get(f"/webhooks/{good}/deliveries",
                                 params={"limit": 1, "cursor": page2["next_cursor"]}).json()
                assert page3 == {"deliveries": [], "next_cursor": None}

                both = [page1["deliveries"][0], requested]
                assert all(d["status"] == "delivered" and d["delivered_at"] for d in both)
                codes = sorted([a["status_code"] for a in d["attempts"]] for d in both)
                assert codes == [[200], [503, 200]]  # whichever went first met the 503
                for d in both:
                    assert all(a["at"].endswith("Z") and a["duration_ms"] >= 0 and a["error"] is None
                               for a in d["attempts"])

                (refused,) = http.get(f"/webhooks/{dead['id']}/deliveries").json()["deliveries"]
                assert refused["status"] == "pending" and refused["next_attempt_at"].endswith("Z")
                assert refused["attempts"] and refused["attempts"][0]["status_code"] is None
                assert refused["attempts"][0]["error"] == "connection_refused"  # a word, not the library's text
    finally:
        receiver.close()
