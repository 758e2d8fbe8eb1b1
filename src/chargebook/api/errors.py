"""One table: each domain error class → one HTTP status, body ``{"error": "..."}``.

The client API's handlers. The OCPI adapter is an application of its own with handlers of its
own (``ocpi_api/errors.py``), so nothing here looks at the URL."""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from chargebook.db.engine import translate
from chargebook.domain import errors as e
from chargebook.domain.tariff_model import InvalidTariff
from chargebook.http_edge import client_closed, validation_message

#: Every class of the tree has its own row (tests/api/test_error_table.py fails otherwise), so
#: a new error is a decision, never an inherited guess.
STATUS: dict[type[e.DomainError], int] = {
    e.InvalidRequest: 400,
    InvalidTariff: 400,
    e.SpendingLimitExceeded: 400,
    e.NotCancellable: 400,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.NotAvailable: 409,
    e.SlotTaken: 409,
    e.EvseNotBookable: 409,
    e.AmbiguousEvse: 409,
    e.DuplicateExternalId: 409,
    e.UidTaken: 409,
    e.AlreadyRegistered: 409,
    e.IdentityTaken: 409,
    e.IdentityMismatch: 400,
    e.IllegalTransition: 409,
    e.RateLimited: 429,
    e.Unavailable: 503,
}


def status_for(exc: e.DomainError) -> int:
    """The row of the error's class, or of its nearest ancestor that has one. An error with
    none raises: there is no silent default."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    raise LookupError(f"{type(exc).__name__} has no client API status in api/errors.py: STATUS")


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, fields: dict[str, Any] | None = None
) -> JSONResponse:
    """``{"error": message}``, plus the error's machine-readable fields (e.g. a 409's ``reason``)."""
    return JSONResponse({"error": message, **(fields or {})}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(e.DomainError)
    async def _domain(request: Request, exc: e.DomainError) -> Response:
        headers = None
        if isinstance(exc, (e.Unavailable, e.RateLimited)):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return error_response(status_for(exc), exc.message, headers, exc.fields())

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(400, validation_message(exc))

    @app.exception_handler(json.JSONDecodeError)
    async def _json(_: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return error_response(400, "Malformed JSON body")

    @app.exception_handler(ClientDisconnect)
    async def _client_left(request: Request, exc: ClientDisconnect) -> Response:
        return client_closed(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, ClientDisconnect):  # FastAPI reading a model body
            return client_closed(request)
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "No such endpoint"
        if exc.status_code == 405:
            message = "Method not allowed on this endpoint"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    # Database errors get their own handler: the catch-all below runs in Starlette's outermost
    # middleware, which re-raises after answering (a traceback and a dropped connection).
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        translated = translate(exc)
        if translated is not None:
            return await _domain(request, translated)
        return _log_unexpected(request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        translated = translate(exc)
        if translated is not None:
            return await _domain(request, translated)
        return _log_unexpected(request)


def _log_unexpected(request: Request) -> JSONResponse:
    structlog.get_logger("chargebook.api").exception("unhandled error", path=request.url.path)
    return error_response(500, "Internal server error; the request was not applied")
