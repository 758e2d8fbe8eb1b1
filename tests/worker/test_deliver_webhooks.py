"""The delivery loop against a real receiver on 127.0.0.1: several workers at once never send
one delivery twice, every POST is signed over the stored bytes, and a receiver that trickles
its answer is cut off at the attempt's deadline."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import orjson
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import WebhookDelivery
from chargebook.domain.webhooks import signature
from chargebook.services import webhooks
from chargebook.services.clients import create_client
from chargebook.services.webhook_deliveries import DeliveryPolicy
from chargebook.worker.deliver_webhooks import deliver_due_webhooks
from tests.receiver import Receiver
from tests.trickle import Trickler


async def test_concurrent_workers_send_each_delivery_once(fresh_db: Database, fresh_database_url: str) -> None:
    receiver = Receiver().start()
    try:
        client, _ = await create_client(fresh_db, "hooks")
        endpoint = await webhooks.create_endpoint(fresh_db, client.id, url=receiver.url, event_types=["*"],
                                                   allow_private_networks=True)
        for _ in range(60):
            await webhooks.send_test(fresh_db, client.id, endpoint.id)
        workers = [Database(fresh_database_url, pool_size=3) for _ in range(3)]
        try:
            sent = await asyncio.gather(*(deliver_due_webhooks(w, DeliveryPolicy(allow_private_networks=True)) for w in workers))
            assert sum(sent) == 60
            assert await deliver_due_webhooks(workers[0], DeliveryPolicy(allow_private_networks=True)) == 0  # nothing left
        finally:
            for w in workers:
                await w.dispose()
        got = receiver.snapshot()
        ids = Counter(r.headers["webhook-id"] for r in got)
        assert len(ids) == 60 and set(ids.values()) == {1}
        async with fresh_db.read() as session:
            rows = list(await session.scalars(select(WebhookDelivery)))
        assert {r.status for r in rows} == {"delivered"}
        stored = {r.event_id: r.body for r in rows}
        now = int(datetime.now(UTC).timestamp())
        for r in got:
            assert r.body == stored[r.headers["webhook-id"]]  # the exact stored bytes
            assert orjson.loads(r.body)["type"] == "ping"
            ts = int(r.headers["webhook-timestamp"])
            assert abs(now - ts) < 120
            assert r.headers["webhook-signature"] == signature(endpoint.secret, r.headers["webhook-id"], ts, r.body)
            assert r.headers["content-type"] == "application/json"
    finally:
        receiver.close()


async def test_a_receiver_that_trickles_is_cut_off_at_the_attempts_deadline(fresh_db: Database) -> None:
    """httpx's timeouts are per read and every read gets a byte: only the attempt's own
    deadline ends it. The attempt is recorded as ``timeout``, the delivery waits for a retry,
    and the connection is dropped."""
    trickler = Trickler().start()
    try:
        client, _ = await create_client(fresh_db, "trickled")
        endpoint = await webhooks.create_endpoint(
            fresh_db, client.id, url=f"{trickler.url}/hooks", event_types=["*"], allow_private_networks=True
        )
        await webhooks.send_test(fresh_db, client.id, endpoint.id)
        policy = DeliveryPolicy(timeout_seconds=1.0, allow_private_networks=True)
        assert await deliver_due_webhooks(fresh_db, policy) == 1
        (view,) = await webhooks.list_deliveries(fresh_db, client.id, endpoint.id)
        assert view.delivery.status == "pending" and view.delivery.next_attempt_at is not None
        assert [(a.status_code, a.error) for a in view.attempts] == [(None, "timeout")]
        requests, _ = trickler.snapshot()
        assert len(requests) == 1
        deadline = time.monotonic() + 30
        while trickler.snapshot()[1] and time.monotonic() < deadline:  # the trickler sees the hang-up
            await asyncio.sleep(0.05)
        assert trickler.snapshot()[1] == 0
    finally:
        trickler.close()
