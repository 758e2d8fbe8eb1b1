"""ASGI middleware: request ids and a cap on request body size."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargebook import correlation

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class BodyTooLarge(Exception):
    pass


#: Answers a refused body: ``(send, max_bytes)``. The client API's is ``{"error": ...}`` with
#: 400; the OCPI adapter's is an OCPI envelope (``ocpi_api/app.py``).
Refusal = Callable[[Send, int], Awaitable[None]]


async def refuse_client_body(send: Send, max_bytes: int) -> None:
    await _reply(send, 400, f"Request body too large: the limit is {max_bytes} bytes")


async def _reply(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                        *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over ``max_bytes`` before the app parses them, answered by ``refuse``.
    Paths under ``exempt`` are left to a limit of their own (the OCPI adapter's)."""

    def __init__(self, app: ASGIApp, max_bytes: int, refuse: Refusal = refuse_client_body,
                 exempt: str | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse
        self.exempt = exempt

    def _exempt(self, path: str) -> bool:
        return self.exempt is not None and (path == self.exempt or path.startswith(self.exempt + "/"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self.refuse(send, self.max_bytes)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge()
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self.refuse(send, self.max_bytes)


class RequestId:
    """Take a caller's X-Request-ID (if sane) or make one; echo it (and an OCPI caller's
    X-Correlation-ID, made from the request id when an OCPI caller sent none) on the response. The id is bound (``correlation.bind``) for everything
    the request logs and stores."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = correlation_id = None
        for name, value in scope["headers"]:
            if name in (b"x-request-id", b"x-correlation-id"):
                candidate = value.decode("latin-1")
                if _SAFE_ID.match(candidate):
                    if name == b"x-request-id":
                        request_id = candidate
                    else:
                        correlation_id = candidate
        request_id = request_id or secrets.token_hex(8)
        if correlation_id is None and scope["path"].startswith("/ocpi/"):
            # OCPI answers carry both ids; a CPO that sent none (seen in the field) gets ours.
            correlation_id = request_id
        scope.setdefault("state", {})["request_id"] = request_id
        correlation.bind(request_id)

        async def send_with_id(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers: list[Any] = list(msg.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                if correlation_id is not None:  # OCPI: answer with the correlation id received
                    headers.append((b"x-correlation-id", correlation_id.encode()))
                msg["headers"] = headers
            await send(msg)

        await self.app(scope, receive, send_with_id)
