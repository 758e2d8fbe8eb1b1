"""Operators: CPO connections. Invite a CPO (our versions URL and a token A, shown once),
connect to one by its versions URL and token A, pull its catalogue now, unregister.

A catalogue pull can take minutes for a large CPO, so the console starts it as a task in
this process and answers at once; the CPO list shows its progress through ``last sync``. A
pull lost with the process is not lost work: the worker pulls every CPO whose last sync is
older than ``CHARGEBOOK_SYNC_INTERVAL_MINUTES``.
"""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.console.auth import ConsoleState, Operator, Posted, client_ip, origin, state
from chargebook.console.errors import error_page
from chargebook.console.pages import page, redirect
from chargebook.db.models import Party
from chargebook.domain.errors import InvalidRequest
from chargebook.ocpi.client import PeerError
from chargebook.services import (
    audit,
    console_overview,
    console_platform,
    ocpi_catalogue,
    ocpi_parties,
)

router = APIRouter(prefix="/ops/cpos")
log = structlog.get_logger("chargebook.console")


def _identity(request: Request) -> ocpi_parties.Identity:
    settings = state(request).settings
    return ocpi_parties.Identity.from_settings(settings, settings.public_url or origin(request))


def syncing(st: ConsoleState) -> set[str]:
    return {t.get_name().removeprefix("sync:") for t in st.tasks if not t.done()}


def start_sync(st: ConsoleState, party: Party) -> bool:
    """False when this process is already pulling that CPO."""
    if party.id in syncing(st):
        return False

    async def pull() -> None:
        try:
            counts = await ocpi_catalogue.sync_party(st.db, party)
            log.info("console: catalogue pulled", party=party.id, **counts)
        except Exception:  # noqa: BLE001 - a failed pull is logged; the worker will pull again
            log.exception("console: catalogue pull failed", party=party.id)

    task = asyncio.create_task(pull(), name=f"sync:{party.id}")
    st.tasks.add(task)
    task.add_done_callback(st.tasks.discard)
    return True


@router.get("")
async def list_cpos(request: Request, who: Operator) -> Response:
    st = state(request)
    rows = await console_platform.party_rows(st.db)
    calls = {c.party: c for c in console_overview.ocpi_call_shares()}
    return await page(
        request,
        "ops/cpos.html",
        who,
        rows=rows,
        calls=calls,
        syncing=syncing(st),
        versions_url=_identity(request).versions_url,
    )


@router.post("/invite")
async def invite(request: Request, who: Operator, form: Posted) -> Response:
    st = state(request)
    name = form.text("name")
    country, party_id = form.optional_text("country_code"), form.optional_text("party_id")
    if (country is None) != (party_id is None):
        raise InvalidRequest("country_code and party_id: give both, or neither")
    # The invitation registers one party, once: this one, or the first that registers with it.
    identity = (country, party_id) if country and party_id else None
    token = await ocpi_parties.issue_invite(st.db, name, identity)
    await audit.record(st.db, who.actor(client_ip(request)), "cpo.invite", target=name)
    return await page(
        request,
        "ops/cpo_invite.html",
        who,
        name=name,
        token=token,
        party="-".join(identity).upper() if identity else None,
        versions_url=_identity(request).versions_url,
    )


@router.post("/connect")
async def connect(request: Request, who: Operator, form: Posted) -> Response:
    st = state(request)
    versions_url = form.text("versions_url", max_length=255)
    if not versions_url.startswith(("http://", "https://")):
        raise InvalidRequest("versions_url: an http:// or https:// URL")
    try:
        party = await ocpi_parties.connect(
            st.db,
            versions_url,
            form.text("token_a", max_length=255),
            _identity(request),
            form.optional_text("name"),
        )
    except PeerError as exc:
        return error_page(request, 502, f"The CPO did not complete the handshake: {exc}")
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "cpo.connect",
        target=f"{party.country_code}*{party.party_id}",
        detail={"versions_url": versions_url, "version": party.version or ""},
    )
    start_sync(st, party)
    return await redirect(
        request,
        "/ops/cpos",
        f"Connected to {party.name} ({party.country_code}*{party.party_id}) "
        f"over OCPI {party.version}; pulling its catalogue now.",
    )


@router.post("/{party_pk}/sync")
async def sync_now(request: Request, party_pk: str, who: Operator, _: Posted) -> Response:
    st = state(request)
    party = await console_platform.party(st.db, party_pk)
    if party.status != "registered":
        raise InvalidRequest(f"{party.name} is {party.status}: only a registered CPO can be pulled")
    started = start_sync(st, party)
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "cpo.sync",
        target=f"{party.country_code}*{party.party_id}",
    )
    return await redirect(
        request, "/ops/cpos", "Catalogue pull started." if started else "A pull is already running."
    )


@router.post("/{party_pk}/unregister")
async def unregister(request: Request, party_pk: str, who: Operator, _: Posted) -> Response:
    st = state(request)
    party = await console_platform.party(st.db, party_pk)
    await ocpi_parties.unregister(st.db, party)
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "cpo.unregister",
        target=f"{party.country_code}*{party.party_id}",
    )
    return await redirect(
        request, "/ops/cpos", f"{party.name} unregistered: its token no longer works."
    )
