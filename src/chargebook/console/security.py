"""The console's web security: signed cookies, CSRF tokens, and the response headers.

* **Session cookie**: ``HttpOnly``, ``SameSite=Lax``, ``Path=/console``, ``Secure`` when the
  request came over HTTPS (or ``CHARGEBOOK_PUBLIC_URL`` is https). Its value is a random
  token signed with itsdangerous; the database keeps the token's hash (``console_sessions``),
  so a session is checked, and can be revoked, on the server.
* **CSRF**: every state-changing form carries ``csrf_token`` = HMAC(key, session token), checked
  in constant time; a POST whose ``Origin`` (or ``Sec-Fetch-Site``) says another site is
  refused before that. The login form, which has no session yet, uses a signed
  double-submit cookie instead.
* **Headers** on every console response: a CSP with no inline script or style, frame denial,
  ``nosniff``, a same-origin referrer policy, and ``no-store`` (keys are shown once; a page
  must not be served again from a cache).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "cb_console"
LOGIN_COOKIE = "cb_console_login"
FLASH_COOKIE = "cb_console_flash"
COOKIE_PATH = "/console"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


class Keys:
    """Everything signed with the console key, each with its own salt."""

    def __init__(self, secret: str) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="chargebook.console.session")
        self._login = URLSafeTimedSerializer(secret, salt="chargebook.console.login")
        self._flash = URLSafeTimedSerializer(secret, salt="chargebook.console.flash")
        self._csrf = hashlib.sha256(b"chargebook.console.csrf:" + secret.encode()).digest()

    def session_cookie(self, token: str) -> str:
        return self._session.dumps(token)

    def session_token(self, cookie: str | None, max_age_seconds: int) -> str | None:
        return _loads(self._session, cookie, max_age_seconds)

    def csrf_token(self, session_token: str) -> str:
        return hmac.new(self._csrf, session_token.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session_token: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(
            self.csrf_token(session_token), presented
        )

    def new_login_nonce(self) -> tuple[str, str]:
        """(cookie value, form value) for the login form's double-submit check."""
        nonce = secrets.token_urlsafe(24)
        return self._login.dumps(nonce), nonce

    def login_ok(self, cookie: str | None, presented: str | None) -> bool:
        nonce = _loads(self._login, cookie, 3600)
        return nonce is not None and presented is not None and hmac.compare_digest(nonce, presented)

    def flash_cookie(self, message: str) -> str:
        return self._flash.dumps(message[:300])

    def flash_message(self, cookie: str | None) -> str | None:
        return _loads(self._flash, cookie, 300)


def _loads(serializer: URLSafeTimedSerializer, value: str | None, max_age: int) -> str | None:
    if not value or len(value) > 1000:
        return None
    try:
        loaded = serializer.loads(value, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return None
    return loaded if isinstance(loaded, str) else None


def same_site(headers: dict[str, str], origin: str) -> bool:
    """False when the browser says the request came from another site."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    sent = headers.get("origin")
    return sent is None or sent == origin


class SecurityHeaders:
    """Pure ASGI: add the headers above to every response of the console."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in HEADERS if h[0] not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts or scope.get("scheme") == "https":
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
