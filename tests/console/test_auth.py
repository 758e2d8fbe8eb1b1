"""Console web security over real HTTP: login, cookies, CSRF, headers, sessions that end and
can be revoked, invitations, one-time passwords, the login rate limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import ConsoleLoginAttempt
from chargebook.domain.errors import NotFound
from chargebook.services import console_sessions, console_users
from chargebook.services.audit import Actor
from chargebook.settings import Settings
from tests.conftest import LiveServer
from tests.console.kit import PASSWORD, Visitor, make_client_user, make_operator, unique_email
from tests.factories import make_client, with_db


def test_production_hasher_is_argon2id_and_verifies() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash("a long enough password")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "a long enough password")


def test_every_page_needs_a_session(visitor: Visitor) -> None:
    for path in ("/ops", "/ops/clients", "/client", "/client/groups", "/account"):
        r = visitor.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith(
            "/console/login?next=%2Fconsole"
        ), path
    r = visitor.get("/client/bookings", headers={"X-Console-Partial": "1"})
    assert r.status_code == 401  # the live script is told, not redirected


def test_security_headers_on_every_console_response(visitor: Visitor) -> None:
    for path in ("/login", "/no-such-page", "/static/console.css"):
        r = visitor.get(path)
        csp = r.headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        ), path
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    assert visitor.get("/login").headers["cache-control"] == "no-store"
    assert visitor.get("/no-such-page").status_code == 404
    assert "<html" in visitor.get("/no-such-page").text  # an HTML page, not {"error"}


def test_no_inline_script_or_style_in_pages(operator: Visitor) -> None:
    for path in ("/ops", "/ops/clients", "/ops/cpos", "/ops/bookings", "/account"):
        html = operator.get(path).text
        assert "<script>" not in html and "<script src=" in html
        assert " style=" not in html and "<style" not in html and " onclick=" not in html, path


def test_login_sets_a_signed_httponly_lax_cookie_and_records_the_attempt(
    live: LiveServer, database_url: str
) -> None:
    email, _ = make_operator(database_url)
    v = Visitor(live.base)
    r = v.login(email)
    assert r.status_code == 303 and r.headers["location"] == "/console/ops"
    cookie = r.headers["set-cookie"]
    assert "cb_console=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/console" in cookie and "Secure" not in cookie  # plain http here
    assert v.get("/ops").status_code == 200

    async def attempts(db: Database) -> list[tuple[bool, str]]:
        async with db.read() as session:
            rows = await session.scalars(
                select(ConsoleLoginAttempt).where(ConsoleLoginAttempt.email == email)
            )
            return [(a.ok, a.reason) for a in rows]

    assert with_db(database_url, attempts) == [(True, "ok")]
    v.close()


def test_cookie_is_secure_behind_https(live: LiveServer, database_url: str) -> None:
    email, _ = make_operator(database_url)
    https = {"X-Forwarded-Proto": "https"}  # as a TLS-terminating proxy in front tells uvicorn
    form = httpx.get(f"{live.base}/console/login", headers=https)
    assert "Secure" in form.headers["set-cookie"]
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    # A browser sends the Secure cookie back over the (proxy's) https; httpx, speaking plain
    # http to the proxy's backend here, has to be handed it.
    cookie = {"Cookie": f"cb_console_login={form.cookies['cb_console_login']}"}
    r = httpx.post(
        f"{live.base}/console/login",
        headers=https | cookie,
        data={"email": email, "password": PASSWORD, "nonce": nonce},
    )
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
    assert "strict-transport-security" in r.headers


def test_wrong_password_and_unknown_email_get_the_same_answer(
    visitor: Visitor, database_url: str
) -> None:
    email, _ = make_operator(database_url)
    wrong = visitor.login(email, "not the password at all")
    unknown = visitor.login(unique_email("nobody"), "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.text and "Wrong email or password" in unknown.text
    assert "cb_console=" not in wrong.headers.get("set-cookie", "")


def test_login_form_needs_its_nonce(visitor: Visitor, database_url: str) -> None:
    email, _ = make_operator(database_url)
    r = visitor.http.post("/login", data={"email": email, "password": PASSWORD, "nonce": "forged"})
    assert r.status_code == 403 and "cb_console=" not in r.headers.get("set-cookie", "")


def test_state_changing_forms_need_the_csrf_token_and_our_origin(operator: Visitor) -> None:
    before = operator.get("/ops/clients").text.count("csrf-probe")
    missing = operator.post("/ops/clients", {"name": "csrf-probe"}, csrf=False)
    forged = operator.post("/ops/clients", {"name": "csrf-probe", "csrf_token": "0" * 64})
    other_site = operator.post(
        "/ops/clients", {"name": "csrf-probe"}, headers={"Origin": "https://evil.example"}
    )
    cross = operator.post(
        "/ops/clients", {"name": "csrf-probe"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert [r.status_code for r in (missing, forged, other_site, cross)] == [403, 403, 403, 403]
    assert operator.get("/ops/clients").text.count("csrf-probe") == before  # nothing was created
    ok = operator.post("/ops/clients", {"name": "csrf-probe"}, headers={"Origin": operator.root})
    assert ok.status_code == 200 and "cbk_" in ok.text


def test_a_tampered_cookie_is_no_session(operator: Visitor) -> None:
    value = operator.http.cookies["cb_console"]
    operator.http.cookies.set(
        "cb_console", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/console"
    )
    assert operator.get("/ops").status_code == 303


def test_logout_revokes_the_session_on_the_server(operator: Visitor) -> None:
    stolen = operator.http.cookies["cb_console"]
    r = operator.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    replay = httpx.get(
        f"{operator.base}/ops", cookies={"cb_console": stolen}, follow_redirects=False
    )
    assert replay.status_code == 303  # the old cookie is worth nothing now


def test_log_out_everywhere_ends_every_session(live: LiveServer, database_url: str) -> None:
    email, _ = make_operator(database_url)
    first, second = Visitor(live.base), Visitor(live.base)
    first.login(email)
    second.login(email)
    assert "this browser" in first.get("/account").text
    assert first.post("/logout-everywhere").status_code == 303
    assert second.get("/ops").status_code == 303 and first.get("/ops").status_code == 303
    first.close()
    second.close()


def test_ending_another_session_from_the_account_page(live: LiveServer, database_url: str) -> None:
    email, _ = make_operator(database_url)
    here, there = Visitor(live.base), Visitor(live.base)
    here.login(email)
    there.login(email)
    page = here.get("/account").text
    ids = re.findall(r"/account/sessions/(ses_[0-9a-f]+)/revoke", page)
    assert len(ids) == 1  # the other browser (this one has no button)
    assert here.post(f"/account/sessions/{ids[0]}/revoke").status_code == 303
    assert there.get("/ops").status_code == 303 and here.get("/ops").status_code == 200
    here.close()
    there.close()


def test_one_time_password_must_be_changed_first(live: LiveServer, database_url: str) -> None:
    email, generated = make_operator(database_url, password=None)
    assert generated is not None and len(generated) >= 16
    v = Visitor(live.base)
    assert v.login(email, generated).status_code == 303
    r = v.get("/ops")
    assert r.status_code == 303 and r.headers["location"] == "/console/account"
    assert "one-time password" in v.get("/account").text
    mismatch = v.post(
        "/account/password",
        {
            "current_password": generated,
            "new_password": "a brand new secret",
            "confirm_password": "something else entirely",
        },
    )
    assert mismatch.status_code == 400
    done = v.post(
        "/account/password",
        {
            "current_password": generated,
            "new_password": "a brand new secret",
            "confirm_password": "a brand new secret",
        },
    )
    assert done.status_code == 303 and v.get("/ops").status_code == 200
    fresh = Visitor(live.base)
    assert fresh.login(email, generated).status_code == 401
    assert fresh.login(email, "a brand new secret").status_code == 303
    v.close()
    fresh.close()


def test_invitation_link_works_once(live: LiveServer, database_url: str) -> None:
    client_id, _ = make_client(database_url, "invited co")
    email = unique_email("invitee")
    invite = with_db(
        database_url,
        lambda db: console_users.invite_client_user(
            db, client_id, email, Actor("ops@example.com", "operator")
        ),
    )
    v = Visitor(live.base)
    form = v.get(f"/invite/{invite.token}")
    assert form.status_code == 200 and email in form.text and "invited co" in form.text
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    short = v.http.post(
        f"/invite/{invite.token}",
        data={"nonce": nonce, "password": "short", "confirm_password": "short"},
    )
    assert short.status_code == 400 and "12 characters" in short.text
    nonce = re.search(r'name="nonce" value="([^"]+)"', short.text).group(1)  # type: ignore[union-attr]
    r = v.http.post(
        f"/invite/{invite.token}",
        data={"nonce": nonce, "password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert r.status_code == 303
    assert v.login(email).status_code == 303 and v.get("/client").status_code == 200
    assert Visitor(live.base).get(f"/invite/{invite.token}").status_code == 404  # used
    assert Visitor(live.base).get("/invite/not-a-token").status_code == 404
    v.close()


def test_a_new_invitation_replaces_the_old_link(database_url: str) -> None:
    client_id, _ = make_client(database_url, "re-invite co")
    email = unique_email("again")
    ops = Actor("ops@example.com", "operator")
    first = with_db(
        database_url, lambda db: console_users.invite_client_user(db, client_id, email, ops)
    )
    second = with_db(
        database_url, lambda db: console_users.invite_client_user(db, client_id, email, ops)
    )
    with pytest.raises(NotFound):
        with_db(database_url, lambda db: console_users.invitation(db, first.token))
    assert (
        with_db(database_url, lambda db: console_users.invitation(db, second.token)).email == email
    )


def test_disabling_a_user_ends_their_sessions(
    operator: Visitor, live: LiveServer, database_url: str
) -> None:
    client_id, _, email = make_client_user(database_url)
    fleet = Visitor(live.base)
    fleet.login(email)
    assert fleet.get("/client").status_code == 200
    page = operator.get(f"/ops/clients/{client_id}").text
    user_id = re.search(r"/ops/people/(usr_[0-9a-f]+)/disable", page).group(1)  # type: ignore[union-attr]
    assert operator.post(f"/ops/people/{user_id}/disable").status_code == 303
    assert fleet.get("/client").status_code == 303
    assert fleet.login(email).status_code == 403
    fleet.close()


async def test_sessions_end_when_idle_or_too_old(db: Database) -> None:
    user, _pw = await console_users.create_operator(db, unique_email("idle"), PASSWORD, Actor.cli())
    policy = console_sessions.SessionPolicy()
    token = await console_sessions.open_session(db, user, None, None, policy)
    assert (await console_sessions.resolve(db, token, policy)) is not None
    assert (
        await console_sessions.resolve(db, token, console_sessions.SessionPolicy(idle=timedelta(0)))
        is None
    )
    short = console_sessions.SessionPolicy(max_age=timedelta(0))  # its absolute end is set at login
    assert (
        await console_sessions.resolve(
            db, await console_sessions.open_session(db, user, None, None, short), policy
        )
        is None
    )


@pytest.fixture
def strict_login_server(fresh_database_url: str) -> Iterator[LiveServer]:
    """A server of its own: its failures must not throttle the shared server's logins."""
    with LiveServer(
        Settings(database_url=fresh_database_url, console_login_max_failures=3)
    ) as server:
        yield server


def test_login_attempts_are_rate_limited_and_logged(
    strict_login_server: LiveServer, fresh_database_url: str
) -> None:
    email, _ = make_operator(fresh_database_url)
    v = Visitor(strict_login_server.base)
    assert [v.login(email, "wrong password!!").status_code for _ in range(3)] == [401, 401, 401]
    refused = v.login(email)  # the right password, too late
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    other = Visitor(strict_login_server.base)
    other_email, _ = make_operator(fresh_database_url)
    assert other.login(other_email).status_code == 303  # another account is not locked out

    async def reasons(db: Database) -> list[str]:
        async with db.read() as session:
            rows = await session.scalars(
                select(ConsoleLoginAttempt.reason)
                .where(ConsoleLoginAttempt.email == email)
                .order_by(ConsoleLoginAttempt.pk)
            )
            return list(rows)

    assert with_db(fresh_database_url, reasons) == ["bad_password"] * 3 + ["throttled"]
    v.close()
    other.close()
