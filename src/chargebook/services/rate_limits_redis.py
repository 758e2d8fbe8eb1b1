"""Rate limits kept in Redis (``CHARGEBOOK_REDIS_URL``).

The minute is the ``limits`` library's moving window (a sliding log: a Redis list of the
admitted requests' times, checked and pushed by one Lua script, trimmed to the limit). The
month is a plain counter per client and month, ``<prefix>:quota:<client>:<YYYY-MM>``, that
expires a few days after its month ends.

Per request: read the month's count; if the quota is spent, refuse. Else take a slot in
the window (refused: nothing was counted). Then count the month; in the rare race where
another process took the last request of the month meanwhile, give the count back and
refuse (the window slot stays taken, which only matters in the minute the quota ran out).

The library keys the window by our prefix, ``minute`` and the client id (not by the limit),
so changing a client's limit keeps its window. Redis errors become ``Unavailable`` (a 503):
a request is never served unlimited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import redis.asyncio as redis
from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from chargebook.domain.errors import Unavailable
from chargebook.domain.rate_limits import WINDOW, Decision, decide, month_period, month_reset

MONTH_KEY_GRACE = timedelta(days=7)  # keep last month's count a while for operators


class _PerMinute(RateLimitItemPerMinute):
    """The library's per-minute item, keyed without the amount (see the module docstring)."""

    def key_for(self, *identifiers: bytes | str | float) -> str:
        return "/".join(str(i) for i in identifiers)


class RedisRateLimiter:
    def __init__(self, url: str, *, key_prefix: str = "chargebook") -> None:
        self.prefix = key_prefix
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.storage = RedisStorage(
            "async+" + url, implementation="redispy", key_prefix=f"{key_prefix}:limits",
            wrap_exceptions=True,
        )
        self.window = MovingWindowRateLimiter(self.storage)

    def month_key(self, client_id: str, period: str) -> str:
        return f"{self.prefix}:quota:{client_id}:{period}"

    async def check_request(
        self, client_id: str, minute_limit: int, quota: int, now: datetime
    ) -> Decision:
        try:
            return await self._check(client_id, minute_limit, quota, now)
        except Exception as exc:
            if _is_redis_failure(exc):
                raise Unavailable("The rate limiter is unreachable; retry shortly") from exc
            raise

    async def _check(self, client_id: str, minute_limit: int, quota: int, now: datetime) -> Decision:
        item = _PerMinute(minute_limit)
        month = self.month_key(client_id, month_period(now))
        used = int(await self.redis.get(month) or 0)
        took_slot = used < quota and await self.window.hit(item, "minute", client_id)
        stats_read = self.window.get_window_stats(item, "minute", client_id)
        if took_slot:  # count the month and read the window at once: one round trip of waiting
            counted, stats = await asyncio.gather(self._count(month, now), stats_read)
            used = counted - 1
            if used >= quota:  # another process took the month's last request meanwhile
                await self.redis.decr(month)
        else:
            stats = await stats_read
        # decide() judges the standing before this request.
        in_window = minute_limit - stats.remaining - (1 if took_slot else 0)
        if used < quota and not took_slot:
            in_window = max(in_window, minute_limit)  # the window refused it
        # The library reports when the oldest request in the window leaves it: the edge
        # when the window is full, the oldest otherwise.
        leaves = None
        if stats.remaining < minute_limit:
            leaves = datetime.fromtimestamp(stats.reset_time, UTC) - WINDOW
        return decide(
            now=now, minute_limit=minute_limit, quota=quota, used=used, in_window=in_window,
            oldest=leaves, edge=leaves,
        )

    async def _count(self, month: str, now: datetime) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(month)
            pipe.expireat(month, month_reset(now) + MONTH_KEY_GRACE)
            counted, _ = await pipe.execute()
        return int(counted)

    async def month_usage(self, client_ids: Sequence[str], now: datetime) -> dict[str, int]:
        if not client_ids:
            return {}
        period = month_period(now)
        values = await self.redis.mget([self.month_key(c, period) for c in client_ids])
        return {c: int(v or 0) for c, v in zip(client_ids, values, strict=True)}

    async def close(self) -> None:
        await self.redis.aclose()
        await self.storage.bridge.storage.aclose()  # type: ignore[attr-defined]  # limits' private client


def _is_redis_failure(exc: BaseException) -> bool:
    return isinstance(exc, (redis.RedisError, StorageError, OSError))
