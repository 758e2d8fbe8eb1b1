"""Which network addresses a tenant's webhook may reach: the public internet only.

A webhook URL is chosen by a tenant, and the worker POSTs to it from inside the operator's
network; without a rule, a tenant could make the worker call ``127.0.0.1:5432``, a cloud
metadata service (``169.254.169.254``) or any private host, and read the outcome. Every
address a webhook would connect to is checked here, at registration and again at each
delivery after DNS resolution (``services/webhook_targets.py``, ``worker/public_network.py``).

Refused: loopback, private (RFC 1918, RFC 4193 unique local), shared (RFC 6598), link-local,
site-local, multicast, reserved, unspecified and broadcast addresses, documentation and
benchmarking ranges (whatever Python's ``ipaddress`` does not call global), and IPv6 forms that
carry such an IPv4 address inside them (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo).

Host names are never trusted by their spelling: ``literal_address`` reads every IPv4 form
that resolvers accept (``2130706433``, ``0x7f.1``, ``017700000001``), so the check at
registration sees what a delivery would connect to.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")
_OCTAL = re.compile(r"0[0-7]+")
_DECIMAL = re.compile(r"[1-9][0-9]*|0")


def is_public(address: IPAddress) -> bool:
    """True only for a global unicast address that embeds no refused IPv4 address."""
    if (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
    ):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local:
            return False
        embedded = embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
    return True


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    value = int(address)
    if value >> 32 == 0 or any(address in net for net in _NAT64):  # ::a.b.c.d, 64:ff9b::a.b.c.d
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself (no DNS), in any spelling a resolver accepts; None
    for a name. IPv6 may come in brackets and with a zone (``[fe80::1%eth0]``)."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.removesuffix(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
    except ValueError:
        pass
    return _inet_aton(host)


def is_local_name(host: str) -> bool:
    """``localhost`` and every name under it (RFC 6761 § 6.3): loopback whatever DNS says."""
    name = host.strip().lower().removesuffix(".")
    return name in _LOCAL_NAMES or name.endswith(".localhost")


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """IPv4 as ``inet_aton(3)`` reads it: 1 to 4 parts, each decimal, octal (leading 0) or hex
    (0x); the last part fills the remaining bytes (``127.1`` is 127.0.0.1)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        number = _number(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = last
    for index, n in enumerate(leading):
        value |= n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int | None:
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part):
        return int(part, 10)
    return None
