"""Every call the simulator makes to the eMSP, one function per OCPI interaction.

The eMSP's module URLs come from its version details (stored at registration). Failures of
pushes are logged and dropped, never queued: OCPI 2.2.1 transport_and_format.asciidoc
§ Offline behaviour says a receiver that missed pushes catches up by GET, and there are no
retries of CommandResults (mod_commands.asciidoc § CommandResponse Object).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from chargebook.cpo_sim import editions
from chargebook.cpo_sim.booked import SimBooking
from chargebook.cpo_sim.quirks import EXPLICIT_NULLS, NULLS, with_explicit_nulls
from chargebook.cpo_sim.recase import recased, recased_url
from chargebook.cpo_sim.simulator import NotRegistered, Simulator
from chargebook.ocpi.client import OcpiReply, PeerError, PeerRejected, PeerUnreachable
from chargebook.ocpi.v221 import (
    CDR,
    EVSE,
    AuthorizationInfo,
    CommandResult,
    EvsePatch,
    Location,
    LocationReferences,
    Session,
    SessionPatch,
    StatusCode,
    Tariff,
    Token,
    ci_key,
)
from chargebook.ocpi.v230 import Booking, BookingPatch

PUSH_CONCURRENCY = 8


def join(base: str, *segments: str) -> str:
    """``base`` + path segments, one slash between (peers' URLs may end in '/' or not, and
    the spec writes ``{url}{command}``); ids are percent-encoded, '*' kept for EVSE ids."""
    return "/".join([base.rstrip("/"), *(quote(str(s), safe="*") for s in segments)])


def wire(value: Any) -> Any:
    """A model (or list of models) as plain data with exact Decimals, for an envelope; with
    every unset optional field as ``null`` while the ``explicit_nulls`` quirk is on."""
    if isinstance(value, BaseModel):
        if NULLS.get():
            return with_explicit_nulls(value)
        return value.model_dump(mode="python", exclude_unset=True)
    if isinstance(value, (list, tuple)):
        return [wire(item) for item in value]
    return value


async def send(
    sim: Simulator,
    what: str,
    method: str,
    url: str,
    *,
    body: Any = None,
    params: dict[str, Any] | None = None,
) -> OcpiReply | None:
    """One call to the eMSP with the token it gave us; None (and an event) if it failed.

    ``body`` is converted to the OCPI version the eMSP registered on (``editions``)."""
    body = editions.for_version(sim.peer_version, body)
    nulls = NULLS.set(sim.quirk(EXPLICIT_NULLS))
    try:
        data = wire(body)
    finally:
        NULLS.reset(nulls)
    url, data = on_the_way_back(sim, what, url, data)
    try:
        reply = await sim.client().request(method, url, body=data, params=params)
    except (PeerError, NotRegistered) as exc:
        sim.store.log("outbound_failed", what=what, method=method, url=url, error=str(exc))
        return None
    sim.store.log(
        "outbound",
        what=what,
        method=method,
        url=url,
        http_status=reply.http_status,
        status_code=reply.status_code,
    )
    return reply


def on_the_way_back(sim: Simulator, what: str, url: str, body: Any) -> tuple[str, Any]:
    """``url`` and ``body`` as sent: with ``recase_ids``, every id in them lower-cased
    (``recase.py``). A ``response_url`` keeps its command type (an enum)."""
    peer = sim.store.peer
    if not sim.config.recase_ids or peer is None:
        return url, body
    bases = [] if what == "command_result" else [
        base for base in peer.endpoints.values() if url.startswith(base.rstrip("/"))
    ]
    return recased_url(url, max(bases, key=len) if bases else None), recased(body)


# --- Locations and Tariffs (we are the Sender; the eMSP's Receiver interface) -------------


def peer_endpoint(sim: Simulator, module: str, role: str = "RECEIVER") -> str | None:
    """The registered eMSP's URL for ``module`` (None when no eMSP or no such endpoint)."""
    peer = sim.store.peer
    return peer.endpoint(module, role) if peer else None


async def push_tariff(sim: Simulator, tariff: Tariff) -> bool:
    """OCPI 2.2.1 mod_tariffs.asciidoc § Receiver PUT ``{url}/{cc}/{pid}/{tariff_id}``."""
    url = peer_endpoint(sim, "tariffs")
    if url is None:
        return False
    full = join(url, tariff.country_code, tariff.party_id, tariff.id)
    return await send(sim, "tariff", "PUT", full, body=tariff) is not None


async def push_location(sim: Simulator, location: Location) -> bool:
    """OCPI 2.2.1 mod_locations.asciidoc § Receiver PUT ``{url}/{cc}/{pid}/{location_id}``."""
    url = peer_endpoint(sim, "locations")
    if url is None:
        return False
    full = join(url, location.country_code, location.party_id, location.id)
    return await send(sim, "location", "PUT", full, body=location) is not None


async def push_catalogue(sim: Simulator) -> dict[str, int]:
    """PUT every tariff, then every location (connectors reference tariffs, so tariffs go
    first). Returns how many of each arrived and how many failed."""
    peer = sim.store.peer
    if peer is None:
        raise NotRegistered("no eMSP is registered")
    counts = {"tariffs": 0, "locations": 0, "failed": 0, "skipped": 0}
    gate = asyncio.Semaphore(PUSH_CONCURRENCY)

    async def one(kind: str, push: Any, obj: Any) -> None:
        async with gate:
            counts[kind if await push(sim, obj) else "failed"] += 1

    for kind, push, objects in (
        ("tariffs", push_tariff, list(sim.store.tariffs.values())),
        ("locations", push_location, list(sim.store.locations.values())),
    ):
        if peer.endpoint(kind) is None:
            counts["skipped"] += len(objects)
            continue
        await asyncio.gather(*(one(kind, push, obj) for obj in objects))
    sim.store.log("catalogue_pushed", **counts)
    return counts


async def patch_evse_status(sim: Simulator, location: Location, evse: EVSE) -> bool:
    """OCPI 2.2.1 mod_locations.asciidoc § PATCH at EVSE level; a PATCH SHALL carry
    ``last_updated``."""
    url = peer_endpoint(sim, "locations")
    if url is None:
        return False
    full = join(url, location.country_code, location.party_id, location.id, evse.uid)
    # One PATCH per EVSE at a time, carrying the status as it is when sent: two changes
    # in quick succession cannot overtake each other on the wire.
    async with sim.evse_locks[ci_key(evse.uid)]:
        patch = EvsePatch(status=evse.status, last_updated=evse.last_updated)
        return await send(sim, "evse_status", "PATCH", full, body=patch) is not None


# --- Sessions and CDRs (the eMSP is the Receiver) ----------------------------------------


async def put_session(sim: Simulator, session: Session) -> bool:
    """OCPI 2.2.1 mod_sessions.asciidoc § Receiver PUT ``{url}/{cc}/{pid}/{session_id}``."""
    url = peer_endpoint(sim, "sessions")
    if url is None:
        return False
    full = join(url, session.country_code, session.party_id, session.id)
    return await send(sim, "session", "PUT", full, body=session) is not None


async def patch_session(sim: Simulator, session_id: str, patch: SessionPatch) -> bool:
    """OCPI 2.2.1 mod_sessions.asciidoc § PATCH: charging_periods in it are appended."""
    url = peer_endpoint(sim, "sessions")
    if url is None:
        return False
    full = join(url, sim.config.country_code, sim.config.party_id, session_id)
    return await send(sim, "session_patch", "PATCH", full, body=patch) is not None


async def post_cdr(sim: Simulator, cdr: CDR) -> tuple[bool, str | None]:
    """OCPI 2.2.1 mod_cdrs.asciidoc § Receiver POST; the eMSP answers with a ``Location``
    header naming where it keeps the CDR."""
    url = peer_endpoint(sim, "cdrs")
    if url is None:
        return False, None
    booking_id = sim.store.cdr_bookings.get(cdr.id)
    body = editions.for_version(sim.peer_version, cdr, booking_id=booking_id)
    reply = await send(sim, "cdr", "POST", url, body=body)
    if reply is None:
        return False, None
    return True, reply.headers.get("Location")


# --- Bookings (2.3.0 Bookings 1.1; the eMSP is the Receiver) ------------------------------

#: The Bookings text names the module ``Booking``; peers also publish ``bookings``.
BOOKING_MODULES = ("booking", "bookings")


def bookings_url(sim: Simulator) -> str | None:
    """The eMSP's Bookings Receiver endpoint, under either identifier."""
    peer = sim.store.peer
    if peer is None:
        return None
    found = {ci_key(module): url for (module, role), url in peer.endpoints.items()}
    receivers = {
        ci_key(module): url for (module, role), url in peer.endpoints.items() if role == "RECEIVER"
    }
    for module in BOOKING_MODULES:
        if module in receivers:
            return receivers[module]
    return next((found[m] for m in BOOKING_MODULES if m in found), None)


async def push_booking(sim: Simulator, booking: SimBooking) -> bool:
    """OCPI 2.3.0 mod_bookings.asciidoc § Receiver interface:
    ``{url}/{country_code}/{party_id}/{booking_id}`` with our (the owner's) party.

    ``bookings.push_method`` PUT (default): the full Booking every time, so one push that
    arrives heals any that did not. PATCH: the first push is a PUT, later ones PATCH the
    fields a decision changes (status, period, tokens, requests, canceled)."""
    url = bookings_url(sim)
    if url is None:
        sim.store.log("booking_push_skipped", booking_id=booking.id, why="no bookings endpoint")
        return False
    full = join(url, booking.country_code, booking.party_id, booking.id)
    whole = booking.ocpi()
    if sim.config.bookings.push_method == "PATCH" and booking.pushes > 0:
        fields = (
            "reservation_status",
            "period",
            "booking_tokens",
            "booking_requests",
            "canceled",
            "access_information",
            "authorization_reference",
            "last_updated",
        )
        body: Booking | BookingPatch = BookingPatch.model_validate(
            {f: getattr(whole, f) for f in fields if getattr(whole, f) is not None}
        )
        method = "PATCH"
    else:
        method, body = "PUT", whole
    reply = await send(sim, f"booking {whole.reservation_status.value}", method, full, body=body)
    if reply is None:
        booking.push_failures += 1
        return False
    booking.pushes += 1
    return True


# --- Commands (we are the Receiver; results go to the eMSP's response_url) ----------------


async def post_command_result(sim: Simulator, response_url: str, result: CommandResult) -> bool:
    """OCPI 2.2.1 mod_commands.asciidoc § Sender interface: POST {response_url}."""
    return await send(sim, "command_result", "POST", response_url, body=result) is not None


# --- Tokens (the eMSP is the Sender) -------------------------------------------------------


async def authorize(
    sim: Simulator, token: Token, location_id: str, evse_uid: str
) -> tuple[AuthorizationInfo | None, str]:
    """Real-time authorization (OCPI 2.2.1 mod_tokens.asciidoc § POST Method):
    ``POST {tokens}/{token_uid}/authorize?type=…`` with LocationReferences.

    Returns the AuthorizationInfo (None if there is none) and why, for the event log:
    ``answered``, ``unknown_token`` (404 / 2004), ``unreachable``, ``refused``, ``no_endpoint``.
    """
    url = peer_endpoint(sim, "tokens", "SENDER")
    if url is None:
        return None, "no_endpoint"
    full = join(url, token.uid, "authorize")
    refs = wire(LocationReferences(location_id=location_id, evse_uids=[evse_uid]))
    full, refs = on_the_way_back(sim, "authorize", full, refs)
    try:
        reply = await sim.client().request("POST", full, body=refs, params={"type": str(token.type)})
    except PeerRejected as exc:
        sim.store.log("authorize", token_uid=token.uid, outcome=f"OCPI {exc.status_code}")
        return None, "unknown_token" if exc.status_code == StatusCode.UNKNOWN_TOKEN else "refused"
    except PeerUnreachable as exc:
        sim.store.log("authorize", token_uid=token.uid, outcome="unreachable", error=str(exc))
        return None, "unreachable"
    except (PeerError, NotRegistered) as exc:
        sim.store.log("authorize", token_uid=token.uid, outcome="error", error=str(exc))
        return None, "refused"
    try:
        info = AuthorizationInfo.model_validate(reply.data)
    except ValidationError as exc:
        sim.store.log(
            "authorize", token_uid=token.uid, outcome="bad AuthorizationInfo", error=str(exc)
        )
        return None, "refused"
    sim.store.log("authorize", token_uid=token.uid, outcome=info.allowed.value)
    return info, "answered"


async def pull_tokens(sim: Simulator) -> int:
    """GET the eMSP's token list, following ``Link`` to the last page (mod_tokens.asciidoc
    § Sender GET); valid tokens replace what we knew."""
    url = peer_endpoint(sim, "tokens", "SENDER")
    if url is None:
        return 0
    count = 0
    try:
        async for items, _total in sim.client().pages(url, {"limit": sim.config.page_limit}):
            for item in items:
                try:
                    token = Token.model_validate(item)
                except ValidationError:
                    continue  # the spec: keep the valid ones, log the rest
                sim.store.tokens[(ci_key(token.uid), str(token.type))] = token
                count += 1
    except PeerError as exc:
        sim.store.log("tokens_pull_failed", error=str(exc))
        return count
    sim.store.log("tokens_pulled", count=count)
    return count
