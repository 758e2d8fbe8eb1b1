"""Request and response models of `/webhooks` (see ``routers/webhooks.py``), documented like
those in ``schemas.py``: every field with a description and an example, event types as enums."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from chargebook.api.schemas import BOOKING_ID, WHEN, Request, doc, nested
from chargebook.api.wire import WireTime
from chargebook.domain import webhooks as rules
from chargebook.domain.webhooks import AttemptFailure

WEBHOOK_ID = "whk_3f0c9a1b7d2e4c65"
EVENT_ID = "evt_5d1c0e8a9b2f4c3d"
DELIVERY_ID = "whd_8e2b4a6c1d3f5a70"
URL = "https://example.com/chargebook/events"

#: What an endpoint subscribes to: one type per booking status, or ``*`` for all of them.
EventTypeFilter = StrEnum(  # type: ignore[misc]  # members built from the event types
    "EventTypeFilter", {"ALL": rules.ALL_EVENTS, **{t.upper().replace(".", "_"): t for t in sorted(rules.EVENT_TYPES)}}
)
#: What a delivery carries: a booking event, or the ``ping`` of ``POST /webhooks/{id}/test``.
WebhookEventType = StrEnum(  # type: ignore[misc]  # members built from the event types
    "WebhookEventType", {**{t.upper().replace(".", "_"): t for t in sorted(rules.EVENT_TYPES)}, "PING": rules.PING}
)


class DeliveryStatus(StrEnum):
    """pending: queued or retrying; delivered: the receiver answered 2xx; failed: given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


EVENT_TYPES_HELP = (
    "The events to receive: `booking.<status>` (one per booking status, sent when a booking "
    "enters it), or `[\"*\"]` for every event. Duplicates are dropped."
)


class WebhookCreate(Request):
    url: Annotated[str, StringConstraints(min_length=1, max_length=rules.MAX_URL_LENGTH)] = doc(
        "Absolute http(s) URL with a host, no credentials and no fragment; https strongly advised.", URL)
    event_types: Annotated[list[EventTypeFilter], Field(min_length=1, max_length=20)] = doc(
        EVENT_TYPES_HELP, ["booking.confirmed", "booking.cancelled"])
    description: Annotated[str, StringConstraints(max_length=200)] | None = doc(
        "Your note about the endpoint (up to 200 characters).", "prod", default=None)


class WebhookOut(BaseModel):
    """An endpoint receiving your booking events."""

    id: str = doc("The endpoint's id.", WEBHOOK_ID)
    url: str = doc("Where events are POSTed.", URL)
    description: str | None = doc("Your note, as sent.", "prod")
    event_types: list[EventTypeFilter] = doc(EVENT_TYPES_HELP, ["*"])
    created_at: WireTime = doc("When the endpoint was registered (UTC).", WHEN)
    secret: str | None = doc(
        "Signing secret (Standard Webhooks `whsec_…`); present only when created or rotated: store it.",
        "whsec_u9m4vDR34T8USJUm76SBnJy5Fmv1xn2Gs16CBe4mVrU=", default=None)


class WebhookList(BaseModel):
    webhooks: list[WebhookOut] = nested("Your endpoints, oldest first, without their secrets.")


class AttemptOut(BaseModel):
    """One POST of a delivery to the receiver."""

    at: WireTime = doc("When the attempt was made (UTC).", WHEN)
    status_code: int | None = doc("The receiver's HTTP status; null when it was not reached.", 200)
    error: AttemptFailure | None = doc(
        "Why no HTTP answer came, as a fixed word: `blocked_address` (the URL's host is or resolves "
        "to a non-public address), `dns_failure`, `connection_refused`, `connection_failed`, "
        "`tls_error`, `timeout` (no whole answer within the attempt's deadline) or `bad_response`; "
        "null when the receiver answered.", None)
    duration_ms: int = doc("How long the attempt took, in milliseconds.", 42)


class DeliveryOut(BaseModel):
    """One event for one endpoint, with every attempt to deliver it."""

    id: str = doc("The delivery's id.", DELIVERY_ID)
    event_id: str = doc("The event's id: the `webhook-id` header, the same on every retry.", EVENT_ID)
    event_type: WebhookEventType = doc("The event's type.", "booking.confirmed")
    booking_id: str | None = doc("The booking the event is about; null for a ping.", BOOKING_ID)
    status: DeliveryStatus = doc(
        "pending (queued or retrying), delivered (the receiver answered 2xx), or failed (given up).",
        DeliveryStatus.DELIVERED)
    created_at: WireTime = doc("When the event happened (UTC).", WHEN)
    next_attempt_at: WireTime | None = doc("When the next attempt is due, while pending; else null.", None)
    delivered_at: WireTime | None = doc("When the receiver accepted it; null until then.", "2026-11-24T20:02:20.601Z")
    attempts: list[AttemptOut] = nested("Every attempt, oldest first.")


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut] = nested("Deliveries to the endpoint, newest first.")
    next_cursor: str | None = doc("Pass as `cursor` to get the next page; null on the last page.", "ZHwxMjM")
