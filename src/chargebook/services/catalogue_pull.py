"""Pulling a CPO's whole catalogue (OCPI 2.2.1 mod_locations.asciidoc / mod_tariffs.asciidoc
§ Sender Interface, GET list with pagination), streamed.

The next page is fetched while the current one is stored, and no more than those two pages
are held, so memory stays flat whatever the catalogue's size. A page is stored in a few
set-based statements (one upsert each for its Locations, EVSEs and Tariffs, one statement
marking EVSEs that left a Location REMOVED, one replacing their Connectors), with the same
columns ``store_location`` computes for a single object.

One CPO's bad data never stops the rest: a list item that is not an object, or an object its
model refuses, is skipped, logged with the CPO and the reason, and counted in
``chargebook_ocpi_rejected_items_total``; the pull goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar, cast

import structlog
from sqlalchemy import Table, delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import metrics
from chargebook.db.engine import Database
from chargebook.db.models import Connector, Evse, Location, Party, Tariff
from chargebook.db.queries import relax_commit, upsert
from chargebook.domain.errors import InvalidRequest
from chargebook.ocpi.client import OcpiClient
from chargebook.ocpi.client import Party as OcpiParty
from chargebook.ocpi.editions import models
from chargebook.ocpi.v221.types import ci_key, without_nulls
from chargebook.ocpi.validation import check
from chargebook.services.booking_calendars import pull_booking_locations
from chargebook.services.catalogue import (
    connector_columns,
    evse_columns,
    location_columns,
    location_search_columns,
    parse_ts,
)
from chargebook.services.clock import utcnow
from chargebook.services.party_locks import lock_party, retrying

PAGE_LIMIT = 100
Progress = Callable[[str, int, int | None], Awaitable[None] | None]
T = TypeVar("T")
log = structlog.get_logger("chargebook.ocpi.pull")

_LOCATIONS, _EVSES, _CONNECTORS = (cast(Table, m.__table__) for m in (Location, Evse, Connector))
_TARIFFS = cast(Table, Tariff.__table__)


async def sync_party(db: Database, party: Party, progress: Progress | None = None) -> dict[str, int]:
    """Pull the CPO's whole catalogue (Tariffs, then Locations), following pagination.
    Returns the objects stored per module, and ``skipped`` (items that could not be used)."""
    counts = {"locations": 0, "tariffs": 0, "skipped": 0}
    endpoints = party.endpoints or {}
    edition = models(party.version)
    # Routing headers name both ends (2.2.1 transport_and_format § Message Routing).
    async with OcpiClient(token=party.token_for_them or "",
                          to_party=OcpiParty(party.country_code, party.party_id)) as client:
        for module, model in (("tariffs", edition.Tariff), ("locations", edition.Location)):
            url = endpoints.get(f"{module}:SENDER")
            if url is None:
                continue
            seen = 0
            async for items, total in prefetched(client.pages(url, {"limit": PAGE_LIMIT})):
                usable = readable(party, module, model, items)
                await retrying(partial(_store_page, db, party, module, usable))
                seen += len(items)
                counts[module] += len(usable)
                counts["skipped"] += len(items) - len(usable)
                if progress is not None:
                    maybe = progress(module, seen, total)
                    if maybe is not None:
                        await maybe
        if party.bookings_url:  # OCPI 2.3.0 Bookings: what can be booked, and when
            counts["booking_locations"] = await pull_booking_locations(db, party, client)
    async with db.write() as session:
        await lock_party(session, party)
        row = await session.get(Party, party.id, with_for_update=True)
        if row is not None:
            row.last_sync_at = utcnow()
    return counts


async def prefetched(pages: AsyncIterator[T]) -> AsyncIterator[T]:
    """Yield ``pages``' items while the next one is already being fetched (one ahead)."""
    source = aiter(pages)
    ahead: asyncio.Future[T] = asyncio.ensure_future(anext(source))
    try:
        while True:
            try:
                page = await ahead
            except StopAsyncIteration:
                return
            ahead = asyncio.ensure_future(anext(source))
            yield page
    finally:
        if not ahead.done():
            ahead.cancel()
        try:  # the page fetched ahead is not wanted any more, nor its failure
            await ahead
        except (asyncio.CancelledError, StopAsyncIteration, Exception):
            pass
        await source.aclose()  # type: ignore[attr-defined]  # an async generator's, not in AsyncIterator


def readable(party: Party, module: str, model: Any, items: list[Any]) -> list[dict[str, Any]]:
    """The items of a page that can be stored; every other one is logged and counted."""
    usable = []
    for item in items:
        if not isinstance(item, dict):
            _skip(party, module, "not_an_object", f"a list item is {type(item).__name__}", None)
            continue
        try:
            check(model, item, model.__name__)
        except InvalidRequest as exc:
            _skip(party, module, "invalid_object", exc.message, item.get("id"))
            continue
        usable.append(without_nulls(item))  # an explicit null is an unset field
    return usable


def _skip(party: Party, module: str, reason: str, problem: str, item_id: Any) -> None:
    label = f"{party.country_code}*{party.party_id}"
    metrics.OCPI_REJECTED_ITEMS.labels(label, module, reason).inc()
    log.warning("pulled item skipped", party=label, module=module, reason=reason,
                problem=problem, item_id=str(item_id) if item_id is not None else None)


async def _store_page(db: Database, party: Party, module: str, items: list[dict[str, Any]]) -> None:
    """One page in one transaction, after our pushes' lock on the CPO's catalogue."""
    if not items:
        return
    async with db.write() as session:
        await lock_party(session, party)
        await relax_commit(session)  # a page lost to a crash comes back with the next pull
        if module == "tariffs":
            await store_tariff_page(session, party, items)
        else:
            await store_location_page(session, party, items)


async def store_tariff_page(session: AsyncSession, party: Party, tariffs: list[dict[str, Any]]) -> None:
    now = utcnow()
    rows = {ci_key(t["id"]): {"party_pk": party.id, "id": t["id"], "currency": t["currency"], "data": t,
                      "last_updated": parse_ts(t.get("last_updated"), now)} for t in tariffs}
    await upsert(session, _TARIFFS, list(rows.values()), ("party_pk", "id"))


async def store_location_page(session: AsyncSession, party: Party, locations: list[dict[str, Any]]) -> None:
    """Locations with their EVSEs and Connectors, as ``store_location`` would store each."""
    now = utcnow()
    # The last copy of an id wins; ids are CiStrings, so LOC1 and loc1 are one Location (the
    # columns compare without case, and one statement may not upsert a row twice).
    by_id = {ci_key(data["id"]): data for data in locations}
    rows = []
    for data in by_id.values():
        search_kw, bookable_kw = location_search_columns(data)
        rows.append({"party_pk": party.id, "id": data["id"], **location_columns(data, now),
                     "search_power_kw": search_kw, "bookable_power_kw": bookable_kw})
    written = await upsert(session, _LOCATIONS, rows, ("party_pk", "id"), ("pk", "id"))
    location_pks = {ci_key(location_id): pk for pk, location_id in written}
    evses = {
        (location_pks[ci_key(data["id"])], ci_key(evse["uid"])): evse
        for data in by_id.values() for evse in data.get("evses") or []
    }
    evse_rows = [{"location_pk": lpk, "uid": evse["uid"], **evse_columns(evse, now)}
                 for (lpk, _), evse in evses.items()]
    kept = await upsert(session, _EVSES, evse_rows, ("location_pk", "uid"), ("pk", "location_pk", "uid"))
    evse_pks = [pk for pk, _, _ in kept]
    # Bookings point at EVSE rows, so one that left its Location is marked REMOVED, not deleted.
    await session.execute(
        update(_EVSES)
        .where(_EVSES.c.location_pk.in_(list(location_pks.values())), _EVSES.c.pk.not_in(evse_pks))
        .values(status="REMOVED")
    )
    await session.execute(delete(_CONNECTORS).where(_CONNECTORS.c.evse_pk.in_(evse_pks)))
    connectors = {
        (pk, ci_key(c["id"])): {"evse_pk": pk, **connector_columns(c)}
        for pk, lpk, uid in kept for c in evses[(lpk, ci_key(uid))].get("connectors") or []
    }
    if connectors:
        await session.execute(insert(_CONNECTORS), list(connectors.values()))
