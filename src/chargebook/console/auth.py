"""Who is signed in, and what a state-changing form must carry: the console's dependencies.

``SignedInUser`` resolves the session cookie to a person (or sends the browser to the login
page); ``Operator`` and ``ClientUser`` narrow it to one kind of person (the other kind gets a
404, as for any page that is not theirs); ``Posted`` reads a form after checking that it
came from our own pages (origin and CSRF token).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from starlette.responses import Response

from chargebook.console.security import COOKIE_PATH, FLASH_COOKIE, SESSION_COOKIE, Keys, same_site
from chargebook.db.engine import Database
from chargebook.domain.errors import Forbidden, InvalidRequest, NotFound
from chargebook.services import console_sessions
from chargebook.services.console_logins import LoginLimits
from chargebook.services.console_sessions import SessionPolicy, SignedIn
from chargebook.services.rate_limits import RateLimiter
from chargebook.services.tokens import Issuer
from chargebook.settings import Settings

MAX_FORM_FIELDS = 100


class LoginRequired(Exception):
    """No valid session: the browser goes to the login page (a script gets a 401)."""


class PasswordChangeRequired(Exception):
    """A one-time password was used: nothing but the account page until it is changed."""


@dataclass(slots=True)
class ConsoleState:
    settings: Settings
    db: Database
    limiter: RateLimiter
    issuer: Issuer
    sessions: SessionPolicy
    logins: LoginLimits
    keys: Keys | None = None
    # Catalogue syncs started from the console, kept referenced until they finish.
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def state(request: Request) -> ConsoleState:
    return request.app.state.console  # type: ignore[no-any-return]  # app.state is untyped


async def keys(request: Request) -> Keys:
    st = state(request)
    if st.keys is None:
        configured = st.settings.console_secret_key
        secret = (
            configured.get_secret_value()
            if configured
            else await console_sessions.signing_key(st.db)
        )
        st.keys = Keys(secret)
    return st.keys


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def secure_cookies(request: Request) -> bool:
    """``Secure`` behind HTTPS: the request's scheme (uvicorn honours a trusted proxy's
    X-Forwarded-Proto) or an https public URL."""
    return request.url.scheme == "https" or (state(request).settings.public_url or "").startswith(
        "https://"
    )


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def flash(response: Response, request: Request, message: str, k: Keys) -> None:
    """A one-line notice for the next page (never a secret: those are shown in the answer)."""
    set_cookie(response, request, FLASH_COOKIE, k.flash_cookie(message), 300)


async def signed_in(request: Request) -> SignedIn:
    st = state(request)
    k = await keys(request)
    max_age = int(st.sessions.max_age.total_seconds())
    token = k.session_token(request.cookies.get(SESSION_COOKIE), max_age)
    who = await console_sessions.resolve(st.db, token, st.sessions) if token else None
    if who is None:
        raise LoginRequired()
    if who.must_change_password and not request.url.path.rstrip("/").endswith(
        ("/account", "/account/password", "/logout")
    ):
        raise PasswordChangeRequired()
    request.state.who = who
    return who


SignedInUser = Annotated[SignedIn, Depends(signed_in)]


async def operator(who: SignedInUser) -> SignedIn:
    if not who.is_operator:
        raise NotFound("No such page")
    return who


async def client_user(who: SignedInUser) -> SignedIn:
    if who.role != "client" or who.client_id is None:
        raise NotFound("No such page")
    return who


Operator = Annotated[SignedIn, Depends(operator)]
ClientUser = Annotated[SignedIn, Depends(client_user)]


class Form:
    """A posted urlencoded form; each accessor names the field in its error."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self.fields = dict(pairs)

    def text(self, name: str, *, max_length: int = 200) -> str:
        value = self.fields.get(name, "").strip()
        if not value:
            raise InvalidRequest(f"{name} is required")
        if len(value) > max_length or "\x00" in value:
            raise InvalidRequest(f"{name}: at most {max_length} characters")
        return value

    def optional_text(self, name: str, *, max_length: int = 200) -> str | None:
        return self.text(name, max_length=max_length) if self.fields.get(name, "").strip() else None

    def secret(self, name: str) -> str:
        """A password as typed (not stripped)."""
        value = self.fields.get(name, "")
        if not value:
            raise InvalidRequest(f"{name} is required")
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        raw = self.fields.get(name, "").strip()
        if not raw:
            if required:
                raise InvalidRequest(f"{name} is required")
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise InvalidRequest(f"{name}: not a number") from None
        if not value.is_finite() or value < 0 or value >= Decimal("1e9"):
            raise InvalidRequest(f"{name}: a number from 0 to 999999999")
        if value != value.quantize(Decimal("0.01")):
            raise InvalidRequest(f"{name}: at most two decimal places")
        return value

    def integer(
        self, name: str, *, minimum: int = 1, maximum: int = 10**9, required: bool = False
    ) -> int | None:
        raw = self.fields.get(name, "").strip()
        if not raw:
            if required:
                raise InvalidRequest(f"{name} is required")
            return None
        if not raw.isdigit() or not minimum <= int(raw) <= maximum:
            raise InvalidRequest(f"{name}: a whole number from {minimum} to {maximum}")
        return int(raw)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]


async def read_form(request: Request) -> Form:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise InvalidRequest("Expected a form (application/x-www-form-urlencoded)")
    body = await request.body()
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("The form could not be read") from None
    return Form(pairs)


def check_same_site(request: Request) -> None:
    if not same_site({k.lower(): v for k, v in request.headers.items()}, origin(request)):
        raise Forbidden("This form was sent from another site")


async def posted(request: Request, who: SignedInUser) -> Form:
    """The form of a state-changing request, after the origin and CSRF checks."""
    check_same_site(request)
    form = await read_form(request)
    if not (await keys(request)).csrf_ok(who.token, form.fields.get("csrf_token")):
        raise Forbidden(
            "The form has expired or did not come from this console: reload the page and try again"
        )
    return form


Posted = Annotated[Form, Depends(posted)]
