"""OCPI 2.3.0 HubClientInfo module (mod_hub_client_info.asciidoc).

The module text is unchanged; ClientInfo changes only through the 2.3.0 Role (no HUB).
"""

from __future__ import annotations

from chargebook.ocpi.v221.hubclientinfo import ConnectionStatus
from chargebook.ocpi.v230.types import CiString2, CiString3, DateTime, OcpiModel, Role


class ClientInfo(OcpiModel):
    """OCPI 2.3.0 mod_hub_client_info.asciidoc § ClientInfo Object."""

    party_id: CiString3
    country_code: CiString2
    role: Role
    status: ConnectionStatus
    last_updated: DateTime


__all__ = ["ClientInfo", "ConnectionStatus"]
