"""Redirects a peer answers, and how far we follow them (docs/ocpi-conformance.md § Tolerances).

Frameworks redirect between a route's slash and no-slash forms (307/308). A GET follows any
redirect within the peer's own origin; a write is retried once, at the other slash form of
the same URL; nothing follows a redirect to another origin, because our token goes with the
request.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx

#: How many redirects a GET follows (within the peer's own origin).
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def other_form(url: str) -> str:
    """The same URL with its path's trailing slash toggled (query kept)."""
    parts = urlsplit(url)
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
    return parts._replace(path=path).geturl()


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc.lower()) == (pb.scheme, pb.netloc.lower())


def redirect_target(method: str, url: str, response: httpx.Response, *, retried: bool) -> str | None:
    """Where to go after a redirect, or None to stop. A GET follows any redirect within the
    peer's own origin (our token goes with it, so never elsewhere). Any other method is
    retried once, at the other slash form of the same URL, and only on 307/308 (which keep
    the method and body)."""
    location = response.headers.get("Location")
    target = urljoin(url, location) if location else None
    if method == "GET":
        return target if target is not None and same_origin(url, target) else None
    if retried or response.status_code not in (307, 308):
        return None
    return other_form(url)


def error_detail(response: httpx.Response) -> str | None:
    """A short description from a non-envelope error body (``{"detail": ...}`` or text)."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200] or None
    if isinstance(payload, dict):
        value = payload.get("detail") or payload.get("message") or payload.get("error")
        return str(value)[:200] if value else None
    return None
