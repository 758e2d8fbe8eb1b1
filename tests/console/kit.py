"""A console visitor over real HTTP: logs in through the login form, keeps the cookies, and
sends forms with the page's CSRF token, as a browser would."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from chargebook.services import console_users
from chargebook.services.audit import Actor
from tests.factories import api as factories_api
from tests.factories import make_client, with_db

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def make_operator(
    url: str, email: str | None = None, password: str | None = PASSWORD
) -> tuple[str, str | None]:
    """An operator; returns (email, the generated one-time password when none was given)."""
    address = email or unique_email("op")
    _, generated = with_db(
        url, lambda db: console_users.create_operator(db, address, password, Actor.cli())
    )
    return address, generated


def make_client_user(url: str, client_id: str | None = None) -> tuple[str, str, str]:
    """A client (unless given) with one console user who accepted the invitation; returns
    (client_id, api_key or "", email)."""
    key = ""
    if client_id is None:
        client_id, key = make_client(url, "console client")
    email = unique_email("fleet")

    async def invite_and_accept(db: Any) -> None:
        invite = await console_users.invite_client_user(
            db, client_id, email, Actor("ops@example.com", "operator")
        )
        await console_users.accept_invitation(db, invite.token, PASSWORD, None)

    with_db(url, invite_and_accept)
    return client_id, key, email


OPEN: list[Visitor | httpx.Client] = []  # closed after each test by conftest.py


def api(base: str, key: str) -> httpx.Client:
    """The client API with a key (closed after the test, like every Visitor)."""
    client = factories_api(base, key)
    OPEN.append(client)
    return client


class Visitor:
    def __init__(self, base: str, **headers: str) -> None:
        OPEN.append(self)
        self.root = base
        self.base = f"{base}/console"
        self.http = httpx.Client(
            base_url=self.base, follow_redirects=False, timeout=30, headers=headers
        )
        self.csrf = ""

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        r = self.http.get(path, **kwargs)
        found = _CSRF.search(r.text)
        if found:
            self.csrf = found.group(1)
        return r

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        form = self.get("/login")
        nonce = _NONCE.search(form.text)
        assert nonce, form.text
        r = self.http.post(
            "/login",
            data={"email": email, "password": password, "nonce": nonce.group(1), "next": ""},
        )
        if r.status_code == 303:
            self.get("/account")  # picks up the CSRF token of this session
        return r

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.csrf)
        return self.http.post(path, data=body, **kwargs)

    def follow(self, r: httpx.Response) -> httpx.Response:
        assert r.status_code == 303, (r.status_code, r.text[:500])
        location = r.headers["location"]
        assert location.startswith("/console"), location
        return self.get(location.removeprefix("/console"))
