"""OCPI transport shared by both sides (our eMSP endpoints and the CPO simulator).

OCPI 2.2.1 transport_and_format.asciidoc: the ``Authorization: Token <base64(token)>`` header,
the response envelope, pagination (``offset``/``limit``/``date_from``/``date_to`` with
``Link``, ``X-Total-Count``, ``X-Limit``), request/correlation ids and routing headers.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from chargebook.ocpi.v221.types import dump_json, format_datetime

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
FROM_COUNTRY = "OCPI-from-country-code"
FROM_PARTY = "OCPI-from-party-id"
TO_COUNTRY = "OCPI-to-country-code"
TO_PARTY = "OCPI-to-party-id"
TOTAL_COUNT = "X-Total-Count"
LIMIT = "X-Limit"

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


def new_token() -> str:
    """A credentials token: 48 URL-safe characters, within string(64) and printable ASCII."""
    return secrets.token_urlsafe(36)


def new_request_id() -> str:
    return secrets.token_hex(16)


def authorization_header(token: str) -> str:
    """OCPI 2.2.1 transport_and_format § Authorization header: the token, Base64-encoded."""
    return "Token " + base64.b64encode(token.encode()).decode()


def token_from_authorization(header: str | None) -> str | None:
    """The token a peer presented. 2.2.1 requires Base64; many peers send it plain (as 2.1.1
    did), so a value that does not decode to printable ASCII is taken as the plain token."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return None
    value = value.strip()
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value
    if decoded and all(0x21 <= ord(ch) <= 0x7E for ch in decoded):
        return decoded
    return value


def token_candidates(header: str | None) -> list[str]:
    """Both readings of a presented token (decoded first, then as sent), for lookup: a plain
    token can happen to be valid Base64, so a receiver tries both against what it issued."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    decoded = token_from_authorization(header)
    return [c for c in dict.fromkeys([decoded, value]) if c]


def envelope(data: Any = None, status_code: int = 1000, message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": format_datetime(datetime.now(UTC))}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["status_message"] = message
    return body


def ocpi_response(
    data: Any = None,
    *,
    status_code: int = 1000,
    message: str | None = None,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An OCPI envelope as a response; models and Decimals keep their exact JSON text."""
    return Response(
        content=dump_json(envelope(data, status_code, message)),
        status_code=http_status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def page_headers(
    *, url: str, params: Mapping[str, str], offset: int, limit: int, total: int
) -> dict[str, str]:
    """OCPI 2.2.1 transport_and_format § Pagination: Link to the next page, totals, limit."""
    headers = {TOTAL_COUNT: str(total), LIMIT: str(limit)}
    if offset + limit < total:
        query = {**{k: v for k, v in params.items() if k not in ("offset", "limit")},
                 "offset": str(offset + limit), "limit": str(limit)}
        headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
    return headers


def next_link(header: str | None) -> str | None:
    if not header:
        return None
    match = _LINK_NEXT.search(header)
    return match.group(1) if match else None
