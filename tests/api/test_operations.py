"""/healthz, /readyz and /metrics: no key, outside the client API's tags, honest answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chargebook.db.engine import Database
from chargebook.db.migrate import script_revisions
from chargebook.services.operations import (
    ReadinessRules,
    WorkerIdentity,
    readiness,
    record_heartbeat,
)
from chargebook.settings import Settings
from tests.conftest import LiveServer, free_port, run
from tests.factories import api, booking_body, make_client, make_site, with_db


@pytest.fixture
def server(fresh_database_url: str) -> Iterator[LiveServer]:
    with LiveServer(Settings(database_url=fresh_database_url, worker_heartbeat_stale_seconds=30,
                                 webhook_allow_private_networks=True)) as live:
        yield live


def beat(url: str, at: datetime) -> WorkerIdentity:
    me = WorkerIdentity.of_this_process(at)
    with_db(url, lambda db: record_heartbeat(db, me, at, 0.12, 0.003))
    return me


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name}


def test_readiness_is_about_this_process_and_reports_the_worker(
    server: LiveServer, fresh_database_url: str
) -> None:
    assert httpx.get(f"{server.base}/healthz").json() == {"status": "ok"}
    # No worker at all: this process can still serve (bookings wait in REQUESTED), so it is
    # ready; the body says what is missing.
    missing = httpx.get(f"{server.base}/readyz")
    assert missing.status_code == 200
    assert missing.json() == {"status": "ready", "checks": {
        "database": {"ok": True, "detail": "reachable"},
        "schema": {"ok": True, "detail": f"at {', '.join(sorted(script_revisions()[0]))}"},
        "worker": {"ok": True, "detail": "no worker has reported (run `chargebook worker`)",
                   "heartbeat_age_seconds": None, "fresh": False, "required": False},
    }}
    beat(fresh_database_url, datetime.now(UTC) - timedelta(seconds=45))
    stale = httpx.get(f"{server.base}/readyz")
    assert stale.status_code == 200
    worker = stale.json()["checks"]["worker"]
    assert worker["detail"].startswith("newest heartbeat 4") and worker["detail"].endswith("(stale after 30 s)")
    assert 45 <= worker["heartbeat_age_seconds"] < 60 and worker["fresh"] is False
    scraped = httpx.get(f"{server.base}/metrics").text
    assert 45 <= samples(scraped, "chargebook_worker_newest_heartbeat_age_seconds")[()] < 60
    beat(fresh_database_url, datetime.now(UTC))
    ready = httpx.get(f"{server.base}/readyz").json()
    assert ready["checks"]["worker"]["fresh"] is True and ready["checks"]["worker"]["heartbeat_age_seconds"] < 5
    scraped = httpx.get(f"{server.base}/metrics").text
    assert samples(scraped, "chargebook_worker_newest_heartbeat_age_seconds")[()] < 5


def test_strict_readiness_requires_a_fresh_worker(fresh_database_url: str) -> None:
    settings = Settings(database_url=fresh_database_url, readiness_requires_worker=True,
                        worker_heartbeat_stale_seconds=30)
    with LiveServer(settings) as live:
        none = httpx.get(f"{live.base}/readyz")
        assert none.status_code == 503 and none.json()["status"] == "not ready"
        assert none.json()["checks"]["worker"] == {
            "ok": False, "detail": "no worker has reported (run `chargebook worker`)",
            "heartbeat_age_seconds": None, "fresh": False, "required": True}
        assert none.json()["checks"]["database"]["ok"] and none.json()["checks"]["schema"]["ok"]
        assert samples(httpx.get(f"{live.base}/metrics").text,
                       "chargebook_worker_newest_heartbeat_age_seconds") == {(): float("inf")}
        beat(fresh_database_url, datetime.now(UTC) - timedelta(seconds=45))
        assert httpx.get(f"{live.base}/readyz").status_code == 503
        beat(fresh_database_url, datetime.now(UTC))
        ready = httpx.get(f"{live.base}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert all(check["ok"] for check in ready.json()["checks"].values())


async def test_readiness_and_the_schema_revision(fresh_db: Database) -> None:
    (current,), known = script_revisions()  # the database is migrated to this release's head

    async def schema(head: str, known: frozenset[str]) -> tuple[bool, str]:
        rules = ReadinessRules(head=frozenset({head}), worker_stale_after=timedelta(seconds=30), known=known)
        checks = {c.name: c for c in await readiness(fresh_db, rules, datetime.now(UTC))}
        assert checks["database"].ok
        return checks["schema"].ok, checks["schema"].detail

    assert await schema(current, known) == (True, f"at {current}")
    # A release newer than the database: not ready until `chargebook db upgrade`.
    assert await schema("next", known | {"next"}) == (
        False, f"database at {current}, this release needs next: run `chargebook db upgrade`")
    # An older release on a database a newer release migrated (upgrades migrate first, then
    # roll the processes): still ready, and it says so.
    assert await schema("prev", (known - {current}) | {"prev"}) == (
        True, f"at {current}, newer than this release's prev (a newer release migrated it)")


def test_readiness_names_an_unreachable_database() -> None:
    async def check() -> list[tuple[str, bool]]:
        db = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing_listens_here")
        try:
            strict = ReadinessRules(head=frozenset({"any"}), worker_stale_after=timedelta(seconds=30),
                                    require_worker=True)
            return [(c.name, c.ok) for c in await readiness(db, strict, datetime.now(UTC))]
        finally:
            await db.dispose()

    assert run(check()) == [("database", False), ("schema", False), ("worker", False)]


def test_metrics_by_route_template_and_from_the_database(server: LiveServer, fresh_database_url: str) -> None:
    site = make_site(fresh_database_url)
    _, key = make_client(fresh_database_url)
    before = samples(httpx.get(f"{server.base}/metrics").text, "chargebook_http_requests_total")
    with api(server.client_base, key) as http:
        for n in range(2):
            assert http.post("/bookings", json=booking_body(site, n)).status_code == 202
        assert http.get("/bookings/no-such-booking").status_code == 404
        assert http.get("/no/such/endpoint").status_code == 404
    worker = beat(fresh_database_url, datetime.now(UTC) - timedelta(seconds=3))
    scraped = httpx.get(f"{server.base}/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    after = samples(scraped.text, "chargebook_http_requests_total")

    def delta(method: str, route: str, status: str) -> float:
        key = (("method", method), ("route", route), ("status", status))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("POST", "/api/v1/client/bookings", "202") == 2
    assert delta("GET", "/api/v1/client/bookings/{booking_id}", "404") == 1
    assert delta("GET", "unmatched", "404") == 1
    assert not any(dict(k)["route"].endswith("no-such-booking") for k in after)  # never a raw path
    live = samples(scraped.text, "chargebook_live_bookings")
    assert live == {(("status", s),): n for s, n in
                    [("REQUESTED", 2.0), ("PENDING", 0.0), ("CONFIRMED", 0.0), ("ATTENDING", 0.0)]}
    ages = samples(scraped.text, "chargebook_worker_heartbeat_age_seconds")
    labels = (("hostname", worker.hostname), ("pid", str(worker.pid)), ("worker", worker.id))
    assert 3 <= ages[labels] < 60
    assert samples(scraped.text, "chargebook_worker_heartbeat_pass_seconds")[labels] == 0.12
    assert samples(scraped.text, "chargebook_database_figures_ok") == {(): 1.0}
    assert samples(scraped.text, "chargebook_webhook_deliveries_pending") == {(): 0.0}
    assert samples(scraped.text, "chargebook_webhook_oldest_pending_age_seconds") == {(): 0.0}


def test_metrics_show_webhook_deliveries_waiting(server: LiveServer, fresh_database_url: str) -> None:
    """No worker runs here, so a queued delivery waits: /metrics shows it, and its age grows."""
    _, key = make_client(fresh_database_url)
    with api(server.client_base, key) as http:
        hook = http.post("/webhooks", json={"url": "http://127.0.0.1:9/none", "event_types": ["*"]})
        assert hook.status_code == 201, hook.text
        for _ in range(2):
            assert http.post(f"/webhooks/{hook.json()['id']}/test").status_code == 202
    time.sleep(0.2)
    scraped = httpx.get(f"{server.base}/metrics").text
    assert samples(scraped, "chargebook_webhook_deliveries_pending") == {(): 2.0}
    assert 0.2 <= samples(scraped, "chargebook_webhook_oldest_pending_age_seconds")[()] < 60
    assert samples(scraped, "chargebook_webhook_deliveries_given_up") == {(): 0.0}


def test_operations_endpoints_are_outside_the_client_api(server: LiveServer) -> None:
    schema = httpx.get(f"{server.base}/openapi.json", timeout=30).json()  # built on first request
    for path in ("/healthz", "/readyz", "/metrics"):
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["operations"]
        assert "security" not in operation
    client_tags = {tag for path, item in schema["paths"].items() if path.startswith("/api/v1/client")
                   for op in item.values() for tag in op.get("tags", [])}
    assert "operations" not in client_tags
