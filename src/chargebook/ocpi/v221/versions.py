"""OCPI 2.2.1 Versions module: models and enums (version_information_endpoint.asciidoc).

Both sides host and call the version information and version details endpoints.
Spec: branch ``release-2.2.1-bugfixes``.

ModuleID takes any string: 2.2.1 § Custom Modules lets parties add their own module ids
(2.3.0 makes it an OpenEnum). VersionNumber takes any string too, because a peer's version
list names versions newer than ours (e.g. ``2.3.0``) and we must still read it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from chargebook.ocpi.v221.types import OcpiModel, String255, Url


class InterfaceRole(StrEnum):
    """OCPI 2.2.1 version_information_endpoint.asciidoc § InterfaceRole enum.

    For ``credentials`` the role means nothing: send SENDER, ignore what others send.
    """

    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class ModuleID(StrEnum):
    """OCPI 2.2.1 version_information_endpoint.asciidoc § ModuleID enum."""

    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class VersionNumber(StrEnum):
    """OCPI 2.2.1 version_information_endpoint.asciidoc § VersionNumber enum."""

    V2_0 = "2.0"
    V2_1 = "2.1"  # deprecated
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"  # deprecated
    V2_2_1 = "2.2.1"


OpenModuleID = Annotated[ModuleID | String255, Field(union_mode="left_to_right")]
OpenVersionNumber = Annotated[VersionNumber | String255, Field(union_mode="left_to_right")]


class Version(OcpiModel):
    """OCPI 2.2.1 version_information_endpoint.asciidoc § Version class."""

    version: OpenVersionNumber
    url: Url


class Endpoint(OcpiModel):
    """OCPI 2.2.1 version_information_endpoint.asciidoc § Endpoint class."""

    identifier: OpenModuleID
    role: InterfaceRole
    url: Url


class VersionDetails(OcpiModel):
    """OCPI 2.2.1 version_information_endpoint.asciidoc § Version details endpoint § Data."""

    version: OpenVersionNumber
    endpoints: list[Endpoint] = Field(min_length=1)
