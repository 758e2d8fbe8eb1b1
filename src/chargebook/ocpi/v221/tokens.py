"""OCPI 2.2.1 Tokens module: models and enums (mod_tokens.asciidoc).

Data owner: MSP. chargebook is the Sender: it PUTs/PATCHes its Tokens to CPOs, serves the
paginated Token list, and answers real-time authorization with AuthorizationInfo.
Spec: branch ``release-2.2.1-bugfixes``.

TokenType is a closed enum in 2.2.1 and an OpenEnum in 2.3.0 (which adds ``EMAID``);
fields take any string so the same models serve both editions (see locations.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from chargebook.ocpi.v221.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    DisplayText,
    OcpiModel,
    String2,
    String64,
    String255,
)


class AllowedType(StrEnum):
    """OCPI 2.2.1 mod_tokens.asciidoc § AllowedType enum."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class TokenType(StrEnum):
    """OCPI 2.2.1 mod_tokens.asciidoc § TokenType enum (OpenEnum in 2.3.0).

    A token is unique by (``uid``, ``type``); the ``type`` query parameter defaults to RFID.
    """

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class WhitelistType(StrEnum):
    """OCPI 2.2.1 mod_tokens.asciidoc § WhitelistType enum."""

    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class ProfileType(StrEnum):
    """OCPI 2.2.1 mod_sessions.asciidoc § ProfileType enum (used by Token, defined here
    to keep tokens.py free of a sessions import; ``sessions`` re-exports it)."""

    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


OpenTokenType = Annotated[TokenType | String255, Field(union_mode="left_to_right")]


class EnergyContract(OcpiModel):
    """OCPI 2.2.1 mod_tokens.asciidoc § EnergyContract class."""

    supplier_name: String64
    contract_id: String64 | None = None


class LocationReferences(OcpiModel):
    """OCPI 2.2.1 mod_tokens.asciidoc § LocationReferences class (authorize request body)."""

    location_id: CiString36
    evse_uids: list[CiString36] | None = None


class Token(OcpiModel):
    """OCPI 2.2.1 mod_tokens.asciidoc § Token Object.

    Never deleted: invalidate with ``valid=false``. APP_USER and AD_HOC_USER tokens are
    RECOMMENDED to be pushed with ``whitelist=NEVER``. Keep ``group_id`` to 20 characters
    when chargers speak OCPP 1.x (``parentIdTag`` limit).
    """

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: OpenTokenType
    contract_id: CiString36
    visual_number: String64 | None = None
    issuer: String64
    group_id: CiString36 | None = None
    valid: bool
    whitelist: WhitelistType
    language: String2 | None = None  # ISO 639-1
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class TokenPatch(OcpiModel):
    """PATCH body for a Token: OCPI 2.2.1 mod_tokens.asciidoc § PATCH Method.

    Every field is optional except ``last_updated`` (a PATCH SHALL contain it). A field set
    to null is in ``model_fields_set`` with value None; a field not sent is absent from it.
    """

    country_code: CiString2 | None = None
    party_id: CiString3 | None = None
    uid: CiString36 | None = None
    type: OpenTokenType | None = None
    contract_id: CiString36 | None = None
    visual_number: String64 | None = None
    issuer: String64 | None = None
    group_id: CiString36 | None = None
    valid: bool | None = None
    whitelist: WhitelistType | None = None
    language: String2 | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class AuthorizationInfo(OcpiModel):
    """OCPI 2.2.1 mod_tokens.asciidoc § AuthorizationInfo Object (real-time auth answer).

    ``location`` only when one was sent and the driver may charge there, listing only the
    allowed EVSEs. The CPO copies ``authorization_reference`` into the Session and CDR.
    """

    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: CiString36 | None = None
    info: DisplayText | None = None
