"""Tokens module, Receiver interface (OCPI 2.2.1 mod_tokens.asciidoc § Receiver Interface).

The eMSP pushes its Tokens to ``{tokens}/{country_code}/{party_id}/{token_uid}[?type=]``
(type defaults to RFID; a token is unique by uid and type). The simulator keeps them as a
whitelist cache: a token pushed with ``whitelist: ALWAYS`` is then authorized locally.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim.protocol import VERSIONED, OcpiError, PeerCaller, Sim, ok, read_model
from chargebook.ocpi.v221 import StatusCode, Token, TokenPatch, ci_equal, ci_key

router = APIRouter(dependencies=VERSIONED)
PATH = "/ocpi/cpo/{version}/tokens/{country_code}/{party_id}/{token_uid}"


def _key(request: Request, token_uid: str) -> tuple[str, str]:
    return ci_key(token_uid), request.query_params.get("type") or "RFID"


def _unknown(token_uid: str) -> OcpiError:
    return OcpiError(StatusCode.UNKNOWN_TOKEN, f"unknown token {token_uid}", http_status=404)


@router.get(PATH)
async def get_token(
    request: Request,
    country_code: str,
    party_id: str,
    token_uid: str,
    sim: Sim,
    _caller: PeerCaller,
) -> Response:
    token = sim.store.tokens.get(_key(request, token_uid))
    if token is None or not (
        ci_equal(token.country_code, country_code) and ci_equal(token.party_id, party_id)
    ):
        raise _unknown(token_uid)
    return ok(token)


@router.put(PATH)
async def put_token(
    request: Request,
    country_code: str,
    party_id: str,
    token_uid: str,
    sim: Sim,
    _caller: PeerCaller,
) -> Response:
    token = await read_model(request, Token)
    # transport_and_format § Client Owned Object push: the URL party and id SHALL match the body.
    if not (
        ci_equal(token.country_code, country_code)
        and ci_equal(token.party_id, party_id)
        and ci_equal(token.uid, token_uid)
    ):
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, "URL and body disagree on the token"
        )
    key = (ci_key(token.uid), str(token.type))
    created = key not in sim.store.tokens
    sim.store.tokens[key] = token
    sim.store.log("token_received", token_uid=token.uid, whitelist=token.whitelist.value)
    return ok(http_status=201 if created else 200)


@router.patch(PATH)
async def patch_token(
    request: Request,
    country_code: str,
    party_id: str,
    token_uid: str,
    sim: Sim,
    _caller: PeerCaller,
) -> Response:
    key = _key(request, token_uid)
    token = sim.store.tokens.get(key)
    if token is None:
        raise _unknown(token_uid)
    patch = await read_model(request, TokenPatch)  # a PATCH without last_updated is 2001
    merged = {**token.model_dump(exclude_unset=True), **patch.model_dump(exclude_unset=True)}
    try:
        sim.store.tokens[key] = Token.model_validate(merged)
    except ValueError as exc:
        raise OcpiError(
            StatusCode.INVALID_OR_MISSING_PARAMETERS, f"invalid token after PATCH: {exc}"
        ) from exc
    return ok()
