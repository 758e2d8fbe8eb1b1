"""The outbound OCPI client: one place where HTTP to a peer happens and its failures are named.

Foreign errors are translated here, once, keeping the cause:

* a timeout, refused connection or 5xx  → :class:`PeerUnreachable` (worth a retry); a timeout
  is the subclass :class:`PeerTimeout`, and so is a call past its overall ``deadline`` (a peer
  that trickles its body a byte at a time never trips httpx's per-read timeout)
* a body that is not an OCPI envelope   → :class:`PeerProtocolError`
* an envelope with a non-1xxx status    → :class:`PeerRejected` (carries the OCPI code)
* an HTTP 401/403 that is not an envelope (``{"detail": "..."}``) → :class:`PeerAuthRefused`,
  a :class:`PeerRejected` naming the peer and the HTTP status

Tolerances of what peers in the field send (docs/ocpi-conformance.md § Tolerances): 307/308
redirects between a module URL's slash and no-slash forms (followed for GET within the same
origin; a POST/PUT is retried once at the other form: ``ocpi/redirects.py``), single objects
sent as one-element lists (:meth:`OcpiReply.object`), a generic 3000 in HTTP 200 named as
what it usually means, and unusable pagination links (``ocpi/paging.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from chargebook import metrics
from chargebook.ocpi import transport as t
from chargebook.ocpi.answers import Unreadable, single_object
from chargebook.ocpi.paging import Pager
from chargebook.ocpi.redirects import MAX_REDIRECTS, REDIRECTS, error_detail, redirect_target
from chargebook.ocpi.v221.types import dump_json, load_json


class PeerError(Exception):
    """Base of every failure talking to an OCPI peer."""


class PeerUnreachable(PeerError):
    """Transport failure: timeout, connection refused, HTTP 5xx."""


class PeerTimeout(PeerUnreachable):
    """The peer did not answer within the client's timeout."""


class PeerProtocolError(PeerError):
    """The peer answered, but not with a readable OCPI envelope."""


class PeerRejected(PeerError):
    def __init__(
        self, status_code: int, message: str | None, http_status: int, *, note: str = ""
    ) -> None:
        super().__init__(
            f"OCPI {status_code}: {message or 'no message'} (HTTP {http_status}){note}"
        )
        self.status_code = status_code
        self.ocpi_message = message
        self.http_status = http_status


class PeerAuthRefused(PeerRejected):
    """HTTP 401/403 without an OCPI envelope (frameworks' ``{"detail": "..."}``): the peer did
    not accept our token. Carries OCPI 2000 (generic client error) for callers that branch
    on the code."""

    def __init__(self, peer: str, http_status: int, detail: str | None) -> None:
        super().__init__(2000, detail, http_status)
        self.args = (
            f"{peer} refused our token: HTTP {http_status} without an OCPI envelope"
            + (f" ({detail})" if detail else ""),
        )


#: Added to a 3000 answered in HTTP 200: some CPO libraries answer a token they cannot decode
#: (a plain token where they expect Base64, or the reverse) with this generic server error.
UNDECODABLE_TOKEN_NOTE = (
    ": a generic server error in HTTP 200, which some CPOs answer for a token they cannot "
    "decode; check the token we hold for them and its encoding"
)



@dataclass(frozen=True, slots=True)
class Party:
    country_code: str
    party_id: str


@dataclass(slots=True)
class OcpiReply:
    data: Any
    status_code: int
    message: str | None
    headers: httpx.Headers
    http_status: int
    url: str = ""

    def object(self) -> dict[str, Any] | Unreadable:
        """The one object of ``data``; a one-element list holding it is read as that object
        (field CPOs wrap single Locations, EVSEs, Connectors and Tokens so)."""
        return single_object(self.data)


@dataclass
class OcpiClient:
    """Talks to one peer with the token it gave us. ``request_id`` and ``correlation_id`` are
    sent on every call (a caller's request id is carried into the calls it causes)."""

    token: str
    from_party: Party | None = None
    to_party: Party | None = None
    timeout: float = 10.0
    #: Overall bound of one call, body included; None: three times ``timeout``.
    deadline: float | None = None
    http: httpx.AsyncClient | None = None
    correlation_id: str | None = None
    _own: bool = field(default=False, init=False)

    async def __aenter__(self) -> OcpiClient:
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=self.timeout)
            self._own = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._own and self.http is not None:
            await self.http.aclose()

    def _headers(self) -> dict[str, str]:
        headers = {
            "Authorization": t.authorization_header(self.token),
            t.REQUEST_ID: t.new_request_id(),
            t.CORRELATION_ID: self.correlation_id or t.new_request_id(),
            "Content-Type": "application/json",
        }
        if self.from_party:
            headers[t.FROM_COUNTRY] = self.from_party.country_code
            headers[t.FROM_PARTY] = self.from_party.party_id
        if self.to_party:
            headers[t.TO_COUNTRY] = self.to_party.country_code
            headers[t.TO_PARTY] = self.to_party.party_id
        return headers

    async def request(
        self, method: str, url: str, *, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> OcpiReply:
        """One call; its outcome and duration are recorded (``chargebook_ocpi_calls_total``)."""
        started = time.perf_counter()
        try:
            reply = await self._request(method, url, body=body, params=params)
        except PeerError as exc:
            self._observe(url, _outcome(exc), started)
            raise
        self._observe(url, "ok", started)
        return reply

    def _observe(self, url: str, outcome: str, started: float) -> None:
        party = f"{self.to_party.country_code}*{self.to_party.party_id}" if self.to_party else "unidentified"
        module = module_of(url)
        metrics.OCPI_CALLS.labels(party, module, outcome).inc()
        metrics.OCPI_LATENCY.labels(party, module).observe(time.perf_counter() - started)

    @property
    def peer(self) -> str:
        """The peer as log lines and errors name it."""
        if self.to_party:
            return f"CPO {self.to_party.country_code}*{self.to_party.party_id}"
        return "the peer"

    async def _request(
        self, method: str, url: str, *, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> OcpiReply:
        assert self.http is not None, "use 'async with OcpiClient(...)'"
        deadline = self.deadline if self.deadline is not None else 3 * self.timeout
        try:
            async with asyncio.timeout(deadline):
                response, url = await self._send(method, url, body, params)
        except TimeoutError as exc:
            raise PeerTimeout(f"{method} {url}: no whole answer within {deadline:g} s") from exc
        return self._read(method, url, response)

    async def _send(
        self, method: str, url: str, body: Any, params: Mapping[str, Any] | None
    ) -> tuple[httpx.Response, str]:
        """Send, following redirects as far as we trust them; the final response and URL."""
        content = None if body is None else dump_json(body)
        response = await self._once(method, url, content, params)
        hops = 0
        while response.status_code in REDIRECTS and hops < MAX_REDIRECTS:
            target = redirect_target(method, url, response, retried=hops > 0)
            if target is None:
                break
            hops += 1
            if urlsplit(target).query:
                params = None  # the Location carries the query
            url = target
            response = await self._once(method, url, content, params)
        return response, url

    async def _once(
        self, method: str, url: str, content: bytes | None, params: Mapping[str, Any] | None
    ) -> httpx.Response:
        assert self.http is not None
        try:
            return await self.http.request(
                method, url, content=content, params=params, headers=self._headers()
            )
        except httpx.TimeoutException as exc:
            raise PeerTimeout(f"{method} {url}: timed out") from exc
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc

    def _read(self, method: str, url: str, response: httpx.Response) -> OcpiReply:
        if response.status_code >= 500 and not _looks_like_envelope(response):
            raise PeerUnreachable(f"{method} {url}: HTTP {response.status_code}")
        if response.status_code in (401, 403) and not _looks_like_envelope(response):
            raise PeerAuthRefused(self.peer, response.status_code, error_detail(response))
        if response.status_code in REDIRECTS:
            raise PeerProtocolError(
                f"{method} {url}: HTTP {response.status_code} redirect to "
                f"{response.headers.get('Location')!r} not followed"
            )
        try:
            payload = load_json(response.content)
        except ValueError as exc:
            raise PeerProtocolError(f"{method} {url}: body is not JSON (HTTP {response.status_code})") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("status_code"), int):
            raise PeerProtocolError(f"{method} {url}: body is not an OCPI envelope")
        reply = OcpiReply(
            data=payload.get("data"),
            status_code=payload["status_code"],
            message=payload.get("status_message"),
            headers=response.headers,
            http_status=response.status_code,
            url=url,
        )
        if not 1000 <= reply.status_code < 2000:
            undecodable = reply.status_code == 3000 and response.status_code == 200
            raise PeerRejected(
                reply.status_code,
                reply.message,
                response.status_code,
                note=UNDECODABLE_TOKEN_NOTE if undecodable else "",
            )
        return reply

    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> OcpiReply:
        return await self.request("GET", url, params=params)

    async def get_object(self, url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET one object (a Location, EVSE, Connector, Token…); a one-element list is read
        as its object. Anything else is a :class:`PeerProtocolError`."""
        found = (await self.get(url, params)).object()
        if isinstance(found, Unreadable):
            raise PeerProtocolError(f"GET {url}: {found.problem}")
        return found

    def pages(
        self, url: str, params: Mapping[str, Any] | None = None, *, max_pages: int | None = None
    ) -> AsyncIterator[tuple[list[Any], int | None]]:
        """Every page of a paginated GET; yields (items, X-Total-Count). Follows ``Link:
        rel="next"`` while it is usable, else pages on by ``offset``/``limit`` while
        ``X-Total-Count`` says more remain; bounded (``ocpi/paging.py``)."""
        pager = Pager(self, url, dict(params or {}))
        if max_pages is not None:
            pager.max_pages = max_pages
        return pager.pages()


#: OCPI module identifiers (2.2.1 and 2.3.0 version_information_endpoint § ModuleID) as they
#: appear in a peer's endpoint URLs; the metrics' ``module`` label is one of these.
MODULES = frozenset({
    "versions", "credentials", "locations", "tariffs", "tokens", "commands", "sessions", "cdrs",
    "chargingprofiles", "hubclientinfo", "bookings",
})


def module_of(url: str) -> str:
    """The OCPI module a URL belongs to, for the metrics' ``module`` label (bounded: a URL
    naming none is a version details URL, ``versions``, or ``other``)."""
    segments = [s.lower() for s in urlsplit(url).path.split("/") if s]
    for segment in reversed(segments):
        if segment in MODULES:
            return segment
        if segment == "booking":
            return "bookings"
    if segments and segments[-1][:1].isdigit():  # .../2.2.1: the version details endpoint
        return "versions"
    return "other"


def _outcome(exc: PeerError) -> str:
    if isinstance(exc, PeerRejected):
        return "rejected"
    if isinstance(exc, PeerProtocolError):
        return "protocol_error"
    if isinstance(exc, PeerTimeout):
        return "timeout"
    return "unreachable"


def _looks_like_envelope(response: httpx.Response) -> bool:
    try:
        payload = response.json()
    except ValueError:
        return False
    return isinstance(payload, dict) and "status_code" in payload
