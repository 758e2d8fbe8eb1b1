"""The streamed pull: pages served over HTTP on 127.0.0.1 (recorded, as a CPO sent them) are
stored in set-based statements with exactly the rows ``store_location`` writes; an item that is
not an object or not a valid Location is skipped, logged and counted, and the pull goes on."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from chargebook import metrics
from chargebook.cpo_sim.catalogue import generate_locations
from chargebook.db.engine import Database
from chargebook.db.models import Connector, Evse, Location, Party
from chargebook.services.catalogue import ensure_party, seed_catalogue, store_location
from chargebook.services.catalogue_pull import prefetched, sync_party
from tests.factories import unique_party_id


class RecordedCpo:
    """A CPO's Locations sender as recorded pages: ``items`` served with offset/limit paging,
    ``Link`` and ``X-Total-Count`` (OCPI 2.2.1 transport_and_format § Pagination)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlparse(self.path).query)
                offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["100"])[0])
                page = owner.items[offset:offset + limit]
                body = json.dumps({"data": page, "status_code": 1000,
                                   "timestamp": "2030-01-01T00:00:00Z"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Total-Count", str(len(owner.items)))
                if offset + limit < len(owner.items):
                    nxt = f"{owner.url}?offset={offset + limit}&limit={limit}"
                    self.send_header("Link", f'<{nxt}>; rel="next"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ocpi/2.2.1/locations"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorded() -> Iterator[RecordedCpo]:
    cpo = RecordedCpo([])
    yield cpo
    cpo.server.shutdown()
    cpo.server.server_close()


async def _party(db: Database, url: str) -> Party:
    async with db.write() as session:
        party = await ensure_party(session, "DE", unique_party_id(), "Pulled CPO")
        party.status, party.version, party.token_for_them = "registered", "2.2.1", "tok"
        party.endpoints = {"locations:SENDER": url}
    return party


def _catalogue(party_id: str, count: int, seed: int) -> list[dict[str, Any]]:
    return list(generate_locations(count, party_id=party_id, seed=seed))


async def _rows(db: Database, party_pk: str) -> tuple[list[Any], list[Any], list[Any]]:
    async with db.read() as s:
        locs = (await s.execute(select(
            Location.id, Location.name, Location.latitude, Location.longitude, Location.lat_band,
            Location.publish, Location.data, Location.last_updated, Location.search_power_kw,
            Location.bookable_power_kw,
        ).where(Location.party_pk == party_pk).order_by(Location.id))).all()
        evses = (await s.execute(select(
            Location.id, Evse.uid, Evse.evse_id, Evse.status, Evse.reservable, Evse.max_power_kw,
            Evse.data, Evse.last_updated,
        ).join(Location).where(Location.party_pk == party_pk).order_by(Location.id, Evse.uid))).all()
        conns = (await s.execute(select(
            Evse.uid, Connector.id, Connector.standard, Connector.format, Connector.power_type,
            Connector.power_kw, Connector.tariff_ids,
        ).join(Evse).join(Location).where(Location.party_pk == party_pk)
            .order_by(Evse.uid, Connector.id))).all()
    return list(locs), list(evses), list(conns)


async def test_a_pull_stores_what_store_location_stores(db: Database, recorded: RecordedCpo) -> None:
    party = await _party(db, recorded.url)
    recorded.items = _catalogue(party.party_id, 230, seed=21)
    seen: list[tuple[int, int | None]] = []
    counts = await sync_party(db, party, lambda module, done, total: seen.append((done, total)))
    assert counts == {"locations": 230, "tariffs": 0, "skipped": 0}
    assert seen == [(100, 230), (200, 230), (230, 230)]
    # The same objects stored one by one under another party: the same rows.
    twin = unique_party_id()
    await seed_catalogue(db, "DE", twin, "Twin", copy.deepcopy(recorded.items))
    async with db.read() as s:
        twin_pk = await s.scalar(select(Party.id).where(Party.party_id == twin))
    assert await _rows(db, party.id) == await _rows(db, twin_pk)
    # The next pull: one EVSE left a location, another's connectors changed.
    first = recorded.items[0]
    gone = first["evses"].pop()["uid"] if len(first["evses"]) > 1 else None
    recorded.items[1]["evses"][0]["connectors"][0]["max_electric_power"] = 7400
    recorded.items[1]["evses"][0]["status"] = "OUTOFORDER"
    await sync_party(db, party)
    async with db.write() as session:
        twin_party = await session.get(Party, twin_pk)
        assert twin_party is not None
        for data in copy.deepcopy(recorded.items[:2]):
            await store_location(session, twin_party, data)
    mine, theirs = await _rows(db, party.id), await _rows(db, twin_pk)
    assert mine == theirs
    if gone is not None:
        assert ("REMOVED",) == tuple(e.status for e in mine[1] if e.uid == gone)


def _rejected(party: Party, reason: str) -> float:
    label = f"{party.country_code}*{party.party_id}"
    return metrics.OCPI_REJECTED_ITEMS.labels(label, "locations", reason)._value.get()


async def test_unusable_items_are_skipped_counted_and_the_pull_goes_on(
    db: Database, recorded: RecordedCpo) -> None:
    party = await _party(db, recorded.url)
    good = _catalogue(party.party_id, 150, seed=22)
    broken = copy.deepcopy(good[5])
    broken["id"] = "BROKEN-1"
    del broken["coordinates"]
    recorded.items = good[:10] + ["not an object", broken, 42] + good[10:]
    with capture_logs() as logs:
        counts = await sync_party(db, party)
    assert counts == {"locations": 150, "tariffs": 0, "skipped": 3}
    skipped = [e for e in logs if e["event"] == "pulled item skipped"]
    assert [(e["party"], e["module"], e["reason"], e["item_id"]) for e in skipped] == [
        (f"DE*{party.party_id}", "locations", "not_an_object", None),
        (f"DE*{party.party_id}", "locations", "invalid_object", "BROKEN-1"),
        (f"DE*{party.party_id}", "locations", "not_an_object", None),
    ]
    assert "coordinates" in skipped[1]["problem"]
    assert _rejected(party, "not_an_object") == 2 and _rejected(party, "invalid_object") == 1
    locs, _, _ = await _rows(db, party.id)
    assert {row.id for row in locs} == {loc["id"] for loc in good}


async def test_prefetched_keeps_order_and_closes_its_source() -> None:
    closed = []

    async def pages() -> Any:
        try:
            for n in range(5):
                yield n
        finally:
            closed.append(True)

    assert [n async for n in prefetched(pages())] == [0, 1, 2, 3, 4]
    gen = prefetched(pages())
    assert await anext(gen) == 0
    await gen.aclose()
    assert closed == [True, True]
