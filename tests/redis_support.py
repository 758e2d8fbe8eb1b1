"""Redis for tests: a reachable server (skip locally when there is none; fail under CI=true),
and a key prefix of each test's own that is deleted afterwards."""

from __future__ import annotations

import os
import secrets

import pytest

REDIS_URL = os.environ.get("CHARGEBOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is unreachable under CI=true: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return REDIS_URL


def unique_prefix() -> str:
    return f"cbtest{secrets.token_hex(5)}"


def delete_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()
