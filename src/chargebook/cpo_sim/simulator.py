"""The simulator object: configuration, store, outbound HTTP and the background tasks.

One :class:`Simulator` per ASGI app (``app.state.sim``). Background work (pushes, the
simulated drivers, command results) runs as asyncio tasks in the app's event loop; they are
tracked so that shutdown cancels and awaits every one of them.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import httpx

from chargebook.cpo_sim.catalogue import generate_locations
from chargebook.cpo_sim.config import SimConfig
from chargebook.cpo_sim.quirks import BARE_REQUESTS
from chargebook.cpo_sim.store import Store
from chargebook.cpo_sim.tariffs import standard_tariffs
from chargebook.ocpi import transport as t
from chargebook.ocpi import v230
from chargebook.ocpi.client import OcpiClient, Party
from chargebook.ocpi.v221 import (
    BusinessDetails,
    Credentials,
    CredentialsRole,
    Location,
    Role,
    ci_key,
)

VERSION = "2.2.1"  # the default, and the version the simulator's own objects are built in
V230 = "2.3.0"  # OCPI 2.3.0 with the Bookings module 1.1


class NotRegistered(Exception):
    """An action needs a registered eMSP and there is none."""


#: The headers a ``bare_requests`` simulator leaves out of its requests.
BARE_HEADERS = (
    t.REQUEST_ID, t.CORRELATION_ID, t.FROM_COUNTRY, t.FROM_PARTY, t.TO_COUNTRY, t.TO_PARTY
)


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.store = Store(token_a=config.token_a)
        self.rng = random.Random(config.seed)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: httpx.AsyncClient | None = None
        self._closing = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.evse_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        for raw in generate_locations(
            config.locations,
            country_code=config.country_code,
            party_id=config.party_id,
            seed=config.seed,
            reservable_share=config.reservable_share,
        ):
            location = Location.model_validate(raw)
            self.store.locations[ci_key(location.id)] = location
        for tariff in standard_tariffs(config.country_code, config.party_id):
            self.store.tariffs[ci_key(tariff.id)] = tariff

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        self._http = httpx.AsyncClient(
            timeout=self.config.http_timeout_seconds,
            event_hooks={"request": [self._strip_ids]},
        )

    def quirk(self, name: str) -> bool:
        """Whether quirk switch ``name`` (cpo_sim/quirks.py) is on."""
        return name in self.config.quirks

    async def _strip_ids(self, request: httpx.Request) -> None:
        # Quirk: our requests carry no request/correlation ids and no routing headers.
        if self.quirk(BARE_REQUESTS):
            for header in BARE_HEADERS:
                request.headers.pop(header, None)

    def begin_shutdown(self) -> None:
        """Wake everything sleeping in :meth:`sleep` (e.g. timeout faults) so the server can
        drain; called from the loop before the ASGI server stops."""
        self._closing.set()

    async def close(self) -> None:
        """Cancel every background task and wait for them, then close outbound HTTP."""
        self._closing.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._guard(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, Any], name: str) -> Any:
        """A background task that fails is logged, never lost silently."""
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a task's failure becomes an event
            self.store.log("task_failed", task=name, error=f"{type(exc).__name__}: {exc}")
            return None

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def sleep(self, seconds: float) -> bool:
        """Sleep, but wake at shutdown. True when the full time passed."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return not self._closing.is_set()
        try:
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False

    # --- randomness ----------------------------------------------------------------------

    def chance(self, share: float) -> bool:
        """True with probability ``share`` (0 never, 1 always), from the seeded generator."""
        if share <= 0:
            return False
        return share >= 1 or self.rng.random() < share

    # --- identity and the peer -----------------------------------------------------------

    @property
    def us(self) -> Party:
        return Party(self.config.country_code, self.config.party_id)

    @property
    def base_url(self) -> str:
        return f"{self.config.public_url.rstrip('/')}/ocpi/cpo"

    def details_url(self, version: str = VERSION) -> str:
        return f"{self.base_url}/{version}"

    def offers(self, version: str) -> bool:
        return version in self.config.ocpi_versions

    @property
    def peer_version(self) -> str:
        """The version the registered eMSP chose (2.2.1 when no one is registered)."""
        return self.store.peer.version if self.store.peer is not None else VERSION

    def credentials(self, token: str, version: str = VERSION) -> Credentials | v230.Credentials:
        """Our Credentials object (credentials.asciidoc of ``version``) carrying ``token``.

        2.3.0 differs only in the optional ``hub_party_id`` (we are no hub) and in Role
        losing ``HUB``, so the same fields validate as either."""
        details = BusinessDetails.model_validate(
            {
                "name": self.config.name,
                **({"website": self.config.website} if self.config.website else {}),
            }
        )
        # With recase_ids the party is named in lower case too (``de``/``xtw``).
        recase = str.lower if self.config.recase_ids else str
        role = CredentialsRole(
            role=Role.CPO,
            business_details=details,
            party_id=recase(self.config.party_id),
            country_code=recase(self.config.country_code),
        )
        credentials = Credentials(token=token, url=self.config.versions_url, roles=[role])
        if version == V230:
            return v230.Credentials.model_validate(credentials.model_dump(mode="python"))
        return credentials

    def client(self, token: str | None = None, *, functional: bool = True) -> OcpiClient:
        """An OCPI client towards the eMSP. Functional modules carry the routing headers;
        configuration modules (versions, credentials) must not (transport_and_format)."""
        assert self._http is not None, "the simulator is not started"
        peer = self.store.peer
        if token is None:
            if peer is None:
                raise NotRegistered("no eMSP is registered")
            token = peer.client_token
        return OcpiClient(
            token=token,
            from_party=self.us if functional else None,
            to_party=peer.party if functional and peer is not None else None,
            http=self._http,
            timeout=self.config.http_timeout_seconds,
        )
