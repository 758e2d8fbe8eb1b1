"""The quirks that live at the HTTP edge (cpo_sim/quirks.py names them all), as one pure ASGI
middleware outside everything else, so it sees the path as the eMSP sent it:

* ``slash_redirects``: a path below ``/ocpi/cpo/`` without a trailing slash gets a 307 to
  the slash form (what a framework does for routes declared with a slash);
* ``generic_error_for_undecodable_token``: a token that is not Base64 gets OCPI 3000 in
  HTTP 200 before any routing;
* ``non_envelope_auth_errors``: a 401/403 answer's body becomes ``{"detail": "..."}``;
* ``list_wrapped_objects``: the single object of a command answer, a GET of a location,
  EVSE or connector, or a token answer is sent as a one-element list;
* ``explicit_nulls``: models in the answer are written with every unset field as null
  (through ``quirks.NULLS``, read by ``outbound.wire``).
"""

from __future__ import annotations

import base64
import binascii
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargebook.cpo_sim import quirks as q
from chargebook.cpo_sim.simulator import Simulator
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221 import dump_json, load_json

_SINGLE_GET = re.compile(r"/(locations/[^/]+(/[^/]+){0,2}|tokens/[^/]+/[^/]+/[^/]+)$")
AUTH_DETAIL = b'{"detail": "Invalid authentication credentials"}'


class FieldQuirks:
    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sim = self.sim
        if scope["type"] != "http" or not scope["path"].startswith("/ocpi/") or not sim.config.quirks:
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if sim.quirk(q.SLASH_REDIRECTS) and path.startswith("/ocpi/cpo/") and not path.endswith("/"):
            query = scope.get("query_string", b"").decode()
            target = f"{sim.config.public_url.rstrip('/')}{path}/" + (f"?{query}" if query else "")
            sim.store.log("quirk", quirk=q.SLASH_REDIRECTS, method=method, path=path)
            await _answer(send, 307, b"", [(b"location", target.encode())])
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if sim.quirk(q.GENERIC_ERROR_FOR_UNDECODABLE_TOKEN) and _undecodable(headers.get("authorization")):
            sim.store.log("quirk", quirk=q.GENERIC_ERROR_FOR_UNDECODABLE_TOKEN, path=path)
            body = dump_json(t.envelope(status_code=3000, message="Generic server error"))
            await _answer(send, 200, body, [(b"content-type", b"application/json")])
            return
        wrap = sim.quirk(q.LIST_WRAPPED_OBJECTS) and _single_object(method, path)
        auth = sim.quirk(q.NON_ENVELOPE_AUTH_ERRORS)
        nulls = q.NULLS.set(sim.quirk(q.EXPLICIT_NULLS))
        try:
            await self.app(scope, receive, _Rewriter(send, wrap=wrap, auth=auth) if wrap or auth else send)
        finally:
            q.NULLS.reset(nulls)


class _Rewriter:
    """Holds the response until its body is complete, then sends it rewritten."""

    def __init__(self, send: Send, *, wrap: bool, auth: bool) -> None:
        self.send, self.wrap, self.auth = send, wrap, auth
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        status = self.start["status"]
        headers = [(k, v) for k, v in self.start["headers"] if k.lower() != b"content-length"]
        body = b"".join(self.chunks)
        if self.auth and status in (401, 403):
            body = AUTH_DETAIL
        elif self.wrap and status == 200:
            body = _wrapped(body)
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


def _single_object(method: str, path: str) -> bool:
    path = path.rstrip("/")
    if method == "POST":
        return "/commands/" in path
    return method == "GET" and _SINGLE_GET.search(path) is not None


def _wrapped(body: bytes) -> bytes:
    try:
        payload = load_json(body)
    except ValueError:
        return body
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
        payload["data"] = [payload["data"]]
        return dump_json(payload)
    return body


def _undecodable(header: str | None) -> bool:
    """A ``Token`` header whose value is not Base64 (a plain token, as 2.1.1 sent it)."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return False
    try:
        base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return True
    return False


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
