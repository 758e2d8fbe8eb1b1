"""Answering with a page, a live fragment, or a redirect carrying a one-line notice."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from chargebook.console.auth import flash, keys
from chargebook.console.rendering import base_path, render
from chargebook.console.security import COOKIE_PATH, FLASH_COOKIE
from chargebook.services.clock import utcnow
from chargebook.services.console_sessions import SignedIn

PARTIAL_HEADER = "x-console-partial"


def is_partial(request: Request) -> bool:
    """The live script asks for a fragment of the page it shows (same URL, this header)."""
    return request.headers.get(PARTIAL_HEADER) == "1"


async def page(
    request: Request, template: str, who: SignedIn | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    k = await keys(request)
    notice = k.flash_message(request.cookies.get(FLASH_COOKIE))
    response = render(
        request,
        template,
        {
            "who": who,
            "csrf": k.csrf_token(who.token) if who else "",
            "flash": notice,
            "now": utcnow(),
            "path": request.url.path,
            "query": request.url.query,
            **context,
        },
        status_code,
    )
    if notice:
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    return response


async def redirect(request: Request, to: str, notice: str | None = None) -> RedirectResponse:
    """303 to a console path (``/ops/clients``); the notice shows on the page it lands on."""
    response = RedirectResponse(base_path(request) + to, status_code=303)
    if notice:
        flash(response, request, notice, await keys(request))
    return response
