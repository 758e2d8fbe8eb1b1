"""One transaction per claimed row (STYLE.md 13): a loop finds what is due, then hands each
row to its service on its own. A row whose handling fails is logged and left for the next
pass; it never rolls back or stops the rows beside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import structlog

log = structlog.get_logger("chargebook.worker")
K = TypeVar("K")


async def handle_each(loop: str, keys: Iterable[K], handle: Callable[[K], Awaitable[bool]]) -> int:
    """Run ``handle`` for each key in turn; returns how many it moved (returned True)."""
    moved = 0
    for key in keys:
        try:
            if await handle(key):
                moved += 1
        except Exception:  # noqa: BLE001 - one bad row must not stop the others
            log.exception("row failed; left for the next pass", loop=loop, row=str(key))
    return moved
