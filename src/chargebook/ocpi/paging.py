"""Reading a paginated OCPI GET to its end, whatever the peer's ``Link`` headers say.

OCPI 2.2.1 transport_and_format.asciidoc § Pagination: the sender SHALL put the next page's
URL in ``Link: <url>; rel="next"`` and the total in ``X-Total-Count``. Peers in the field
send next links we cannot use (another scheme or host, enum names in the path such as
``/ModuleID.LOCATIONS``, ``date_from=None`` in the query) and an empty ``Link:`` even where
pages remain. So a next link is followed only when it points at the URL we paged (same
origin and path, slash aside) with a clean query; otherwise we page on ourselves with
``offset``/``limit`` while ``X-Total-Count`` says more remain.

It never loops forever: at most ``max_pages`` pages, and a request (URL + query) or an
offset seen before ends the walk. Each of those endings is logged with the peer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import structlog

from chargebook.ocpi import transport as t

if TYPE_CHECKING:
    from chargebook.ocpi.client import OcpiClient

log = structlog.get_logger("chargebook.ocpi.paging")

#: Enough for a million objects at 100 a page; a peer that goes on past it is looping.
MAX_PAGES = 10_000
#: Query values that are a peer's unset variable printed into its link.
_JUNK_VALUES = frozenset({"none", "null", "undefined", "nan"})


@dataclass
class Pager:
    """One walk over a paginated endpoint. ``pages()`` yields (items, X-Total-Count)."""

    client: OcpiClient
    url: str
    params: dict[str, Any]
    max_pages: int = MAX_PAGES
    _seen_requests: set[str] = field(default_factory=set)
    _seen_offsets: set[int] = field(default_factory=set)

    async def pages(self) -> AsyncIterator[tuple[list[Any], int | None]]:
        url, query = self.url, dict(self.params)
        offset = _int(query.get("offset")) or 0
        for _ in range(self.max_pages):
            if not self._first_time(url, query, offset):
                return
            reply = await self.client.get(url, query or None)
            items = reply.data if isinstance(reply.data, list) else []
            total = _int(reply.headers.get(t.TOTAL_COUNT))
            yield items, total
            if not items:
                return
            offset += len(items)
            link = t.next_link(reply.headers.get("Link"))
            if link is not None and self.usable(link):
                url, query = link, {}
                linked = _int(dict(parse_qsl(urlsplit(link).query)).get("offset"))
                offset = offset if linked is None else linked
                continue
            if link is not None:
                self._note("unusable next link, paging by offset", link=link[:300])
            if total is None or offset >= total:
                return
            limit = _int(reply.headers.get(t.LIMIT)) or _int(self.params.get("limit")) or len(items)
            url, query = self._base(reply.url), {**self.params, "offset": offset, "limit": limit}
        self._note("page cap reached, pull cut short", max_pages=self.max_pages)

    def usable(self, link: str) -> bool:
        """A next link we may follow: the paged endpoint itself, with a clean query."""
        ours, theirs = urlsplit(self.url), urlsplit(link)
        if (theirs.scheme, theirs.netloc.lower()) != (ours.scheme, ours.netloc.lower()):
            return False
        if theirs.path.rstrip("/") != ours.path.rstrip("/"):
            return False
        return not any(v.strip().lower() in _JUNK_VALUES for _, v in parse_qsl(theirs.query))

    def _base(self, answered: str) -> str:
        """The endpoint to page on at: where the last page was answered (after a slash
        redirect), without its query, if that is still the endpoint we paged."""
        base = urlsplit(answered)._replace(query="").geturl() if answered else ""
        return base if base and self.usable(base) else self.url

    def _first_time(self, url: str, query: dict[str, Any], offset: int) -> bool:
        request = url + ("?" + urlencode(sorted((k, str(v)) for k, v in query.items())) if query else "")
        if request in self._seen_requests or offset in self._seen_offsets:
            self._note("page repeats an earlier one, paging stopped", url=request[:300], offset=offset)
            return False
        self._seen_requests.add(request)
        self._seen_offsets.add(offset)
        return True

    def _note(self, event: str, **fields: Any) -> None:
        log.warning(event, peer=self.client.peer, endpoint=self.url, **fields)


def _int(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None
