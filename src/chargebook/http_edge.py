"""The HTTP edge every web adapter shares (the client API, the OCPI endpoints, the console):
a cap on request body size, answered the adapter's own way; the one-line message that names
the field a request failed validation on; the answer to a caller that hung up (499)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("chargebook.http")


class BodyTooLarge(Exception):
    pass


#: Answers a refused body: ``(send, max_bytes)``. The client API's is ``{"error": ...}`` with
#: 400; the OCPI adapter's is an OCPI envelope (``ocpi_api/errors.py``).
Refusal = Callable[[Send, int], Awaitable[None]]


class BodyLimit:
    """Refuse bodies over ``max_bytes`` before the app parses them, answered by ``refuse``.
    Paths under ``exempt`` are left to a limit of their own (the OCPI adapter's)."""

    def __init__(self, app: ASGIApp, max_bytes: int, refuse: Refusal,
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


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_message(exc: RequestValidationError) -> str:
    """The first problem, naming the field: `reservation_start: Input should be a valid datetime`."""
    errors = exc.errors()
    if not errors:
        return "Invalid request"
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "Malformed JSON body"
    loc = tuple(first.get("loc", ()))
    if first.get("type") == "missing":
        return f"{_field(loc)} is required"
    if first.get("type") == "extra_forbidden":
        return f"{_field(loc)}: unknown field"
    message = str(first.get("msg", "invalid value"))
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return f"{_field(loc)}: {message}"


#: nginx's "client closed request": the caller hung up before its request was read; nobody
#: receives this answer, it is what the request log and the metrics record.
CLIENT_CLOSED = 499


def client_closed(request: Request) -> Response:
    """A caller that hangs up mid-request is not a server error: no traceback, no 500."""
    log.info("client closed request", path=request.url.path)
    return Response(status_code=CLIENT_CLOSED)
