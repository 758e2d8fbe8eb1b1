"""The credentials handshake, both directions (OCPI 2.2.1 credentials.asciidoc).

Tokens, as the spec names them:

* **A**: a bootstrap token the *Receiver* of the handshake hands out offline;
* **B**: the token the *Sender* (the party that POSTs) issues for the Receiver to use;
* **C**: the token the Receiver returns in its answer, for the Sender to use from then on.

The simulator plays either part. As Receiver (an eMSP POSTs to us with our token A) it
fetches the eMSP's versions and details with B and answers with a fresh C; token A is then
dead. As Sender (:func:`register_with`) it GETs the eMSP's versions with the eMSP's token A,
POSTs its own B, and keeps the C it gets back. In both cases the simulator serves one eMSP.

Versions: an eMSP that POSTs to ``/ocpi/cpo/{version}/credentials`` has chosen that version;
we then use that version's endpoints from its details (3002 if it does not offer it). When we
register, we pick the highest version both sides offer (credentials.asciidoc § Registration).
"""

from __future__ import annotations

from pydantic import ValidationError

from chargebook.cpo_sim import outbound
from chargebook.cpo_sim.simulator import VERSION, NotRegistered, Simulator
from chargebook.cpo_sim.store import Peer, utcnow
from chargebook.ocpi import v230
from chargebook.ocpi.client import PeerError
from chargebook.ocpi.transport import new_token
from chargebook.ocpi.v221 import Credentials, StatusCode, Version, VersionDetails


class RegistrationError(Exception):
    """The handshake failed; ``status_code`` is the OCPI code to answer with (3001–3003)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


async def fetch_endpoints(
    sim: Simulator, versions_url: str, token: str, version: str | None = None
) -> tuple[str, dict[tuple[str, str], str]]:
    """GET the peer's versions, pick ``version`` (None: the highest we both offer), GET its
    details; returns the version and (module, role) → URL.

    3001 when the peer cannot be used, 3002 without a mutual version, 3003 when a module we
    need is missing (credentials.asciidoc § Errors during registration, § Required endpoints).
    """
    client = sim.client(token, functional=False)
    try:
        reply = await client.get(versions_url)
        versions = [Version.model_validate(v) for v in reply.data or []]
    except (PeerError, ValidationError, TypeError) as exc:
        raise RegistrationError(
            StatusCode.UNABLE_TO_USE_CLIENT_API, f"cannot read versions at {versions_url}: {exc}"
        ) from exc
    wanted = [version] if version else list(reversed(sim.config.ocpi_versions))
    mutual = next((v for w in wanted for v in versions if str(v.version) == w), None)
    if mutual is None:
        offered = ", ".join(str(v.version) for v in versions) or "none"
        raise RegistrationError(
            StatusCode.UNSUPPORTED_VERSION,
            f"no OCPI {' or '.join(wanted)} among the versions offered ({offered})",
        )
    try:
        details = VersionDetails.model_validate((await client.get(mutual.url)).data)
    except (PeerError, ValidationError) as exc:
        raise RegistrationError(
            StatusCode.UNABLE_TO_USE_CLIENT_API,
            f"cannot read version details at {mutual.url}: {exc}",
        ) from exc
    endpoints = {(str(e.identifier), e.role.value): e.url for e in details.endpoints}
    modules = {module for module, _ in endpoints}
    missing = [m for m in sim.config.required_emsp_modules if m not in modules]
    if missing:
        raise RegistrationError(
            StatusCode.NO_MATCHING_ENDPOINTS, f"the eMSP offers no {', '.join(missing)} endpoint"
        )
    return str(mutual.version), endpoints


# --- we are the Receiver (the eMSP POSTs / PUTs / DELETEs our credentials) -----------------


async def call_back_early(sim: Simulator, theirs: Credentials) -> None:
    """``early_callback``: before anything else, GET the eMSP's versions and the details of every
    version it lists, with token B (so token B must work from the moment its POST left)."""
    client = sim.client(theirs.token, functional=False)
    try:
        reply = await client.get(theirs.url)
        urls = [v.get("url") for v in reply.data or [] if isinstance(v, dict)]
        for url in urls:
            if isinstance(url, str):
                await client.get(url)
    except PeerError as exc:
        raise RegistrationError(
            StatusCode.UNABLE_TO_USE_CLIENT_API, f"calling back with token B failed: {exc}"
        ) from exc
    sim.store.log("early_callback", versions_url=theirs.url, details=len(urls))


async def accept_registration(
    sim: Simulator, theirs: Credentials, version: str = VERSION
) -> Credentials | v230.Credentials:
    """POST on ``version``: store B, fetch the eMSP's endpoints of that version with it,
    answer with a new token C."""
    if sim.config.early_callback:
        await call_back_early(sim, theirs)
    version, endpoints = await fetch_endpoints(sim, theirs.url, theirs.token, version)
    token_c = new_token()
    sim.store.peer = Peer(
        versions_url=theirs.url,
        version=version,
        endpoints=endpoints,
        client_token=theirs.token,
        server_token=token_c,
        roles=list(theirs.roles),
        registered_at=utcnow(),
    )
    # "The CREDENTIALS_TOKEN_A can then be thrown away, it MAY no longer be used."
    sim.store.token_a = None
    sim.store.log(
        "registered",
        direction="emsp_registered_with_us",
        versions_url=theirs.url,
        version=version,
    )
    after_registration(sim)
    return sim.credentials(token_c, version)


async def accept_update(
    sim: Simulator, theirs: Credentials, version: str = VERSION
) -> Credentials | v230.Credentials:
    """PUT on ``version``: re-fetch the endpoints with the new token (even when the version
    is the same; a PUT on another version switches to it), issue a new token. The old
    tokens stay valid until this has succeeded (ocpi/ocpi issue #568)."""
    peer = sim.store.peer
    if peer is None:
        raise NotRegistered("no eMSP is registered")
    version, endpoints = await fetch_endpoints(sim, theirs.url, theirs.token, version)
    peer.version = version
    peer.versions_url = theirs.url
    peer.endpoints = endpoints
    peer.client_token = theirs.token
    peer.roles = list(theirs.roles)
    peer.server_token = new_token()
    sim.store.log("credentials_updated", direction="emsp_updated_us", versions_url=theirs.url)
    return sim.credentials(peer.server_token, version)


def unregister(sim: Simulator, why: str) -> None:
    """DELETE: both sides stop automated traffic. A new token A comes from ``/sim/invite``."""
    sim.store.peer = None
    sim.store.log("unregistered", why=why)


# --- we are the Sender (we register with the eMSP) -----------------------------------------


async def register_with(sim: Simulator, versions_url: str, token_a: str) -> Peer:
    """Register with an eMSP that issued ``token_a``: GET its versions and details with A,
    POST our credentials (token B) with A, keep the token C it answers with."""
    if sim.store.peer is not None:
        raise RegistrationError(StatusCode.CLIENT_ERROR, "already registered; unregister first")
    version, endpoints = await fetch_endpoints(sim, versions_url, token_a)
    credentials_url = _credentials_url(endpoints)
    token_b = new_token()
    # The eMSP fetches our versions and details with B before it answers our POST.
    sim.store.pending_token = token_b
    try:
        reply = await sim.client(token_a, functional=False).request(
            "POST", credentials_url, body=outbound.wire(sim.credentials(token_b, version))
        )
        theirs = Credentials.model_validate(reply.data)
    except (PeerError, ValidationError) as exc:
        raise RegistrationError(
            StatusCode.UNABLE_TO_USE_CLIENT_API, f"POST {credentials_url} failed: {exc}"
        ) from exc
    finally:
        sim.store.pending_token = None
    sim.store.peer = Peer(
        versions_url=versions_url,
        version=version,
        endpoints=endpoints,
        client_token=theirs.token,
        server_token=token_b,
        roles=list(theirs.roles),
        registered_at=utcnow(),
    )
    sim.store.token_a = None  # one eMSP per simulator: our own invitation is spent too
    sim.store.log(
        "registered",
        direction="we_registered_with_emsp",
        versions_url=versions_url,
        version=version,
    )
    after_registration(sim)
    return sim.store.peer


async def rotate(sim: Simulator) -> Peer:
    """PUT our new credentials to the eMSP (a token rotation we start); keep its new token."""
    peer = sim.store.peer
    if peer is None:
        raise NotRegistered("no eMSP is registered")
    credentials_url = _credentials_url(peer.endpoints)
    new_b = new_token()
    sim.store.pending_token = new_b  # the eMSP re-fetches our endpoints with it
    try:
        reply = await sim.client(peer.client_token, functional=False).request(
            "PUT", credentials_url, body=outbound.wire(sim.credentials(new_b, peer.version))
        )
        theirs = Credentials.model_validate(reply.data)
    except (PeerError, ValidationError) as exc:
        raise RegistrationError(
            StatusCode.UNABLE_TO_USE_CLIENT_API, f"PUT {credentials_url} failed: {exc}"
        ) from exc
    finally:
        sim.store.pending_token = None
    peer.client_token, peer.server_token, peer.roles = theirs.token, new_b, list(theirs.roles)
    sim.store.log("credentials_updated", direction="we_updated_emsp")
    return peer


async def unregister_at_emsp(sim: Simulator) -> None:
    """DELETE the eMSP's credentials (we end the connection), then forget it."""
    peer = sim.store.peer
    if peer is None:
        raise NotRegistered("no eMSP is registered")
    credentials_url = _credentials_url(peer.endpoints)
    try:
        await sim.client(peer.client_token, functional=False).request("DELETE", credentials_url)
    except PeerError as exc:
        raise RegistrationError(
            StatusCode.UNABLE_TO_USE_CLIENT_API, f"DELETE {credentials_url} failed: {exc}"
        ) from exc
    unregister(sim, "we unregistered at the eMSP")


def _credentials_url(endpoints: dict[tuple[str, str], str]) -> str:
    # For credentials the role means nothing (version_information_endpoint.asciidoc).
    url = next((u for (module, _), u in endpoints.items() if module == "credentials"), None)
    if url is None:
        raise RegistrationError(
            StatusCode.NO_MATCHING_ENDPOINTS, "the eMSP lists no credentials endpoint"
        )
    return url


# --- after a handshake -----------------------------------------------------------------------


def after_registration(sim: Simulator) -> None:
    """Push the catalogue (and pull tokens) shortly after, once the eMSP has our answer."""
    if sim.config.push_on_register or sim.config.pull_tokens_on_register:
        sim.spawn(_after(sim), "after-registration")


async def _after(sim: Simulator) -> None:
    if not await sim.sleep(sim.config.push_delay_seconds):
        return
    if sim.store.peer is None:
        return
    if sim.config.push_on_register:
        await outbound.push_catalogue(sim)
    if sim.config.pull_tokens_on_register:
        await outbound.pull_tokens(sim)
