"""`/webhooks`: endpoints that receive booking events, and their deliveries with every attempt."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from chargebook.api.deps import CurrentClient, Db
from chargebook.api.openapi import errors
from chargebook.api.webhook_schemas import (
    WEBHOOK_ID,
    DeliveryList,
    DeliveryOut,
    WebhookCreate,
    WebhookList,
    WebhookOut,
)
from chargebook.api.wire import JSON, iso_z, time_or_none
from chargebook.db.models import WebhookEndpoint
from chargebook.domain import webhooks as rules
from chargebook.domain.errors import InvalidRequest
from chargebook.services import webhooks as svc

router = APIRouter(tags=["webhooks"])


def _endpoint_json(e: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": e.id, "url": e.url, "description": e.description,
                           "event_types": e.event_types, "created_at": iso_z(e.created_at)}
    if with_secret:
        out["secret"] = e.secret
    return out


def _delivery_json(view: svc.DeliveryView) -> dict[str, Any]:
    d = view.delivery
    return {
        "id": d.id, "event_id": d.event_id, "event_type": d.event_type, "booking_id": d.booking_id,
        "status": d.status, "created_at": iso_z(d.created_at),
        "next_attempt_at": time_or_none(d.next_attempt_at) if d.status == "pending" else None,
        "delivered_at": time_or_none(d.delivered_at),
        "attempts": [{"at": iso_z(a.attempted_at), "status_code": a.status_code, "error": rules.shown_failure(a.error),
                      "duration_ms": a.duration_ms} for a in view.attempts],
    }


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"d|{pk}".encode()).decode().rstrip("=")


_PK = re.compile(r"[1-9][0-9]{0,18}")  # a row number: positive, and within a 64-bit integer


def _decode_cursor(cursor: str) -> int:
    try:
        kind, pk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|", 1)
        if kind != "d" or not _PK.fullmatch(pk) or int(pk) >= 2**63:
            raise ValueError(kind)
        return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest("cursor: not a cursor returned by this API") from None


WebhookId = Annotated[str, Path(description="The endpoint's id, as `POST /webhooks` returned it.",
                                examples=[WEBHOOK_ID])]
NOT_FOUND = errors(404, examples={404: f"Webhook not found: {WEBHOOK_ID}"})


@router.post(
    "/webhooks", status_code=201, response_model=WebhookOut, summary="Register a webhook endpoint",
    responses=errors(400, 409, notes={409: f"You have the maximum of {rules.MAX_ENDPOINTS_PER_CLIENT} "
                                           "endpoints; delete one first."},
                     examples={400: "url: must not contain credentials; authenticate with the signature",
                               409: f"webhooks: at most {rules.MAX_ENDPOINTS_PER_CLIENT} endpoints per "
                                    "client; delete one first"}),
)
async def create_webhook(body: WebhookCreate, client: CurrentClient, db: Db, request: Request) -> JSON:
    endpoint = await svc.create_endpoint(
        db, client.id, url=body.url, event_types=[t.value for t in body.event_types], description=body.description,
        allow_private_networks=request.app.state.settings.webhook_allow_private_networks,
    )
    return JSON(_endpoint_json(endpoint, with_secret=True), status_code=201)


@router.get("/webhooks", response_model=WebhookList, summary="List webhook endpoints")
async def list_webhooks(client: CurrentClient, db: Db) -> JSON:
    return JSON({"webhooks": [_endpoint_json(e) for e in await svc.list_endpoints(db, client.id)]})


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, responses=NOT_FOUND, summary="Get one endpoint")
async def get_webhook(webhook_id: WebhookId, client: CurrentClient, db: Db) -> JSON:
    return JSON(_endpoint_json(await svc.get_endpoint(db, client.id, webhook_id)))


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, responses={204: {"description": "Deleted; nothing more is sent."},
                                                          **NOT_FOUND},
    summary="Delete an endpoint; its pending deliveries are dropped",
)
async def delete_webhook(webhook_id: WebhookId, client: CurrentClient, db: Db) -> Response:
    await svc.delete_endpoint(db, client.id, webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret", response_model=WebhookOut, responses=NOT_FOUND,
    summary="New signing secret (shown once); the old one also signs for 24 hours",
)
async def rotate_webhook_secret(webhook_id: WebhookId, client: CurrentClient, db: Db) -> JSON:
    return JSON(_endpoint_json(await svc.rotate_secret(db, client.id, webhook_id), with_secret=True))


@router.post(
    "/webhooks/{webhook_id}/test", status_code=202, response_model=DeliveryOut, responses=NOT_FOUND,
    summary="Queue a ping event for this endpoint",
)
async def test_webhook(webhook_id: WebhookId, client: CurrentClient, db: Db) -> JSON:
    delivery = await svc.send_test(db, client.id, webhook_id)
    return JSON(_delivery_json(svc.DeliveryView(delivery)), status_code=202)


@router.get(
    "/webhooks/{webhook_id}/deliveries", response_model=DeliveryList,
    responses=errors(400, 404, examples={400: "cursor: not a cursor returned by this API",
                                         404: f"Webhook not found: {WEBHOOK_ID}"}),
    summary="Deliveries to this endpoint, newest first, each with every attempt (page with cursor)",
)
async def list_webhook_deliveries(
    webhook_id: WebhookId,
    client: CurrentClient,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200, description="Deliveries per page.", examples=[50])] = 50,
    cursor: Annotated[str | None, Query(
        max_length=200, description="The `next_cursor` of the previous page.", examples=["ZHwxMjM"])] = None,
) -> JSON:
    views = await svc.list_deliveries(
        db, client.id, webhook_id, limit=limit, before_pk=_decode_cursor(cursor) if cursor else None
    )
    next_cursor = _encode_cursor(views[-1].delivery.pk) if len(views) == limit else None
    return JSON({"deliveries": [_delivery_json(v) for v in views], "next_cursor": next_cursor})
