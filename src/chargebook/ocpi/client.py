"""The outbound OCPI client: one place where HTTP to a peer happens and its failures are named.

Foreign errors are translated here, once, keeping the cause:

* a timeout, refused connection or 5xx  → :class:`PeerUnreachable` (worth a retry); a timeout
  is the subclass :class:`PeerTimeout`
* a body that is not an OCPI envelope   → :class:`PeerProtocolError`
* an envelope with a non-1xxx status    → :class:`PeerRejected` (carries the OCPI code)
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from chargebook import metrics
from chargebook.ocpi import transport as t
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
    def __init__(self, status_code: int, message: str | None, http_status: int) -> None:
        super().__init__(f"OCPI {status_code}: {message or 'no message'} (HTTP {http_status})")
        self.status_code = status_code
        self.ocpi_message = message
        self.http_status = http_status


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


@dataclass
class OcpiClient:
    """Talks to one peer with the token it gave us. ``request_id`` and ``correlation_id`` are
    sent on every call (a caller's request id is carried into the calls it causes)."""

    token: str
    from_party: Party | None = None
    to_party: Party | None = None
    timeout: float = 10.0
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

    async def _request(
        self, method: str, url: str, *, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> OcpiReply:
        assert self.http is not None, "use 'async with OcpiClient(...)'"
        content = None if body is None else dump_json(body)
        try:
            response = await self.http.request(
                method, url, content=content, params=params, headers=self._headers()
            )
        except httpx.TimeoutException as exc:
            raise PeerTimeout(f"{method} {url}: timed out") from exc
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 500 and not _looks_like_envelope(response):
            raise PeerUnreachable(f"{method} {url}: HTTP {response.status_code}")
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
        )
        if not 1000 <= reply.status_code < 2000:
            raise PeerRejected(reply.status_code, reply.message, response.status_code)
        return reply

    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> OcpiReply:
        return await self.request("GET", url, params=params)

    async def pages(
        self, url: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[list[Any], int | None]]:
        """Follow ``Link: rel="next"`` until the last page; yields (items, X-Total-Count)."""
        next_url: str | None = url
        query = dict(params or {})
        while next_url:
            reply = await self.get(next_url, query or None)
            query = {}  # the Link URL carries every parameter
            items = reply.data if isinstance(reply.data, list) else []
            total = reply.headers.get(t.TOTAL_COUNT)
            yield items, int(total) if total and total.isdigit() else None
            next_url = t.next_link(reply.headers.get("Link"))
            if not items:
                break


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
