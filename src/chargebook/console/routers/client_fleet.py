"""Client users: fleet groups (limits, spend this month, bulk tokens and their CSV) and
customers (drivers) with their tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.console.auth import ClientUser, Posted, client_ip, state
from chargebook.console.pages import page, redirect
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.spreadsheet import to_csv
from chargebook.domain.tokens import TokenType
from chargebook.services import audit, console_fleet, fleet
from chargebook.services.clock import utcnow

router = APIRouter(prefix="/client")
TOKEN_COLUMNS = [
    "uid",
    "contract_id",
    "visual_number",
    "type",
    "group_id",
    "valid",
    "whitelist",
    "issuer",
    "fleet_group_id",
    "issued_at",
]
MAX_TOKENS_CSV = 100_000


def _client(who_client_id: str | None) -> str:
    assert who_client_id is not None  # ClientUser guarantees it
    return who_client_id


@router.get("/groups")
async def groups(request: Request, who: ClientUser) -> Response:
    rows = await console_fleet.groups_with_spend(
        state(request).db, _client(who.client_id), utcnow()
    )
    return await page(request, "client/groups.html", who, rows=rows)


@router.post("/groups")
async def create_group(request: Request, who: ClientUser, form: Posted) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    monthly, per_session = form.decimal("monthly_limit"), form.decimal("session_limit")
    group = await fleet.create_group(
        st.db, client_id, name=form.text("name"), monthly_limit=monthly, session_limit=per_session
    )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "group.create",
        client_id=client_id,
        target=group.id,
        detail={
            "name": group.name,
            "monthly_limit": str(monthly or ""),
            "session_limit": str(per_session or ""),
        },
    )
    return await redirect(request, f"/client/groups/{group.id}", f"Group {group.name} created.")


@router.get("/groups/{group_id}")
async def group_page(request: Request, group_id: str, who: ClientUser) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    month = await console_fleet.group_month(st.db, client_id, group_id[:64], utcnow())
    tokens = await fleet.list_group_tokens(st.db, client_id, group_id[:64], 50)
    return await page(request, "client/group.html", who, g=month, tokens=tokens, issued=None)


@router.post("/groups/{group_id}/tokens")
async def issue_tokens(request: Request, group_id: str, who: ClientUser, form: Posted) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    count = form.integer("count", maximum=fleet.MAX_BULK_TOKENS, required=True)
    assert count is not None
    issued = await fleet.issue_group_tokens(
        st.db, client_id, group_id[:64], count, issuer=st.issuer
    )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "group.tokens",
        client_id=client_id,
        target=group_id,
        detail={"count": str(count)},
    )
    month = await console_fleet.group_month(st.db, client_id, group_id[:64], utcnow())
    tokens = await fleet.list_group_tokens(st.db, client_id, group_id[:64], 50)
    return await page(request, "client/group.html", who, g=month, tokens=tokens, issued=issued)


@router.get("/groups/{group_id}/tokens.csv")
async def tokens_csv(request: Request, group_id: str, who: ClientUser) -> Response:
    client_id = _client(who.client_id)
    tokens = await fleet.list_group_tokens(
        state(request).db, client_id, group_id[:64], MAX_TOKENS_CSV
    )
    body = to_csv(
        TOKEN_COLUMNS,
        (
            [
                t.uid,
                t.contract_id,
                t.visual_number or "",
                t.type,
                t.group_id or "",
                "true" if t.valid else "false",
                t.whitelist,
                t.issuer,
                t.fleet_group_id or "",
                t.last_updated.isoformat(),
            ]
            for t in tokens
        ),
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tokens-{group_id[:64]}.csv"'},
    )


@router.get("/customers")
async def customers(request: Request, who: ClientUser) -> Response:
    rows = await fleet.list_customers(state(request).db, _client(who.client_id), 500)
    return await page(request, "client/customers.html", who, rows=rows)


@router.post("/customers")
async def create_customer(request: Request, who: ClientUser, form: Posted) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    customer = await fleet.create_customer(
        st.db,
        client_id,
        name=form.optional_text("name"),
        email=form.optional_text("email", max_length=254),
        external_ref=form.optional_text("external_ref", max_length=100),
    )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "customer.create",
        client_id=client_id,
        target=customer.id,
    )
    return await redirect(request, f"/client/customers/{customer.id}", "Customer added.")


@router.get("/customers/{customer_id}")
async def customer_page(request: Request, customer_id: str, who: ClientUser) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    customer = await fleet.get_customer(st.db, client_id, customer_id[:64])
    tokens = await fleet.list_customer_tokens(st.db, client_id, customer.id)
    return await page(
        request,
        "client/customer.html",
        who,
        c=customer,
        tokens=tokens,
        token_types=[t.value for t in TokenType if t is not TokenType.AD_HOC_USER],
    )


@router.post("/customers/{customer_id}/tokens")
async def issue_customer_token(
    request: Request, customer_id: str, who: ClientUser, form: Posted
) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    offered = [
        t for t in TokenType if t is not TokenType.AD_HOC_USER
    ]  # ad-hoc tokens come with a booking
    try:
        token_type = TokenType(form.text("type"))
    except ValueError:
        token_type = TokenType.AD_HOC_USER
    if token_type not in offered:
        raise InvalidRequest(f"type: one of {', '.join(t.value for t in offered)}")
    token = await fleet.issue_customer_token(
        st.db,
        client_id,
        customer_id[:64],
        token_type=token_type,
        visual_number=form.optional_text("visual_number", max_length=64),
        uid=None,
        issuer=st.issuer,
    )
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "customer.token",
        client_id=client_id,
        target=customer_id,
        detail={"uid": token.uid, "type": token.type},
    )
    return await redirect(request, f"/client/customers/{customer_id}", f"Token {token.uid} issued.")
