"""Paging through a field CPO's list: usable next links are followed, unusable ones and an
empty ``Link:`` are replaced by offset/limit while X-Total-Count says more remain, and the
walk always ends (unit tests of the one adapter, over a mock transport)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chargebook.ocpi.client import OcpiClient, Party

BASE = "http://cpo.example/ocpi/cpo/2.2.1/locations"
TOTAL = 7
LIMIT = 3


def catalogue(link: Callable[[int], str | None]) -> Callable[[httpx.Request], httpx.Response]:
    """A CPO with TOTAL objects, LIMIT a page, whose Link header is ``link(next_offset)``."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        if query.get("date_from") == "None":
            return httpx.Response(200, json={"status_code": 2001, "status_message": "date_from"})
        offset = int(query.get("offset", 0))
        items = [{"id": f"LOC{i}"} for i in range(offset, min(offset + LIMIT, TOTAL))]
        headers = {"X-Total-Count": str(TOTAL), "X-Limit": str(LIMIT)}
        nxt = link(offset + LIMIT) if offset + LIMIT < TOTAL else link(-1)
        if nxt is not None:
            headers["Link"] = nxt
        return httpx.Response(200, json={"status_code": 1000, "data": items}, headers=headers)

    return handler


async def walk(handler: Any, **kwargs: Any) -> tuple[list[str], list[str]]:
    requested: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return handler(request)  # type: ignore[no-any-return]

    ids: list[str] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording)) as http:
        client = OcpiClient(token="t", to_party=Party("DE", "XTW"), http=http)
        async for items, total in client.pages(BASE, {"limit": 100}, **kwargs):
            assert total == TOTAL
            ids += [i["id"] for i in items]
    return ids, requested


EVERY = [f"LOC{i}" for i in range(TOTAL)]


async def test_good_links_are_followed() -> None:
    ids, requested = await walk(catalogue(
        lambda o: f'<{BASE}?offset={o}&limit={LIMIT}>; rel="next"' if o >= 0 else None))
    assert ids == EVERY
    assert requested == [f"{BASE}?limit=100", f"{BASE}?offset=3&limit=3", f"{BASE}?offset=6&limit=3"]


@pytest.mark.parametrize("bad", [
    "https://cpo.example/ocpi/cpo/2.2.1/locations?offset={o}&limit=3",  # wrong scheme
    "http://cpo.example/ocpi/cpo/2.2.1/ModuleID.LOCATIONS?offset={o}&limit=3",  # enum name
    "http://cpo.example/ocpi/cpo/2.2.1/locations?offset={o}&limit=3&date_from=None",
    "http://other.example/ocpi/cpo/2.2.1/locations?offset={o}&limit=3",  # another host
])
async def test_an_unusable_link_is_replaced_by_offset_paging(bad: str) -> None:
    ids, requested = await walk(catalogue(
        lambda o: f'<{bad.format(o=o)}>; rel="next"' if o >= 0 else ""))
    assert ids == EVERY
    assert requested == [f"{BASE}?limit=100", f"{BASE}?limit=3&offset=3", f"{BASE}?limit=3&offset=6"]


async def test_missing_links_are_paged_by_offset_while_the_total_says_more() -> None:
    ids, requested = await walk(catalogue(lambda o: None))
    assert ids == EVERY and len(requested) == 3


async def test_a_link_back_to_a_page_already_read_ends_the_walk() -> None:
    ids, requested = await walk(catalogue(lambda o: f'<{BASE}?offset=0&limit=3>; rel="next"'))
    assert ids == ["LOC0", "LOC1", "LOC2"]
    assert requested == [f"{BASE}?limit=100"]  # offset 0 again: not requested twice


async def test_a_peer_that_ignores_offset_is_read_once() -> None:
    def same_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status_code": 1000, "data": [{"id": "LOC0"}]},
                              headers={"X-Total-Count": "1000", "Link": f'<{BASE}?offset=1>; rel="next"'})

    ids, requested = await walk_any(same_page, max_pages=50)
    assert len(requested) <= 50 and ids == ["LOC0"] * len(requested)


async def test_the_page_cap_ends_an_endless_list() -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        offset = int(dict(request.url.params).get("offset", 0))
        return httpx.Response(200, json={"status_code": 1000, "data": [{"id": f"L{offset}"}]},
                              headers={"X-Total-Count": "999999"})

    ids, requested = await walk_any(endless, max_pages=5)
    assert len(requested) == 5 and ids == ["L0", "L1", "L2", "L3", "L4"]


async def walk_any(handler: Any, **kwargs: Any) -> tuple[list[str], list[str]]:
    requested: list[str] = []
    ids: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return handler(request)  # type: ignore[no-any-return]

    async with httpx.AsyncClient(transport=httpx.MockTransport(recording)) as http:
        client = OcpiClient(token="t", http=http)
        async for items, _total in client.pages(BASE, None, **kwargs):
            ids += [i["id"] for i in items]
    return ids, requested


async def test_offset_paging_goes_on_where_a_slash_redirect_led() -> None:
    pages = catalogue(lambda o: None)

    def redirecting(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/"):
            return httpx.Response(307, headers={"Location": str(request.url.copy_with(path=request.url.path + "/"))})
        return pages(request)

    ids, requested = await walk(redirecting)
    assert ids == EVERY
    assert requested == [f"{BASE}?limit=100", f"{BASE}/?limit=100",
                         f"{BASE}/?limit=3&offset=3", f"{BASE}/?limit=3&offset=6"]
