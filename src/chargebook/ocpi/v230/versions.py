"""OCPI 2.3.0 Versions module (version_information_endpoint.asciidoc).

Changes from 2.2.1: ModuleID and VersionNumber are OpenEnums, and VersionNumber gains
``2.3.0``. The 2.2.1 models already take any string for both, so they are re-exported;
the enums below list the values 2.3.0 (with Bookings 1.1) knows. StrEnum members equal
their strings, so ``version.version == VersionNumber.V2_3_0`` holds on a parsed model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from chargebook.ocpi.v221.versions import Endpoint, InterfaceRole, Version, VersionDetails
from chargebook.ocpi.v230.types import String255


class ModuleID(StrEnum):
    """OCPI 2.3.0 version_information_endpoint.asciidoc § ModuleID OpenEnum.

    Bookings 1.1 (mod_bookings.asciidoc header) names its module ``Booking`` but the
    ModuleID table never lists it; peers also use ``bookings`` (issue ocpi/ocpi#577).
    Accept both on input; which one to publish is a per-peer setting, not a model choice.
    """

    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"
    BOOKING = "Booking"
    BOOKINGS = "bookings"


class VersionNumber(StrEnum):
    """OCPI 2.3.0 version_information_endpoint.asciidoc § VersionNumber OpenEnum."""

    V2_0 = "2.0"
    V2_1 = "2.1"  # deprecated
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"  # deprecated
    V2_2_1 = "2.2.1"
    V2_3_0 = "2.3.0"


OpenModuleID = Annotated[ModuleID | String255, Field(union_mode="left_to_right")]
OpenVersionNumber = Annotated[VersionNumber | String255, Field(union_mode="left_to_right")]

__all__ = [
    "Endpoint",
    "InterfaceRole",
    "ModuleID",
    "OpenModuleID",
    "OpenVersionNumber",
    "Version",
    "VersionDetails",
    "VersionNumber",
]
