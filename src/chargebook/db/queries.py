"""Queries whose SQL differs by dialect."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def claim(session: AsyncSession, query: Select[T], limit: int) -> list[T]:
    """Claim due rows for this worker.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several workers split the work and none waits.
    SQLite: the write transaction (``BEGIN IMMEDIATE``) already excludes every other writer,
    so a plain select is a claim; other workers queue on the lock and then see the rows moved.
    """
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    result = await session.scalars(query.limit(limit))
    return list(result.all())

