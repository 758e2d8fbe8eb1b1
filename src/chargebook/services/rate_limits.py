"""Rate limits: which backend keeps the state, and the check every client request passes.

``check_request`` asks the backend for the client's standing (recording the request when it
fits) and ``domain.rate_limits.decide`` turns that into a :class:`Decision`. Two backends:

* ``SqlRateLimiter``, the default: the application's database (an exact sliding log per
  client, ``db/rate_limit_log.py``), so limits hold across API processes with nothing else
  to run.
* ``RedisRateLimiter`` (``rate_limits_redis.py``) when ``CHARGEBOOK_REDIS_URL`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from chargebook.db import rate_limit_log
from chargebook.db.engine import Database
from chargebook.domain.rate_limits import Decision, decide, month_period
from chargebook.settings import Settings


class RateLimiter(Protocol):
    async def check_request(
        self, client_id: str, minute_limit: int, quota: int, now: datetime
    ) -> Decision: ...

    async def month_usage(self, client_ids: Sequence[str], now: datetime) -> dict[str, int]: ...

    async def close(self) -> None: ...


def limiter_for(settings: Settings, db: Database) -> RateLimiter:
    """Redis when ``CHARGEBOOK_REDIS_URL`` is set, else the application's database."""
    if settings.redis_url:
        # Imported here: the redis and limits libraries load only where Redis is configured.
        from chargebook.services.rate_limits_redis import RedisRateLimiter

        return RedisRateLimiter(settings.redis_url, key_prefix=settings.redis_key_prefix)
    return SqlRateLimiter(db)


class SqlRateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def check_request(
        self, client_id: str, minute_limit: int, quota: int, now: datetime
    ) -> Decision:
        standing = await rate_limit_log.record_request(
            self.db, client_id, month_period(now), now, minute_limit, quota
        )
        return decide(
            now=now, minute_limit=minute_limit, quota=quota, used=standing.used,
            in_window=standing.in_window, oldest=standing.oldest, edge=standing.edge,
        )

    async def month_usage(self, client_ids: Sequence[str], now: datetime) -> dict[str, int]:
        return await rate_limit_log.month_usage(self.db, list(client_ids), month_period(now))

    async def close(self) -> None:
        """The database belongs to the app; nothing of our own to release."""
