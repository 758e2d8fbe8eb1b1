"""The database-backed sliding log, on SQLite and PostgreSQL, with the clock passed in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from chargebook.db.engine import Database
from chargebook.db.models import RateLimitHit
from chargebook.db.rate_limit_log import PRUNE_BATCH
from chargebook.services.clients import create_client
from chargebook.services.clock import utcnow
from chargebook.services.rate_limits import SqlRateLimiter

T0 = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _client(db: Database, limit: int, quota: int) -> str:
    client, _ = await create_client(db, "limited", rate_limit_per_minute=limit, monthly_quota=quota)
    return client.id


async def test_the_window_slides_and_frees_a_slot_exactly_60_s_after_a_hit(db: Database) -> None:
    limiter = SqlRateLimiter(db)
    client = await _client(db, 3, 100)
    seen = [await limiter.check_request(client, 3, 100, at(s)) for s in (0, 10, 20)]
    assert [d.admitted for d in seen] == [True, True, True]
    assert [d.minute_remaining for d in seen] == [2, 1, 0]
    assert all(d.minute_reset == at(60) for d in seen)  # the first hit leaves the window then

    refused = await limiter.check_request(client, 3, 100, at(30))
    assert (refused.admitted, refused.refused_by, refused.retry_after) == (False, "minute", 30)
    assert refused.minute_reset == at(60) and refused.quota_used == 3
    assert (await limiter.check_request(client, 3, 100, at(59.999))).retry_after == 1

    freed = await limiter.check_request(client, 3, 100, at(60))
    assert freed.admitted and freed.minute_remaining == 0 and freed.minute_reset == at(70)
    assert freed.quota_used == 4  # the three refusals counted nothing
    assert not (await limiter.check_request(client, 3, 100, at(69))).admitted
    assert (await limiter.check_request(client, 3, 100, at(70))).admitted


async def test_a_lower_limit_counts_the_hits_already_in_the_window(db: Database) -> None:
    limiter = SqlRateLimiter(db)
    client = await _client(db, 5, 100)
    for s in range(5):
        assert (await limiter.check_request(client, 5, 100, at(s))).admitted
    # The operator lowers the limit to 2: the slot frees when the 2nd most recent hit leaves.
    refused = await limiter.check_request(client, 2, 100, at(10))
    assert not refused.admitted and refused.minute_reset == at(63) and refused.retry_after == 53
    assert not (await limiter.check_request(client, 2, 100, at(62.5))).admitted
    assert (await limiter.check_request(client, 2, 100, at(63))).admitted


async def test_the_quota_runs_out_in_december_and_starts_again_on_1_january(db: Database) -> None:
    limiter = SqlRateLimiter(db)
    client = await _client(db, 100, 3)
    eve = datetime(2026, 12, 31, 23, 59, 0, tzinfo=UTC)
    for s in (0, 10, 20):
        assert (await limiter.check_request(client, 100, 3, eve + timedelta(seconds=s))).admitted
    spent = await limiter.check_request(client, 100, 3, eve + timedelta(seconds=30))
    assert (spent.admitted, spent.refused_by, spent.retry_after) == (False, "month", 30)
    assert spent.month_reset == datetime(2027, 1, 1, tzinfo=UTC) and spent.quota_remaining == 0
    assert spent.headers()["X-Quota-Reset"] == "2027-01-01T00:00:00Z"
    assert spent.headers()["X-RateLimit-Limit"] == "100"  # the minute's, whatever the month says

    new_year = await limiter.check_request(client, 100, 3, datetime(2027, 1, 1, tzinfo=UTC))
    assert new_year.admitted and new_year.quota_used == 1
    assert new_year.month_reset == datetime(2027, 2, 1, tzinfo=UTC)
    # The minute window does not care about months: the hits at 23:59:10 and :20 still count.
    assert new_year.minute_remaining == 100 - 2 - 1
    assert await limiter.month_usage([client], datetime(2027, 1, 5, tzinfo=UTC)) == {client: 1}
    assert await limiter.month_usage([client], eve) == {client: 3}


async def test_expired_hits_are_pruned_in_batches(db: Database) -> None:
    limiter = SqlRateLimiter(db)
    client = await _client(db, 1000, 10_000)
    for s in range(200):  # one a second for 200 s: at most 60 in the window at any time
        decision = await limiter.check_request(client, 1000, 10_000, at(s))
        assert decision.admitted and decision.minute_remaining == 1000 - min(s + 1, 60)
    async with db.read() as session:
        stored = await session.scalar(
            select(func.count()).select_from(RateLimitHit).where(RateLimitHit.client_id == client)
        )
    assert 60 <= stored <= 60 + PRUNE_BATCH


async def test_checks_from_several_processes_take_turns(database_url: str) -> None:
    """Two engines (as two API processes would have), 60 checks at once, limit 20."""
    engines = [Database(database_url, pool_size=10), Database(database_url, pool_size=10)]
    try:
        client = await _client(engines[0], 20, 1000)
        limiters = [SqlRateLimiter(e) for e in engines]
        decisions = await asyncio.gather(
            *(limiters[i % 2].check_request(client, 20, 1000, utcnow()) for i in range(60))
        )
        admitted = [d for d in decisions if d.admitted]
        assert len(admitted) == 20
        assert sorted(d.quota_used for d in admitted) == list(range(1, 21))
        assert sorted(d.minute_remaining for d in admitted) == list(range(20))
        assert all(d.refused_by == "minute" and d.retry_after for d in decisions if not d.admitted)
        assert await limiters[1].month_usage([client], utcnow()) == {client: 20}
    finally:
        for e in engines:
            await e.dispose()
