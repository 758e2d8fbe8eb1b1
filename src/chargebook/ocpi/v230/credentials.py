"""OCPI 2.3.0 Credentials module (credentials.asciidoc).

Changes from 2.2.1: Credentials gains ``hub_party_id`` and the roles use the 2.3.0 Role
(no ``HUB``). A 2.3.0 Hub lists every party reachable through it in ``roles`` (2.2.1 said
the opposite), so expect many roles from a Hub.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from chargebook.ocpi.v221.credentials import CredentialsToken
from chargebook.ocpi.v221.locations import BusinessDetails
from chargebook.ocpi.v230.types import (
    CiString2,
    CiString3,
    CiString5,
    OcpiModel,
    Role,
    Url,
    has_unique,
)


class CredentialsRole(OcpiModel):
    """OCPI 2.3.0 credentials.asciidoc § CredentialsRole class."""

    role: Role
    business_details: BusinessDetails
    party_id: CiString3
    country_code: CiString2


class Credentials(OcpiModel):
    """OCPI 2.3.0 credentials.asciidoc § Credentials object."""

    token: CredentialsToken  # plain, printable non-whitespace ASCII, at most 64
    url: Url
    hub_party_id: CiString5 | None = None  # country code + party id of the Hub, e.g. NLHUB
    roles: list[CredentialsRole] = Field(min_length=1)

    @model_validator(mode="after")
    def _roles_unique(self) -> Credentials:
        # "Every role needs a unique combination of: role, party_id and country_code."
        if not has_unique(self.roles, "role", "party_id", "country_code"):
            raise ValueError("roles repeat a (role, party_id, country_code) combination")
        return self


__all__ = ["BusinessDetails", "Credentials", "CredentialsRole", "CredentialsToken"]
