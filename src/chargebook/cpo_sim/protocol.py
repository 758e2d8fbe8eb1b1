"""The inbound OCPI plumbing the routers share: who is calling, bodies, errors, pagination.

OCPI 2.2.1 transport_and_format.asciidoc and status_codes.asciidoc:

* ``Authorization: Token <base64(token)>``; the plain token is accepted too (2.1.1 habit).
  Missing or unknown → HTTP 401 with an envelope (status 2000). Token A (and token B while
  our own registration is in flight) opens only the configuration modules: versions and
  credentials (credentials.asciidoc: token A on any other module MUST get 401).
* A body that is not JSON → HTTP 400 (status 2001). A JSON body that is not the expected
  object has reached the OCPI layer → HTTP 200 with status 2001.
* Paginated GETs honour ``offset``, ``limit`` (capped at ``page_limit``), ``date_from``
  (inclusive) and ``date_to`` (exclusive) and answer with ``Link``, ``X-Total-Count`` and
  ``X-Limit``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from chargebook.cpo_sim.outbound import wire
from chargebook.cpo_sim.quirks import BAD_LINK_HEADERS, spoil_link
from chargebook.cpo_sim.recase import recased
from chargebook.cpo_sim.simulator import VERSION, Simulator
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221 import StatusCode, load_json, parse_datetime

M = TypeVar("M", bound=BaseModel)


class OcpiError(Exception):
    """Answered as an OCPI envelope with ``status_code`` and HTTP ``http_status``."""

    def __init__(
        self, status_code: int, message: str, http_status: int = 200, data: Any = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status
        self.data = data


def ocpi_error_response(exc: OcpiError) -> Response:
    return t.ocpi_response(
        wire(exc.data),
        status_code=exc.status_code,
        message=exc.message,
        http_status=exc.http_status,
    )


def ok(
    data: Any = None, *, http_status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A success envelope; models inside ``data`` keep their exact numbers."""
    return t.ocpi_response(wire(data), http_status=http_status, headers=headers)


def ok_back(sim: Simulator, data: Any) -> Response:
    """A single object the eMSP GETs, its ids re-cased when the simulator re-cases them."""
    return ok(recased(wire(data)) if sim.config.recase_ids else data)


def get_sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


Sim = Annotated[Simulator, Depends(get_sim)]


def offered_version(request: Request) -> str:
    """The OCPI version in the path (``/ocpi/cpo/{version}/…``); 404 unless we offer it."""
    version = str(request.path_params.get("version", VERSION))
    if not get_sim(request).offers(version):
        raise OcpiError(StatusCode.CLIENT_ERROR, f"OCPI {version} is not offered here", 404)
    return version


#: Every OCPI router below ``/ocpi/cpo/{version}`` depends on this.
ApiVersion = Annotated[str, Depends(offered_version)]
VERSIONED = [Depends(offered_version)]


# --- who is calling ----------------------------------------------------------------------


class Caller(StrEnum):
    TOKEN_A = "TOKEN_A"  # our bootstrap token, before any registration
    PENDING = "PENDING"  # our token B while our POST to the eMSP is in flight
    PEER = "PEER"  # the registered eMSP


def _same(given: str, expected: str | None) -> bool:
    return expected is not None and secrets.compare_digest(given.encode(), expected.encode())


def identify(sim: Simulator, header: str | None) -> Caller | None:
    """Which of our tokens the Authorization header carries (Base64 or plain), if any."""
    store = sim.store
    for candidate in t.token_candidates(header):
        if store.peer is not None and _same(candidate, store.peer.server_token):
            return Caller.PEER
        if _same(candidate, store.pending_token):
            return Caller.PENDING
        if store.peer is None and _same(candidate, store.token_a):
            return Caller.TOKEN_A
    return None


def _caller(allowed: set[Caller]) -> Callable[[Request], Caller]:
    def dependency(request: Request) -> Caller:
        caller = identify(get_sim(request), request.headers.get("Authorization"))
        if caller is None or caller not in allowed:
            # status_codes.asciidoc: a missing or invalid token is an HTTP 401, not a 2xxx
            # in a 200; the envelope is optional, we send one.
            raise OcpiError(StatusCode.CLIENT_ERROR, "Unauthorized: unknown or missing token", 401)
        return caller

    return dependency


#: versions and version details: token A, B-in-flight or the peer's token.
VersionsCaller = Annotated[Caller, Depends(_caller({Caller.TOKEN_A, Caller.PENDING, Caller.PEER}))]
#: credentials: token A or the peer's token.
CredentialsCaller = Annotated[Caller, Depends(_caller({Caller.TOKEN_A, Caller.PEER}))]
#: functional modules (locations, tariffs, sessions, cdrs, commands, tokens): the peer only.
PeerCaller = Annotated[Caller, Depends(_caller({Caller.PEER}))]


# --- bodies ------------------------------------------------------------------------------


async def read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return load_json(raw)
    except ValueError as exc:
        # transport_and_format.asciidoc: a body that is not valid JSON MUST get HTTP 400.
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, "body is not valid JSON", 400
        ) from exc


async def read_model(request: Request, model: type[M]) -> M:
    data = await read_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS,
            f"invalid {model.__name__}: {where}: {first['msg']}",
        ) from exc


# --- pagination ----------------------------------------------------------------------------


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, f"{name} must be an integer >= 0")
    return int(raw)


def date_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_datetime(raw)
    except ValueError as exc:
        raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, f"{name}: {exc}") from exc


def paginate(
    sim: Simulator,
    request: Request,
    items: Sequence[Any],
    *,
    stamp: Callable[[Any], datetime] = lambda obj: obj.last_updated,
    require_date_from: bool = False,
    recase: bool = False,
) -> Response:
    """One page of ``items`` (already in a stable, oldest-first order) with its headers;
    ``recase``: its ids lower-cased (``recase.py``)."""
    date_from = date_param(request, "date_from")
    if require_date_from and date_from is None:
        raise OcpiError(StatusCode.INVALID_OR_MISSING_PARAMETERS, "date_from is required")
    date_to = date_param(request, "date_to")
    offset = _int_param(request, "offset", 0)
    limit = min(_int_param(request, "limit", sim.config.page_limit), sim.config.page_limit)
    if limit == 0:
        limit = sim.config.page_limit
    matching = [
        item
        for item in items
        if (date_from is None or stamp(item) >= date_from)
        and (date_to is None or stamp(item) < date_to)
    ]
    headers = t.page_headers(
        url=f"{sim.config.public_url.rstrip('/')}{request.url.path}",
        params=dict(request.query_params),
        offset=offset,
        limit=limit,
        total=len(matching),
    )
    if sim.quirk(BAD_LINK_HEADERS):
        headers = spoil_link(headers, offset // limit)
    page = matching[offset : offset + limit]
    return ok(recased(wire(page)) if recase else page, headers=headers)
