"""The Redis backend: the `limits` library's moving window for the minute, a counter per
month. Runs against a real Redis (skipped locally when none is reachable)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis

from chargebook.domain.errors import Unavailable
from chargebook.domain.rate_limits import iso_second, month_period, month_reset
from chargebook.services.clock import utcnow
from chargebook.services.rate_limits_redis import RedisRateLimiter
from tests.redis_support import REDIS_URL, delete_prefix, require_redis, unique_prefix


@pytest.fixture
async def limiter() -> AsyncIterator[RedisRateLimiter]:
    url = require_redis()
    prefix = unique_prefix()
    limiter = RedisRateLimiter(url, key_prefix=prefix)
    yield limiter
    await limiter.close()
    delete_prefix(prefix)


async def test_the_minute_admits_the_limit_then_refuses_until_the_oldest_leaves(limiter: RedisRateLimiter) -> None:
    now = utcnow()
    seen = [await limiter.check_request("cli_a", 3, 100, now) for _ in range(3)]
    assert [d.admitted for d in seen] == [True, True, True]
    assert [d.minute_remaining for d in seen] == [2, 1, 0]
    assert [d.quota_used for d in seen] == [1, 2, 3]
    refused = await limiter.check_request("cli_a", 3, 100, utcnow())
    assert (refused.admitted, refused.refused_by, refused.quota_used) == (False, "minute", 3)
    assert refused.retry_after is not None and 58 <= refused.retry_after <= 60
    assert now + timedelta(seconds=58) <= refused.minute_reset <= now + timedelta(seconds=62)
    assert refused.message == f"Rate limit exceeded. Retry after {refused.retry_after} seconds."
    # Another client has a window of its own.
    assert (await limiter.check_request("cli_b", 3, 100, utcnow())).minute_remaining == 2


async def test_the_quota_counts_per_utc_month(limiter: RedisRateLimiter) -> None:
    # The month's counter expires a week after the month ends, so use this month and the next.
    next_month = month_reset(utcnow())
    eve = next_month - timedelta(seconds=30)
    assert [(await limiter.check_request("cli_q", 100, 2, eve)).admitted for _ in range(2)] == [True, True]
    spent = await limiter.check_request("cli_q", 100, 2, eve)
    assert (spent.admitted, spent.refused_by, spent.retry_after) == (False, "month", 30)
    headers = spent.headers()
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("100", "98")
    assert (headers["X-Quota-Limit"], headers["X-Quota-Remaining"]) == ("2", "0")
    assert headers["X-Quota-Reset"] == iso_second(next_month)
    new_month = await limiter.check_request("cli_q", 100, 2, next_month)
    assert new_month.admitted and new_month.quota_used == 1
    assert await limiter.month_usage(["cli_q", "cli_none"], eve) == {"cli_q": 2, "cli_none": 0}
    plain = redis.Redis.from_url(REDIS_URL)
    ttl = plain.ttl(limiter.month_key("cli_q", month_period(next_month)))
    plain.close()
    expires = utcnow() + timedelta(seconds=ttl)  # a week after that month ends
    assert abs(expires - (month_reset(next_month) + timedelta(days=7))) < timedelta(seconds=5)


async def test_concurrent_checks_admit_exactly_the_limit(limiter: RedisRateLimiter) -> None:
    other = RedisRateLimiter(REDIS_URL, key_prefix=limiter.prefix)  # as a second process would
    try:
        decisions = await asyncio.gather(
            *((limiter if i % 2 else other).check_request("cli_c", 10, 1000, utcnow()) for i in range(40))
        )
    finally:
        await other.close()
    admitted = [d for d in decisions if d.admitted]
    assert len(admitted) == 10 and sorted(d.quota_used for d in admitted) == list(range(1, 11))
    assert all(d.refused_by == "minute" and d.retry_after for d in decisions if not d.admitted)
    assert await limiter.month_usage(["cli_c"], utcnow()) == {"cli_c": 10}


async def test_an_unreachable_redis_is_a_503_never_an_unlimited_request() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", key_prefix=unique_prefix())
    try:
        with pytest.raises(Unavailable):
            await limiter.check_request("cli_x", 10, 100, utcnow())
    finally:
        await limiter.close()
