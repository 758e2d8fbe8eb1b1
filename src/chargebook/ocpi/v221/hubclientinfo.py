"""OCPI 2.2.1 HubClientInfo module: models and enums (mod_hub_client_info.asciidoc).

Only used when connected through a Hub: the Hub PUTs ClientInfo objects to chargebook.
Spec: branch ``release-2.2.1-bugfixes``.
"""

from __future__ import annotations

from enum import StrEnum

from chargebook.ocpi.v221.types import CiString2, CiString3, DateTime, OcpiModel, Role


class ConnectionStatus(StrEnum):
    """OCPI 2.2.1 mod_hub_client_info.asciidoc § ConnectionStatus enum."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"  # do not send or queue; re-sync by GET once CONNECTED again
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"  # gone for good


class ClientInfo(OcpiModel):
    """OCPI 2.2.1 mod_hub_client_info.asciidoc § ClientInfo Object."""

    party_id: CiString3
    country_code: CiString2
    role: Role
    status: ConnectionStatus
    last_updated: DateTime
