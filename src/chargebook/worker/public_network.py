"""The HTTP client webhook deliveries use, and what a tenant is told when an attempt fails.

Every connection the client opens resolves its host, checks each address
(``services/webhook_targets.py``) and connects to an address it checked: the check and the
connection see the same DNS answer, so rebinding cannot swap a public address for a private
one in between. TLS still verifies the certificate against the URL's host name. Proxies from
the environment are not used (the check is about the connection the worker itself makes).

With ``allow_private_networks`` (the demo, tests with loopback receivers) the client is a plain
httpx client.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable

import httpcore
import httpx

from chargebook.domain.webhooks import AttemptFailure
from chargebook.services.webhook_targets import BlockedAddress, Resolver, public_addresses, resolve


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Connects only to checked public addresses of the host asked for."""

    def __init__(self, resolver: Resolver = resolve) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await public_addresses(host, port, self._resolver):
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next address, as a resolver-driven connect would
        assert failure is not None  # public_addresses never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress(path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    def __init__(self, resolver: Resolver = resolve) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend; its connection pool does. The pool is swapped
        # for one with the same TLS settings that connects through PublicOnlyBackend
        # (tests/security/test_webhook_ssrf.py fails if this stops taking effect).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=PublicOnlyBackend(resolver),
        )


def webhook_client(
    timeout_seconds: float, allow_private_networks: bool, resolver: Resolver = resolve
) -> httpx.AsyncClient:
    """``resolver`` is the system's; tests pass one whose answers change (DNS rebinding)."""
    if allow_private_networks:
        return httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False)
    return httpx.AsyncClient(
        timeout=timeout_seconds, follow_redirects=False, trust_env=False,
        transport=PublicOnlyTransport(resolver),
    )


def failure_of(exc: BaseException) -> AttemptFailure:
    """A short fixed word for why an attempt got no answer; never the library's text, which
    would tell a tenant about the operator's network."""
    causes = list(_chain(exc))
    if any(isinstance(c, BlockedAddress) for c in causes):
        return AttemptFailure.BLOCKED_ADDRESS
    if any(isinstance(c, (TimeoutError, httpx.TimeoutException)) for c in causes):
        return AttemptFailure.TIMEOUT
    if any(isinstance(c, socket.gaierror) for c in causes):
        return AttemptFailure.DNS_FAILURE
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return AttemptFailure.CONNECTION_REFUSED
    if any(isinstance(c, ssl.SSLError) for c in causes):
        return AttemptFailure.TLS_ERROR
    if any(isinstance(c, (httpx.ConnectError, httpcore.ConnectError)) for c in causes):
        return AttemptFailure.CONNECTION_FAILED
    return AttemptFailure.BAD_RESPONSE


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [c for c in (current.__cause__, current.__context__) if c is not None]
        todo += list(getattr(current, "exceptions", ()))
