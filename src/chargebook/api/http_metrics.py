"""ASGI middleware: count and time every HTTP request by route template, and log one line each.

Pure ASGI (no BaseHTTPMiddleware, which costs a task per request). Labels stay bounded: the
route is the matched route's path template (``/api/v1/client/bookings/{booking_id}``, never
the raw path), a request no route matched is ``unmatched``, and an unusual method is
``OTHER``. The label children are cached, so a request costs two dictionary lookups and two
increments.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargebook import metrics

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

log = structlog.get_logger("chargebook.http")


class HttpMetrics:
    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_seeing_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_seeing_status)
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(scope, status)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self._record(method, template, status, elapsed)
            if self.log_requests:
                # The request id is bound by RequestId (inside us) for this request's task.
                log.info("http request", method=method, route=template, status=status,
                         duration_ms=round(elapsed * 1000, 2))

    def _record(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (metrics.HTTP_REQUESTS.labels(method, route, str(status)),
                        metrics.HTTP_LATENCY.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)


def route_template(scope: Scope, status: int) -> str:
    """The matched route's path template, from the root.

    FastAPI may keep included routers nested, so ``scope["route"].path_format`` can be the
    template relative to its router (``/bookings/{booking_id}``); the routers' prefixes are
    then the leading segments of the raw path, which are literal in this app. A route that
    sets no ``scope["route"]`` (the docs pages) has no parameters: its path is its template.
    """
    route = scope.get("route")
    relative: str | None = getattr(route, "path_format", None)
    path: str = scope["path"]
    if relative is None:
        if status < 400 and not scope.get("path_params"):
            return path
        return UNMATCHED
    depth = relative.count("/")
    if depth == 0:  # a router's own root ("" under its prefix): the prefixes are the template
        return path
    if path.count("/") <= depth:
        return relative
    return path.rsplit("/", depth)[0] + relative
