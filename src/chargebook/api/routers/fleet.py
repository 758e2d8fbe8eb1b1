"""Management API: customers (drivers) and their tokens; fleet groups, their tokens and spend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from chargebook.api.deps import CurrentClient, Db
from chargebook.api.openapi import errors
from chargebook.api.schemas import (
    BulkTokens,
    CustomerCreate,
    CustomerList,
    CustomerOut,
    GroupCreate,
    GroupList,
    GroupOut,
    TokenCreate,
    TokenList,
    TokenOut,
)
from chargebook.api.views import customer_out, group_out, token_out
from chargebook.services import fleet as svc
from chargebook.services.billing import month_bounds
from chargebook.services.tokens import Issuer

router = APIRouter()
ListLimit = Annotated[int, Query(ge=1, le=1000, description="How many to return.", examples=[100])]


def _issuer(request: Request) -> Issuer:
    return request.app.state.issuer  # type: ignore[no-any-return]  # app.state is untyped


@router.post("/customers", status_code=201, response_model=CustomerOut, responses=errors(400), tags=["customers"],
             summary="Add a customer (a driver of yours), with an app token (APP_USER) to book with")
async def create_customer(body: CustomerCreate, client: CurrentClient, db: Db, request: Request) -> CustomerOut:
    return customer_out(await svc.create_customer(db, client.id, **body.model_dump(), issuer=_issuer(request)))


@router.get("/customers", response_model=CustomerList, responses=errors(400), tags=["customers"],
            summary="List your customers, oldest first")
async def list_customers(client: CurrentClient, db: Db, limit: ListLimit = 100) -> CustomerList:
    return CustomerList(customers=[customer_out(c) for c in await svc.list_customers(db, client.id, limit)])


@router.get("/customers/{customer_id}", response_model=CustomerOut, responses=errors(404), tags=["customers"],
            summary="Get one customer")
async def get_customer(customer_id: str, client: CurrentClient, db: Db) -> CustomerOut:
    return customer_out(await svc.get_customer(db, client.id, customer_id))


@router.post(
    "/customers/{customer_id}/tokens", status_code=201, response_model=TokenOut,
    responses=errors(400, 404, 409, notes={409: "The uid is in use (by any client): choose another, "
                                                "or leave it out to have one generated."}),
    tags=["customers"], summary="Issue a token to a customer (for driver_token bookings)",
)
async def issue_customer_token(
    customer_id: str, body: TokenCreate, client: CurrentClient, db: Db, request: Request
) -> TokenOut:
    token = await svc.issue_customer_token(
        db, client.id, customer_id, token_type=body.type, visual_number=body.visual_number,
        uid=body.uid, issuer=_issuer(request),
    )
    return token_out(token)


@router.get("/customers/{customer_id}/tokens", response_model=TokenList, responses=errors(404), tags=["customers"],
            summary="List a customer's tokens")
async def list_customer_tokens(customer_id: str, client: CurrentClient, db: Db) -> TokenList:
    return TokenList(tokens=[token_out(t) for t in await svc.list_customer_tokens(db, client.id, customer_id)])


@router.post("/groups", status_code=201, response_model=GroupOut, responses=errors(400), tags=["fleet groups"],
             summary="Create a fleet group, with optional monthly and per-booking spending limits")
async def create_group(body: GroupCreate, client: CurrentClient, db: Db) -> GroupOut:
    return group_out(await svc.create_group(db, client.id, **body.model_dump()))


@router.get("/groups", response_model=GroupList, responses=errors(400), tags=["fleet groups"],
            summary="List your fleet groups, oldest first")
async def list_groups(client: CurrentClient, db: Db, limit: ListLimit = 100) -> GroupList:
    return GroupList(groups=[group_out(g) for g in await svc.list_groups(db, client.id, limit)])


@router.get(
    "/groups/{group_id}", response_model=GroupOut, responses=errors(400, 404), tags=["fleet groups"],
    summary="A fleet group with its spend in a month (charged + held for live bookings)",
)
async def get_group(
    group_id: str, client: CurrentClient, db: Db,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$",
                                       description="YYYY-MM (UTC); default: this month.",
                                       examples=["2026-11"])] = None,
) -> GroupOut:
    at = month_bounds(month)[0] if month else None
    group, spend, count = await svc.get_group(db, client.id, group_id, at)
    return group_out(group, spend, count)


@router.post(
    "/groups/{group_id}/tokens/bulk", status_code=201, response_model=TokenList, responses=errors(400, 404),
    tags=["fleet groups"], summary="Issue a batch of RFID tokens to a fleet group",
)
async def bulk_tokens(group_id: str, body: BulkTokens, client: CurrentClient, db: Db, request: Request) -> TokenList:
    tokens = await svc.issue_group_tokens(db, client.id, group_id, body.count, issuer=_issuer(request))
    return TokenList(tokens=[token_out(t) for t in tokens])


@router.get("/groups/{group_id}/tokens", response_model=TokenList, responses=errors(400, 404),
            tags=["fleet groups"], summary="List a fleet group's tokens")
async def list_group_tokens(group_id: str, client: CurrentClient, db: Db, limit: ListLimit = 1000) -> TokenList:
    return TokenList(tokens=[token_out(t) for t in await svc.list_group_tokens(db, client.id, group_id, limit)])
