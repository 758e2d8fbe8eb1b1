"""Operators: clients (tenants) with their usage; create, rotate the key, suspend and resume,
change terms and the CPOs in its contract, invite client users. Every action goes to the
audit log.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.console.auth import Operator, Posted, client_ip, origin, state
from chargebook.console.pages import page, redirect
from chargebook.console.rendering import base_path
from chargebook.services import audit, clients, console_platform, console_users, contracts
from chargebook.services.clock import utcnow

router = APIRouter(prefix="/ops/clients")


@router.get("")
async def list_clients(request: Request, who: Operator) -> Response:
    st = state(request)
    rows = await console_platform.client_rows(st.db, st.limiter, utcnow())
    return await page(request, "ops/clients.html", who, rows=rows)


def _money_detail(**values: Decimal | int | None) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if v is not None}


@router.post("")
async def create_client(request: Request, who: Operator, form: Posted) -> Response:
    st = state(request)
    fee = form.decimal("reservation_fee") or Decimal("0")
    commission = form.decimal("commission_percent") or Decimal("0")
    rate = form.integer("rate_limit_per_minute", maximum=1_000_000) or 100
    quota = form.integer("monthly_quota", maximum=10**9) or 10_000
    client, key = await clients.create_client(
        st.db,
        form.text("name"),
        reservation_fee=fee,
        commission_percent=commission,
        rate_limit_per_minute=rate,
        monthly_quota=quota,
    )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "client.create",
        client_id=client.id,
        target=client.name,
        detail=_money_detail(
            reservation_fee=fee,
            commission_percent=commission,
            rate_limit_per_minute=rate,
            monthly_quota=quota,
        ),
    )
    return await page(request, "ops/key_once.html", who, client=client, key=key, created=True)


@router.get("/{client_id}")
async def client_page(request: Request, client_id: str, who: Operator) -> Response:
    st = state(request)
    account = await console_platform.client_account(st.db, st.limiter, client_id, utcnow())
    entries = await audit.list_entries(st.db, client_id=client_id, limit=20)
    contract = await contracts.get_contract(st.db, client_id)
    cpos = await console_platform.party_rows(st.db)
    return await page(
        request, "ops/client.html", who, a=account, entries=entries, contract=contract, cpos=cpos
    )


@router.post("/{client_id}/rotate-key")
async def rotate_key(request: Request, client_id: str, who: Operator, _: Posted) -> Response:
    st = state(request)
    key = await clients.rotate_key(st.db, client_id)
    await audit.record(
        st.db, who.actor(client_ip(request)), "key.rotate", client_id=client_id, target=key[:10]
    )
    account = await console_platform.client_account(st.db, st.limiter, client_id, utcnow())
    return await page(
        request, "ops/key_once.html", who, client=account.client, key=key, created=False
    )


@router.post("/{client_id}/suspend")
async def suspend(request: Request, client_id: str, who: Operator, _: Posted) -> Response:
    client = await clients.set_client_status(state(request).db, client_id, "suspended")
    await audit.record(
        state(request).db,
        who.actor(client_ip(request)),
        "client.suspend",
        client_id=client_id,
        target=client.name,
    )
    return await redirect(
        request, f"/ops/clients/{client_id}", f"{client.name} suspended: its API calls answer 403."
    )


@router.post("/{client_id}/resume")
async def resume(request: Request, client_id: str, who: Operator, _: Posted) -> Response:
    client = await clients.set_client_status(state(request).db, client_id, "active")
    await audit.record(
        state(request).db,
        who.actor(client_ip(request)),
        "client.resume",
        client_id=client_id,
        target=client.name,
    )
    return await redirect(request, f"/ops/clients/{client_id}", f"{client.name} active again.")


@router.post("/{client_id}/terms")
async def change_terms(request: Request, client_id: str, who: Operator, form: Posted) -> Response:
    fee, commission = form.decimal("reservation_fee"), form.decimal("commission_percent")
    rate = form.integer("rate_limit_per_minute", maximum=1_000_000)
    quota = form.integer("monthly_quota", maximum=10**9)
    st = state(request)
    client = await clients.update_client(
        st.db,
        client_id,
        reservation_fee=fee,
        commission_percent=commission,
        rate_limit_per_minute=rate,
        monthly_quota=quota,
    )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "client.terms",
        client_id=client_id,
        target=client.name,
        detail=_money_detail(
            reservation_fee=fee,
            commission_percent=commission,
            rate_limit_per_minute=rate,
            monthly_quota=quota,
        ),
    )
    return await redirect(
        request, f"/ops/clients/{client_id}", "Terms saved; limits apply from the next request."
    )


@router.post("/{client_id}/contract")
async def change_contract(
    request: Request, client_id: str, who: Operator, form: Posted
) -> Response:
    """Every CPO (``scope=all``), or exactly the ticked ones (``cpo`` = ``DE*SIM``, repeated)."""
    st = state(request)
    if form.fields.get("scope") == "all":
        contract = await contracts.set_contract(st.db, client_id, None)
    else:
        ticked = ",".join(value for name, value in form.pairs if name == "cpo")
        contract = await contracts.set_contract(
            st.db, client_id, contracts.parse_cpo_codes(ticked)
        )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "client.contract",
        client_id=client_id,
        target=client_id,
        detail={"cpos": contract.describe()},
    )
    return await redirect(
        request, f"/ops/clients/{client_id}", f"Contract saved: {contract.describe()}."
    )


def invitation_link(request: Request, token: str) -> str:
    public = state(request).settings.public_url
    return f"{(public or origin(request)).rstrip('/')}{base_path(request)}/invite/{token}"


@router.post("/{client_id}/users")
async def invite_user(request: Request, client_id: str, who: Operator, form: Posted) -> Response:
    invite = await console_users.invite_client_user(
        state(request).db,
        client_id,
        form.text("email", max_length=254),
        who.actor(client_ip(request)),
    )
    return await page(
        request,
        "ops/invited.html",
        who,
        invite=invite,
        link=invitation_link(request, invite.token),
        client_id=client_id,
    )
