"""ASGI middleware of the simulator: forgiving paths, OCPI headers, and injected faults.

Pure ASGI (no BaseHTTPMiddleware), so a fault can hold a request for as long as it likes
and a "malformed" fault can replace the body of a response the app already produced.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargebook.cpo_sim.simulator import Simulator
from chargebook.ocpi import transport as t

OCPI_PREFIX = "/ocpi/"
#: Paths of functional modules: they carry the OCPI-from/-to routing headers; the
#: configuration modules (versions, credentials) SHALL NOT (transport_and_format § Routing).
FUNCTIONAL = (
    "/locations",
    "/tariffs",
    "/sessions",
    "/cdrs",
    "/commands",
    "/tokens",
    "/bookings",
)


class TrailingSlash:
    """``/locations/`` and ``/locations`` are the same: peers differ in how they join URLs
    (transport_and_format.asciidoc: some definitions concatenate without a slash)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope = {**scope, "path": scope["path"].rstrip("/") or "/"}
        await self.app(scope, receive, send)


class OcpiHeaders:
    """Echo ``X-Request-ID`` and ``X-Correlation-ID`` (made up when missing) on every OCPI
    answer, and add routing headers to functional modules' answers."""

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(OCPI_PREFIX):
            await self.app(scope, receive, send)
            return
        incoming = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request_id = incoming.get(t.REQUEST_ID.lower()) or t.new_request_id()
        correlation_id = incoming.get(t.CORRELATION_ID.lower()) or t.new_request_id()
        functional = any(part in scope["path"] for part in FUNCTIONAL)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[t.REQUEST_ID] = request_id
                headers[t.CORRELATION_ID] = correlation_id
                if functional:
                    headers[t.FROM_COUNTRY] = self.sim.config.country_code
                    headers[t.FROM_PARTY] = self.sim.config.party_id
                    peer = self.sim.store.peer
                    if peer is not None:
                        headers[t.TO_COUNTRY] = peer.party.country_code
                        headers[t.TO_PARTY] = peer.party.party_id
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain(send: Send, status: int, body: bytes, media_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Faults:
    """The configured faults (``config.faults``), on OCPI paths only, read per request so a
    ``POST /sim/config`` takes effect at once. Every fault is logged as an event."""

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    def _applies(self, path: str) -> bool:
        paths = self.sim.config.faults.paths
        return path.startswith(OCPI_PREFIX) and (not paths or any(p in path for p in paths))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        sim, faults = self.sim, self.sim.config.faults
        path, method = scope["path"], scope["method"]
        if faults.latency_seconds > 0:
            await sim.sleep(faults.latency_seconds)
        if sim.chance(faults.timeout_share):
            sim.store.log("fault", fault="timeout", method=method, path=path)
            # The request has arrived in full; the charger is only slow to answer. It still acts
            # on the request when the caller gives up waiting, as a slow CPO does.
            receive = await _buffered(receive)
            if not await sim.sleep(faults.timeout_seconds):
                await _plain(send, 503, b"shutting down", "text/plain")
                return
        if sim.chance(faults.error_share):
            sim.store.log(
                "fault", fault="http_5xx", method=method, path=path, status=faults.error_status
            )
            await _plain(
                send, faults.error_status, b"Internal Server Error (simulated)", "text/plain"
            )
            return
        if sim.chance(faults.malformed_share):
            sim.store.log("fault", fault=faults.malformed_kind, method=method, path=path)
            await self.app(scope, receive, _discard)  # the work is done, the answer is junk
            if faults.malformed_kind == "non_json":
                await _plain(send, 200, b"<html><body>Bad Gateway</body></html>", "text/html")
            else:
                await _plain(
                    send,
                    200,
                    b'{"result": "ok", "detail": "not an OCPI envelope"}',
                    "application/json",
                )
            return
        await self.app(scope, receive, send)


async def _discard(message: Any) -> None:
    return None


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now; hand it to the app later, whether or not the caller
    is still there (after the body, the app hears what the caller did: maybe a disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    return replay
