"""Webhook rules with no I/O: event types, endpoint validation, the retry schedule, signing.

Signing follows the Standard Webhooks convention (https://www.standardwebhooks.com):
``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature``, a
space-separated list of ``v1,<base64 HMAC-SHA256>`` over ``"{id}.{timestamp}." + body`` with
the secret's bytes (the base64 after ``whsec_``) as the key. Receivers can verify with any
Standard Webhooks library or the three lines in ``docs/webhooks.md``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import BookingStatus

#: One event type per wire status: ``booking.<status in lower case>``.
BOOKING_EVENTS: dict[BookingStatus, str] = {s: f"booking.{s.value.lower()}" for s in BookingStatus}
EVENT_TYPES: frozenset[str] = frozenset(BOOKING_EVENTS.values())
ALL_EVENTS = "*"
PING = "ping"  # sent only by POST /webhooks/{id}/test, whatever the endpoint subscribed to

MAX_URL_LENGTH = 2048
MAX_ENDPOINTS_PER_CLIENT = 10
SECRET_PREFIX = "whsec_"
BACKOFF_CAP = timedelta(hours=6)


class AttemptFailure(StrEnum):
    """Why an attempt got no HTTP answer, as the tenant sees it: a fixed word, never the HTTP
    library's text (which would describe the operator's network to a tenant)."""

    BLOCKED_ADDRESS = "blocked_address"  # the host is or resolves to a non-public address
    DNS_FAILURE = "dns_failure"  # the host name did not resolve
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_FAILED = "connection_failed"  # unreachable, reset while connecting
    TLS_ERROR = "tls_error"  # handshake failed or the certificate was not valid for the host
    TIMEOUT = "timeout"  # no whole answer within the attempt's deadline
    BAD_RESPONSE = "bad_response"  # the connection closed or the answer was not HTTP


def shown_failure(stored: str | None) -> str | None:
    """An attempt's failure as the API and console show it. Attempts recorded before failures
    were fixed words held the library's text; those show as ``connection_failed``."""
    if stored is None:
        return None
    return stored if stored in {f.value for f in AttemptFailure} else AttemptFailure.CONNECTION_FAILED.value


def event_type(status: BookingStatus) -> str:
    return BOOKING_EVENTS[status]


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials in it."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidRequest(f"url: at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        raise InvalidRequest("url: not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest("url: must be an absolute http:// or https:// URL")
    if not parts.hostname:
        raise InvalidRequest("url: must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("url: must not contain credentials; authenticate with the signature")
    if parts.fragment:
        raise InvalidRequest("url: must not contain a fragment")
    if any(c.isspace() for c in url) or (port is not None and port == 0):
        raise InvalidRequest("url: not a valid URL")
    return url


def check_event_types(types: Iterable[str]) -> list[str]:
    """The fixed event types, or ``"*"`` for all; duplicates are dropped, order kept."""
    out: list[str] = []
    for t in types:
        if t != ALL_EVENTS and t not in EVENT_TYPES:
            allowed = ", ".join(sorted(EVENT_TYPES))
            raise InvalidRequest(f"event_types: unknown type {t!r}; use {allowed} or \"*\"")
        if t not in out:
            out.append(t)
    if not out:
        raise InvalidRequest("event_types: name at least one event type, or \"*\" for all")
    return [ALL_EVENTS] if ALL_EVENTS in out else out


def subscribes(event_types: Iterable[str], event: str) -> bool:
    return any(t == ALL_EVENTS or t == event for t in event_types)


def backoff(attempt: int, base_seconds: float, jitter: float) -> timedelta:
    """Wait after failed attempt number ``attempt`` (1-based): ``base · 2^(attempt-1)``, capped
    at :data:`BACKOFF_CAP`, scaled by ``jitter`` (the caller draws it from 0.8..1.2) so that
    deliveries failing together do not retry in lockstep."""
    seconds = min(BACKOFF_CAP.total_seconds(), base_seconds * 2 ** min(attempt - 1, 40))
    return timedelta(seconds=seconds * jitter)


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature (Standard Webhooks, symmetric scheme)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Signed with every current secret: after a rotation, the old and the new one."""
    return " ".join(signature(s, message_id, timestamp, body) for s in secrets)
