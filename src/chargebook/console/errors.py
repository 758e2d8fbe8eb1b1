"""The console's error table and handlers: every error is an HTML page with the right status
(a live fragment request gets a short text body instead), never a 500 for bad input."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from chargebook.console.auth import LoginRequired, PasswordChangeRequired, state
from chargebook.console.pages import is_partial
from chargebook.console.rendering import base_path, render
from chargebook.db.engine import translate
from chargebook.domain import errors as e

log = structlog.get_logger("chargebook.console")

STATUS: dict[type[e.DomainError], int] = {
    e.InvalidRequest: 400,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.IllegalTransition: 409,
    e.RateLimited: 429,
    e.Unavailable: 503,
}
TITLES = {
    400: "That did not work",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    429: "Too many attempts",
    500: "Something went wrong",
    502: "The other side failed",
    503: "Busy, try again",
}


def status_for(exc: e.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    if is_partial(request):
        return PlainTextResponse(message, status_code=status, headers=headers)
    who = getattr(request.state, "who", None)
    keys = state(request).keys  # made by the time anyone is signed in
    csrf = keys.csrf_token(who.token) if who is not None and keys is not None else ""
    referer = request.headers.get("referer", "")
    back = (
        referer
        if referer.startswith(f"{request.url.scheme}://{request.url.netloc}{base_path(request)}")
        else None
    )
    return render(
        request,
        "error.html",
        {
            "who": who,
            "csrf": csrf,
            "flash": None,
            "path": request.url.path,
            "status": status,
            "title": TITLES.get(status, "Error"),
            "message": message,
            "back": back,
        },
        status,
        headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        if is_partial(request) or request.method != "GET":
            return PlainTextResponse("Your session has ended: sign in again", status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"{base_path(request)}/login?next={quote(target, safe='')}", status_code=303
        )

    @app.exception_handler(PasswordChangeRequired)
    async def _password(request: Request, _: PasswordChangeRequired) -> Response:
        return RedirectResponse(f"{base_path(request)}/account", status_code=303)

    @app.exception_handler(e.DomainError)
    async def _domain(request: Request, exc: e.DomainError) -> Response:
        headers = None
        if isinstance(exc, (e.Unavailable, e.RateLimited)):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return error_page(request, status_for(exc), exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return error_page(
            request, 400, f"{where or 'request'}: {first.get('msg', 'invalid value')}"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "There is no such page", 405: "This page does not take that request"}.get(
            exc.status_code, str(exc.detail)
        )
        return error_page(request, exc.status_code, message)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        translated = translate(exc)
        if translated is not None:
            return await _domain(request, translated)
        log.exception("console: unhandled error", path=request.url.path)
        return error_page(
            request, 500, "Internal error (logged). Check the page before trying again"
        )
