"""Locations and Tariffs as Sender: pagination, single objects, pushes, status PATCHes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from chargebook.cpo_sim.tariffs import standard_tariffs
from chargebook.domain.tariff import parse_tariff
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221 import Location, Tariff, format_datetime
from tests.cpo_sim.conftest import Connection, body


def crawl(
    connected: Connection, first: str, **params: object
) -> tuple[list[dict], list[httpx.Response]]:
    """Follow Link until it is absent, as the spec asks (never build offsets yourself)."""
    items: list[dict] = []
    pages: list[httpx.Response] = []
    url: str | None = first
    query = params or None
    while url:
        page = httpx.get(
            url, params=query, headers={"Authorization": t.authorization_header(connected.token)}
        )
        query = None
        assert page.status_code == 200
        pages.append(page)
        items += body(page)["data"]
        url = t.next_link(page.headers.get("Link"))
    return items, pages


def test_paginated_locations_follow_link_to_the_end(connected: Connection) -> None:
    items, pages = crawl(connected, f"{connected.base}/locations", limit=5)
    assert len(pages) == 3 and [len(body(p)["data"]) for p in pages] == [5, 5, 2]
    assert len({i["id"] for i in items}) == 12
    assert all(p.headers["X-Total-Count"] == "12" and p.headers["X-Limit"] == "5" for p in pages)
    assert "Link" not in pages[-1].headers
    link = pages[0].headers["Link"]
    assert link.endswith('; rel="next"') and "offset=5" in link and "limit=5" in link
    for item in items:
        Location.model_validate(item)


def test_page_size_is_capped_by_the_server(connected: Connection) -> None:
    page = connected.get("locations", limit=1000)
    assert page.headers["X-Limit"] == "100" and len(body(page)["data"]) == 12


def test_date_filters_keep_the_link_filters(connected: Connection) -> None:
    evse = connected.reservable()
    before = datetime.now(UTC) - timedelta(seconds=1)
    connected.admin(
        "POST", f"evses/{evse['location_id']}/{evse['evse_uid']}/status", json={"status": "BLOCKED"}
    )
    changed = connected.get("locations", date_from=format_datetime(before))
    assert [loc["id"] for loc in body(changed)["data"]] == [evse["location_id"]]
    older = connected.get("locations", date_to=format_datetime(before), limit=4)
    assert older.headers["X-Total-Count"] == "11"
    assert "date_to=" in older.headers["Link"]
    bad = connected.get("locations", date_from="yesterday")
    assert bad.status_code == 200 and body(bad)["status_code"] == 2001


def test_single_location_evse_and_connector(connected: Connection) -> None:
    evse = connected.reservable()
    loc, uid = evse["location_id"], evse["evse_uid"]
    assert body(connected.get(f"locations/{loc}"))["data"]["id"] == loc
    assert body(connected.get(f"locations/{loc}/{uid}"))["data"]["uid"] == uid
    assert body(connected.get(f"locations/{loc}/{uid}/1"))["data"]["id"] == "1"
    # CiStrings: ids match case-insensitively.
    assert body(connected.get(f"locations/{loc.lower()}"))["data"]["id"] == loc
    for missing in (f"locations/{loc}X", f"locations/{loc}/nope", f"locations/{loc}/{uid}/9"):
        answer = connected.get(missing)
        assert answer.status_code == 404 and body(answer)["status_code"] == 2003


def test_tariffs_list_is_valid_and_priceable(connected: Connection) -> None:
    page = connected.get("tariffs")
    data = body(page)["data"]
    assert [t_["id"] for t_ in data] == ["AC-STD", "DC-STD"] and page.headers[
        "X-Total-Count"
    ] == "2"
    for raw in data:
        tariff = Tariff.model_validate(raw)
        assert tariff.currency == "EUR"
        kinds = [e.restrictions.reservation for e in tariff.elements if e.restrictions]
        assert {k.value for k in kinds if k} == {"RESERVATION", "RESERVATION_EXPIRES"}
        parse_tariff(raw)
    assert (
        body(page)["data"][0]["elements"][-1]["price_components"][0]["price"]
        == standard_tariffs("DE", "SIM")[0].elements[-1].price_components[0].price
    )


def test_registration_pushes_tariffs_then_locations(connected: Connection) -> None:
    emsp = connected.emsp
    emsp.wait_for(
        lambda cs: len([c for c in cs if c.method == "PUT" and "/locations/" in c.path]) == 12
    )
    puts = [c for c in emsp.calls if c.method == "PUT"]
    tariffs = [i for i, c in enumerate(puts) if "/tariffs/" in c.path]
    locations = [i for i, c in enumerate(puts) if "/locations/" in c.path]
    assert len(tariffs) == 2 and max(tariffs) < min(locations)
    for call in puts:
        assert call.authorized and call.headers["content-type"] == "application/json"
        assert call.path.split("/")[-3:-1] == ["DE", "SIM"]
        assert (
            call.headers["ocpi-from-party-id"] == "SIM"
            and call.headers["ocpi-to-party-id"] == "EMP"
        )
    Location.model_validate(puts[locations[0]].body)
    assert puts[locations[0]].path.endswith("/" + puts[locations[0]].body["id"])
    again = connected.admin("POST", "push")
    assert again == {"tariffs": 2, "locations": 12, "failed": 0, "skipped": 0}


def test_status_change_is_patched_with_last_updated(connected: Connection) -> None:
    evse = connected.reservable()
    connected.admin(
        "POST",
        f"evses/{evse['location_id']}/{evse['evse_uid']}/status",
        json={"status": "OUTOFORDER"},
    )
    patch = connected.emsp.wait_for(lambda cs: [c for c in cs if c.method == "PATCH"])[0]
    assert patch.path.endswith(f"/DE/SIM/{evse['location_id']}/{evse['evse_uid']}")
    assert set(patch.body) == {"status", "last_updated"} and patch.body["status"] == "OUTOFORDER"
    stored = body(connected.get(f"locations/{evse['location_id']}"))["data"]
    assert stored["last_updated"] == patch.body["last_updated"]
