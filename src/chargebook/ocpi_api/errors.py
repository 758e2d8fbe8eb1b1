"""How the OCPI adapter answers what went wrong: always an OCPI envelope, never ``{"error"}``.

Installed on the OCPI sub-application only (``ocpi_api/app.py``), so the client API's
handlers (``api/errors.py``) never see an OCPI request and neither chooses a body by URL.

* a domain error → its row of ``ocpi/errors.py: OCPI_STATUS`` (HTTP status, OCPI status_code);
* a body or parameter that fails validation, or a body that is not JSON → 400 / 2001;
* an unknown path or method → 404 / 405 with 2000;
* a body over ``CHARGEBOOK_OCPI_MAX_BODY_BYTES`` → 413 / 2001 (:func:`refuse_body`);
* anything else → 500 / 3000, logged with its traceback (:class:`UnexpectedFailure`).
"""

from __future__ import annotations

import json

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargebook.db.engine import DatabaseFailure, translate
from chargebook.domain import errors as e
from chargebook.http_edge import BodyTooLarge, client_closed, validation_message
from chargebook.ocpi.errors import ocpi_status_for
from chargebook.ocpi.transport import envelope, ocpi_response
from chargebook.ocpi.v221.types import dump_json

log = structlog.get_logger("chargebook.ocpi_api")

UNEXPECTED = "Internal server error; the request was not applied"


def domain_response(exc: e.DomainError) -> Response:
    http_status, code = ocpi_status_for(exc)
    headers = None
    if isinstance(exc, (e.Unavailable, e.RateLimited)):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    return ocpi_response(status_code=code, message=exc.message, http_status=http_status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(e.DomainError)
    async def _domain(_: Request, exc: e.DomainError) -> Response:
        return domain_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        return ocpi_response(status_code=2001, message=validation_message(exc), http_status=400)

    @app.exception_handler(json.JSONDecodeError)
    async def _json(_: Request, exc: json.JSONDecodeError) -> Response:
        return ocpi_response(status_code=2001, message="body is not valid JSON", http_status=400)

    @app.exception_handler(ClientDisconnect)
    async def _client_left(request: Request, exc: ClientDisconnect) -> Response:
        return client_closed(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, ClientDisconnect):  # FastAPI reading a model body
            return client_closed(request)
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "No such OCPI endpoint"
        if exc.status_code == 405:
            message = "Method not allowed on this endpoint"
        return ocpi_response(status_code=2000, message=message, http_status=exc.status_code,
                             headers=getattr(exc, "headers", None))

    @app.exception_handler(DatabaseFailure)
    async def _database(request: Request, exc: DatabaseFailure) -> Response:
        translated = translate(exc)
        if translated is not None:
            return domain_response(translated)
        log.error("unhandled error", path=request.url.path, exc_info=exc)
        return unexpected_response()


def unexpected_response() -> Response:
    return ocpi_response(status_code=3000, message=UNEXPECTED, http_status=500)


async def refuse_body(send: Send, max_bytes: int) -> None:
    """A body over the OCPI limit: 413 with a 2001 envelope (docs/decisions.md)."""
    body = dump_json(envelope(None, 2001, f"Request body too large: the limit is {max_bytes} bytes"))
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class UnexpectedFailure:
    """The OCPI adapter's last line: whatever no handler took becomes a 3000 envelope.

    Starlette's own catch-all answers and then re-raises, so a mounted app's failure would
    also reach the client API's catch-all; this middleware answers and ends it here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except BodyTooLarge:
            raise  # the body limit outside answers it
        except Exception as exc:  # the point: no failure leaves without an envelope
            translated = translate(exc)
            if translated is None:
                log.error("unhandled error", path=scope.get("path"), exc_info=exc)
            if not started:
                response = unexpected_response() if translated is None else domain_response(translated)
                await response(scope, receive, send)
