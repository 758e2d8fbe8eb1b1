"""Where a webhook may be sent: public internet addresses only, unless the operator allows
private networks (``CHARGEBOOK_WEBHOOK_ALLOW_PRIVATE_NETWORKS``; ``chargebook demo`` does).

Two checks, one rule (``domain/network.py``):

* **At registration** (:func:`check_target`): a host written as an address, in any spelling,
  or ``localhost``, is checked as written; a name is resolved and refused if any address it
  resolves to is refused. A name that does not resolve (yet) is accepted: the delivery checks
  it again.
* **At every delivery** (:func:`public_addresses`, used by ``worker/public_network.py``): the
  host is resolved, every address checked, and the connection made to an address that was
  checked, so a DNS answer that changes after the check (rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from chargebook.domain.errors import InvalidRequest
from chargebook.domain.network import IPAddress, is_local_name, is_public, literal_address

#: How long registration waits for DNS before leaving the check to the delivery.
REGISTRATION_DNS_SECONDS = 3.0
REFUSED = (
    "url: must reach a public internet address; loopback, private, link-local, multicast, "
    "reserved and unspecified addresses are refused"
)

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class BlockedAddress(Exception):
    """The host is, or resolves to, an address a webhook may not reach."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (a literal gives itself)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = literal_address(str(sockaddr[0]))
        if address is not None and address not in out:
            out.append(address)
    return out


async def public_addresses(host: str, port: int, resolver: Resolver = resolve) -> list[IPAddress]:
    """The addresses to connect to for ``host``, all checked; :class:`BlockedAddress` if the
    host is a local name or any address it resolves to is refused. DNS errors propagate."""
    if is_local_name(host):
        raise BlockedAddress(host)
    literal = literal_address(host)
    addresses = [literal] if literal is not None else await resolver(host, port)
    if not addresses or not all(is_public(a) for a in addresses):
        raise BlockedAddress(host)
    return addresses


async def check_target(url: str, allow_private_networks: bool, resolver: Resolver = resolve) -> None:
    """Refuse (400) a webhook URL whose host is not on the public internet."""
    if allow_private_networks:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(REGISTRATION_DNS_SECONDS):
            await public_addresses(host, port, resolver)
    except BlockedAddress:
        raise InvalidRequest(REFUSED) from None
    except (OSError, TimeoutError, UnicodeError):
        return  # unresolvable for now: every delivery resolves and checks it again
