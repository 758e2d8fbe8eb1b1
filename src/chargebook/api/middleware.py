"""ASGI middleware of the client API: request ids; its answer to a body over the limit
(the limit itself is `http_edge.BodyLimit`, shared with the OCPI endpoints)."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargebook import correlation

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


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
