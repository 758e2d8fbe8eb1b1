"""Signing in and out, one's own account (password, sessions), and accepting an invitation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from chargebook.console.auth import (
    LoginRequired,
    Posted,
    SignedInUser,
    check_same_site,
    client_ip,
    keys,
    read_form,
    set_cookie,
    signed_in,
    state,
)
from chargebook.console.pages import page, redirect
from chargebook.console.rendering import base_path
from chargebook.console.security import COOKIE_PATH, LOGIN_COOKIE, SESSION_COOKIE
from chargebook.domain.errors import Forbidden, InvalidRequest, RateLimited, Unauthenticated
from chargebook.services import console_logins, console_sessions, console_users

router = APIRouter()


def home_of(role: str) -> str:
    return "/ops" if role == "operator" else "/client"


@router.get("/")
async def root(request: Request) -> Response:
    try:
        who = await signed_in(request)
    except LoginRequired:
        return await redirect(request, "/login")
    return await redirect(request, home_of(who.role))


async def _login_form(
    request: Request,
    status_code: int = 200,
    error: str | None = None,
    email: str = "",
    notice: str | None = None,
) -> Response:
    cookie, nonce = (await keys(request)).new_login_nonce()
    response = await page(
        request,
        "login.html",
        None,
        status_code=status_code,
        error=error,
        email=email,
        nonce=nonce,
        next=request.query_params.get("next", ""),
        notice=notice,
    )
    set_cookie(response, request, LOGIN_COOKIE, cookie, 3600)
    return response


@router.get("/login")
async def login_page(request: Request) -> Response:
    return await _login_form(request)


def _safe_next(request: Request, target: str | None) -> str | None:
    """Only a path inside the console: never another site (``//host``) or a scheme."""
    base = base_path(request)
    if (
        target
        and target.startswith(base + "/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return None


@router.post("/login")
async def login(request: Request) -> Response:
    check_same_site(request)
    form = await read_form(request)
    st = state(request)
    k = await keys(request)
    if not k.login_ok(request.cookies.get(LOGIN_COOKIE), form.fields.get("nonce")):
        return await _login_form(request, 403, "The login form expired: please try again.")
    email = form.fields.get("email", "")[:254]
    try:
        user = await console_logins.login(
            st.db, email, form.fields.get("password", ""), client_ip(request), st.logins
        )
    except (Unauthenticated, Forbidden, RateLimited) as exc:
        status = (
            429
            if isinstance(exc, RateLimited)
            else 401
            if isinstance(exc, Unauthenticated)
            else 403
        )
        return await _login_form(request, status, exc.message, email)
    token = await console_sessions.open_session(
        st.db, user, client_ip(request), request.headers.get("user-agent"), st.sessions
    )
    target = _safe_next(request, form.fields.get("next")) or base_path(request) + home_of(user.role)
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        k.session_cookie(token),
        int(st.sessions.max_age.total_seconds()),
    )
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


def _signed_out(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
async def logout(request: Request, who: SignedInUser, _: Posted) -> Response:
    await console_sessions.revoke(
        state(request).db, who.session_id, who.actor(client_ip(request)), user_id=who.user_id
    )
    return _signed_out(await redirect(request, "/login", "Signed out."))


@router.post("/logout-everywhere")
async def logout_everywhere(request: Request, who: SignedInUser, _: Posted) -> Response:
    n = await console_sessions.revoke_all(
        state(request).db, who.user_id, who.actor(client_ip(request))
    )
    return _signed_out(
        await redirect(request, "/login", f"Signed out everywhere ({n} sessions ended).")
    )


@router.get("/account")
async def account(request: Request, who: SignedInUser) -> Response:
    st = state(request)
    sessions = await console_sessions.active_sessions(st.db, st.sessions, user_id=who.user_id)
    return await page(request, "account.html", who, sessions=sessions)


@router.post("/account/password")
async def change_password(request: Request, who: SignedInUser, form: Posted) -> Response:
    new = form.secret("new_password")
    if new != form.fields.get("confirm_password"):
        raise InvalidRequest("confirm_password: the two new passwords differ")
    await console_logins.change_password(
        state(request).db,
        who.user_id,
        form.secret("current_password"),
        new,
        who.actor(client_ip(request)),
        keep_session=who.session_id,
    )
    return await redirect(request, "/account", "Password changed; your other sessions were ended.")


@router.post("/account/sessions/{session_id}/revoke")
async def revoke_session(
    request: Request, session_id: str, who: SignedInUser, _: Posted
) -> Response:
    await console_sessions.revoke(
        state(request).db, session_id, who.actor(client_ip(request)), user_id=who.user_id
    )
    if session_id == who.session_id:
        return _signed_out(await redirect(request, "/login", "Signed out."))
    return await redirect(request, "/account", "Session ended.")


@router.get("/invite/{token}")
async def invitation(request: Request, token: str) -> Response:
    st = state(request)
    invite = await console_users.invitation(st.db, token[:100])
    cookie, nonce = (await keys(request)).new_login_nonce()
    response = await page(
        request, "invite.html", None, invite=invite, token=token, nonce=nonce, error=None
    )
    set_cookie(response, request, LOGIN_COOKIE, cookie, 3600)
    return response


@router.post("/invite/{token}")
async def accept(request: Request, token: str) -> Response:
    check_same_site(request)
    form = await read_form(request)
    st = state(request)
    if not (await keys(request)).login_ok(
        request.cookies.get(LOGIN_COOKIE), form.fields.get("nonce")
    ):
        raise Forbidden("The form expired: open the invitation link again")
    password = form.secret("password")
    try:
        if password != form.fields.get("confirm_password"):
            raise InvalidRequest("confirm_password: the two passwords differ")
        user = await console_users.accept_invitation(
            st.db, token[:100], password, client_ip(request)
        )
    except InvalidRequest as exc:
        invite = await console_users.invitation(st.db, token[:100])
        cookie, nonce = (await keys(request)).new_login_nonce()
        response = await page(
            request,
            "invite.html",
            None,
            status_code=400,
            invite=invite,
            token=token,
            nonce=nonce,
            error=exc.message,
        )
        set_cookie(response, request, LOGIN_COOKIE, cookie, 3600)
        return response
    done = await redirect(request, "/login", f"Password set for {user.email}: sign in.")
    done.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return done
