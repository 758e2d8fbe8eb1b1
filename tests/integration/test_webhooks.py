"""Webhooks end to end: chargebook, its worker, the CPO simulator and a webhook receiver, all
real servers on 127.0.0.1. The receiver fails (500), then goes away (connection refused), then
comes back, while a booking walks REQUESTED → … → COMPLETED. Every event must arrive, in
order, signed, and the deliveries API must show every failed and successful attempt.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from chargebook.cpo_sim import SimulatorServer
from chargebook.domain.webhooks import signature
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer, WorkerThread
from tests.factories import make_client, with_db
from tests.integration.test_ocpi_loop import Loop, sim_config
from tests.receiver import Received, Receiver

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
LIFECYCLE = ["booking.requested", "booking.pending", "booking.confirmed", "booking.attending", "booking.completed"]


def verification_snippet() -> str:
    """The receiver-side check exactly as docs/webhooks.md prints it."""
    text = DOCS.read_text()
    after = text.split("<!-- verification snippet", 1)[1]
    return re.search(r"```python\n(.*?)```", after, re.DOTALL).group(1)  # type: ignore[union-attr]


def verifies(snippet: str, secret: str, headers: dict[str, str], body: bytes) -> bool:
    scope: dict[str, Any] = {"secret": secret, "headers": headers, "body": body}
    exec(snippet, scope)  # noqa: S102 - the documented snippet is what is under test
    return bool(scope["valid"])


@pytest.fixture
def loop(fresh_database_url: str) -> Iterator[Loop]:
    settings = Settings(database_url=fresh_database_url, worker_interval_seconds=0.1,
                        webhook_allow_private_networks=True,
                        webhook_backoff_seconds=0.1, webhook_max_attempts=30)
    with LiveServer(settings) as live, WorkerThread(live.settings):
        sim = SimulatorServer(sim_config())
        sim.start()
        try:
            me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)

            async def connect(db):  # type: ignore[no-untyped-def]
                party = await ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None)
                return await ocpi_catalogue.sync_party(db, party)

            with_db(fresh_database_url, connect)
            _, key = make_client(fresh_database_url, reservation_fee=Decimal("2.50"))
            loop = Loop(live, sim, fresh_database_url, key)
            yield loop
            loop.http.close()
            loop.admin.close()
        finally:
            sim.stop()


def test_every_event_arrives_in_order_through_failures(loop: Loop) -> None:
    healthy = threading.Event()
    receiver = Receiver(answer=lambda n: 200 if healthy.is_set() else 500).start()
    try:
        r = loop.http.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
        assert r.status_code == 201, r.text
        hook, secret = r.json()["id"], r.json()["secret"]

        (location_id, evse_uid), = loop.bookable()
        booking = loop.book(location_id, evse_uid)
        assert len(receiver.wait_until(lambda got: len(got) >= 2)) >= 2  # two 500s
        receiver.stop()  # now unreachable: connections are refused
        done = loop.wait_for(booking["id"], {"COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"})
        assert done["status"] == "COMPLETED", done

        def refused_attempts() -> list[dict[str, Any]]:
            deliveries = loop.http.get(f"/webhooks/{hook}/deliveries").json()["deliveries"]
            return [a for d in deliveries for a in d["attempts"] if a["error"]]

        deadline = time.monotonic() + 60
        while not refused_attempts() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert refused_attempts(), "no attempt met the stopped receiver"
        healthy.set()
        receiver.start()  # back, on the same port

        def acknowledged(got: list[Received]) -> list[Received]:
            return [g for g in got if g.answered == 200]

        got = receiver.wait_until(lambda got: len(acknowledged(got)) >= len(LIFECYCLE), seconds=90)
        acked = acknowledged(got)
        event_ids = [g.headers["webhook-id"] for g in acked]
        assert len(event_ids) == len(set(event_ids)) == len(LIFECYCLE)  # each event acknowledged once
        events = [orjson.loads(g.body) for g in acked]
        assert [e["type"] for e in events] == LIFECYCLE
        assert {e["data"]["booking"]["id"] for e in events} == {booking["id"]}
        assert [e["data"]["booking"]["status"] for e in events] == [t.split(".")[1].upper() for t in LIFECYCLE]
        # In order: once a later event was sent, no earlier one is ever sent again.
        sequence = [g.headers["webhook-id"] for g in got]
        firsts = [sequence.index(i) for i in event_ids]
        lasts = [len(sequence) - 1 - sequence[::-1].index(i) for i in event_ids]
        assert all(lasts[k] < firsts[k + 1] for k in range(len(event_ids) - 1)), sequence
        # The last event carries the booking exactly as the API shows it now.
        assert events[-1]["data"]["booking"] == loop.http.get(f"/bookings/{booking['id']}").json()

        snippet = verification_snippet()
        for g in got:  # every request, failed or not, verifies with the documented three lines
            assert verifies(snippet, secret, g.headers, g.body)
            assert g.headers["webhook-signature"] == signature(
                secret, g.headers["webhook-id"], int(g.headers["webhook-timestamp"]), g.body)
        assert not verifies(snippet, secret, got[-1].headers, got[-1].body + b" ")  # tampered body
        stale = int(time.time()) - 3600  # a replay from an hour ago, correctly signed: refused
        old = dict(got[-1].headers, **{"webhook-timestamp": str(stale), "webhook-signature": signature(
            secret, got[-1].headers["webhook-id"], stale, got[-1].body)})
        assert not verifies(snippet, secret, old, got[-1].body)
        # Retries sent the identical bytes.
        first_event = [g for g in got if g.headers["webhook-id"] == event_ids[0]]
        assert len({g.body for g in first_event}) == 1 and len(first_event) >= 3

        # The receiver answered before the worker recorded the last outcome: poll until it has.
        deadline = time.monotonic() + 30
        while True:
            deliveries = loop.http.get(f"/webhooks/{hook}/deliveries").json()["deliveries"]
            if all(d["status"] == "delivered" for d in deliveries) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [d["event_type"] for d in deliveries] == LIFECYCLE[::-1]  # newest first
        assert [d["status"] for d in deliveries] == ["delivered"] * len(LIFECYCLE)
        requested = deliveries[-1]["attempts"]
        assert [a["status_code"] for a in requested[:2]] == [500, 500]
        assert any(a["status_code"] is None and a["error"] for a in requested)
        assert requested[-1]["status_code"] == 200
        assert all(a["status_code"] != 200 for a in requested[:-1])
        for later in deliveries[:-1]:
            assert [a["status_code"] for a in later["attempts"]] == [200]
    finally:
        receiver.close()
