"""Client users: webhook endpoints with their deliveries; add one (its secret is shown once),
send a test event, rotate the secret, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.console.auth import ClientUser, Posted, client_ip, state
from chargebook.console.pages import page, redirect
from chargebook.domain import webhooks as rules
from chargebook.services import audit, webhooks

router = APIRouter(prefix="/client/webhooks")


def _client(client_id: str | None) -> str:
    assert client_id is not None  # ClientUser guarantees it
    return client_id


@router.get("")
async def endpoints(request: Request, who: ClientUser) -> Response:
    rows = await webhooks.list_endpoints(state(request).db, _client(who.client_id))
    return await page(
        request, "client/webhooks.html", who, rows=rows, event_types=sorted(rules.EVENT_TYPES)
    )


@router.post("")
async def create(request: Request, who: ClientUser, form: Posted) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    types = form.all("event_types") or [rules.ALL_EVENTS]
    endpoint = await webhooks.create_endpoint(
        st.db,
        client_id,
        url=form.text("url", max_length=rules.MAX_URL_LENGTH),
        event_types=types,
        description=form.optional_text("description"),
        allow_private_networks=st.settings.webhook_allow_private_networks,
    )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "webhook.create",
        client_id=client_id,
        target=endpoint.id,
        detail={"url": endpoint.url},
    )
    return await page(request, "client/webhook_secret.html", who, e=endpoint)


@router.get("/{endpoint_id}")
async def endpoint_page(request: Request, endpoint_id: str, who: ClientUser) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    endpoint = await webhooks.get_endpoint(st.db, client_id, endpoint_id[:64])
    deliveries = await webhooks.list_deliveries(st.db, client_id, endpoint.id, limit=50)
    return await page(request, "client/webhook.html", who, e=endpoint, deliveries=deliveries)


@router.post("/{endpoint_id}/test")
async def send_test(request: Request, endpoint_id: str, who: ClientUser, _: Posted) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    delivery = await webhooks.send_test(st.db, client_id, endpoint_id[:64])
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "webhook.test",
        client_id=client_id,
        target=endpoint_id,
    )
    return await redirect(
        request,
        f"/client/webhooks/{endpoint_id}",
        f"Test event {delivery.event_id} queued; it appears below once sent.",
    )


@router.post("/{endpoint_id}/rotate-secret")
async def rotate_secret(request: Request, endpoint_id: str, who: ClientUser, _: Posted) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    endpoint = await webhooks.rotate_secret(st.db, client_id, endpoint_id[:64])
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "webhook.rotate_secret",
        client_id=client_id,
        target=endpoint_id,
    )
    return await page(request, "client/webhook_secret.html", who, e=endpoint)


@router.post("/{endpoint_id}/delete")
async def delete(request: Request, endpoint_id: str, who: ClientUser, _: Posted) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    await webhooks.delete_endpoint(st.db, client_id, endpoint_id[:64])
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "webhook.delete",
        client_id=client_id,
        target=endpoint_id,
    )
    return await redirect(request, "/client/webhooks", "Webhook deleted.")
