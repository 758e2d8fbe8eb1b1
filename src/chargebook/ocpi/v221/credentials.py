"""OCPI 2.2.1 Credentials module: models (credentials.asciidoc).

Symmetric: chargebook hosts the credentials endpoint and calls the CPO's. The ``token`` in
the body is the plain token (never Base64; only the Authorization header encodes it).
Spec: branch ``release-2.2.1-bugfixes``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from chargebook.ocpi.v221.locations import BusinessDetails
from chargebook.ocpi.v221.types import CiString2, CiString3, OcpiModel, Role, Url, has_unique

# credentials.asciidoc § Credentials object: string(64), printable non-whitespace ASCII
# (U+0021 to U+007E).
CredentialsToken = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7E]+$")
]


class CredentialsRole(OcpiModel):
    """OCPI 2.2.1 credentials.asciidoc § CredentialsRole class.

    A 2.2.1 Hub reports only itself, with role HUB (2.3.0 changes this).
    """

    role: Role
    business_details: BusinessDetails
    party_id: CiString3
    country_code: CiString2


class Credentials(OcpiModel):
    """OCPI 2.2.1 credentials.asciidoc § Credentials object."""

    token: CredentialsToken  # the token the *other* party must use towards us
    url: Url  # our versions endpoint
    roles: list[CredentialsRole] = Field(min_length=1)

    @model_validator(mode="after")
    def _roles_unique(self) -> Credentials:
        # "Every role needs a unique combination of: role, party_id and country_code."
        if not has_unique(self.roles, "role", "party_id", "country_code"):
            raise ValueError("roles repeat a (role, party_id, country_code) combination")
        return self
