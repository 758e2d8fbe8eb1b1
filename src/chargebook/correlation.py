"""The request id of the work in hand, carried from a client request into everything it causes.

The API's ``RequestId`` middleware binds the id of each request (the caller's
``X-Request-ID``, or a fresh one). While it is bound, every log line carries it as
``request_id`` (structlog's context variables), and services store it on the rows the request
creates (``bookings.request_id``, ``ocpi_commands.correlation_id``). The worker binds a
command's stored id while it sends that command, and sends it as the OCPI
``X-Correlation-ID``, so one id leads from the client's call to the CPO's log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

_REQUEST_ID: ContextVar[str | None] = ContextVar("chargebook_request_id", default=None)


def current() -> str | None:
    """The id bound to the work in hand, or None outside a request (e.g. a worker pass)."""
    return _REQUEST_ID.get()


def bind(request_id: str) -> None:
    """Bind for the rest of the current task: an ASGI request runs in a task of its own, so
    nothing leaks to the next request, and the 500 handler outside the middleware still
    logs the id."""
    _REQUEST_ID.set(request_id)
    structlog.contextvars.bind_contextvars(request_id=request_id)


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Bind for a block (the worker, per command it sends); restores what was bound before."""
    if request_id is None:
        yield
        return
    token = _REQUEST_ID.set(request_id)
    log_tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**log_tokens)
        _REQUEST_ID.reset(token)
