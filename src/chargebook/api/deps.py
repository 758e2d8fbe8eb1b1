"""Dependencies shared by the routers, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from chargebook.api.rate_limits import check_rate_limit
from chargebook.db.engine import Database
from chargebook.services.bookings import BookingPolicy
from chargebook.services.clients import ClientContext, authenticate

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyAuth")
_bearer = HTTPBearer(auto_error=False, scheme_name="BearerAuth")


# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread
# pool, which costs a thread hand-off per request.
async def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]  # app.state is untyped


async def get_policy(request: Request) -> BookingPolicy:
    return request.app.state.policy  # type: ignore[no-any-return]  # app.state is untyped


async def current_client(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ClientContext:
    key = api_key or (bearer.credentials if bearer else None)
    client = await authenticate(request.app.state.db, key)
    request.state.client_id = client.id
    await check_rate_limit(request, client)  # 429 before the endpoint does any work
    return client


Db = Annotated[Database, Depends(get_db)]
Policy = Annotated[BookingPolicy, Depends(get_policy)]
CurrentClient = Annotated[ClientContext, Depends(current_client)]
