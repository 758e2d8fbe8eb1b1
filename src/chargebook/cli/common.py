"""What every command shares: settings, the database, running a coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console

from chargebook.db.engine import Database
from chargebook.settings import Settings

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return Settings()


def run_with_db(fn: Callable[[Database], Awaitable[T]], cfg: Settings | None = None) -> T:
    cfg = cfg or settings()

    async def main() -> T:
        db = Database(cfg.database_url, pool_size=2)
        try:
            return await fn(db)
        finally:
            await db.dispose()

    return asyncio.run(main())
