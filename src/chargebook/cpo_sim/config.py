"""What a simulator is: its identity, OCPI versions, catalogue, rules and faults.

One pydantic tree, built once (by the CLI, :class:`~chargebook.cpo_sim.server.SimulatorServer`
or a test) and handed to :func:`~chargebook.cpo_sim.app.create_app`. The rule sections
(``commands``, ``driver``, ``bookings``, ``faults``) may be changed while the simulator runs,
through ``POST /sim/config``; identity, versions and catalogue are fixed for the life of the
process.

Shares (``reject_share``, ``no_show_share``, ``error_share`` …) are probabilities in [0, 1],
drawn from the simulator's own seeded random generator: 0 never, 1 always.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chargebook.cpo_sim.quirks import SETTING_SWITCHES, expand
from chargebook.ocpi.transport import new_token
from chargebook.ocpi.v221 import CommandResultType

#: The OCPI versions the simulator can speak. 2.3.0 comes with the Bookings module 1.1.
SUPPORTED_VERSIONS = ("2.2.1", "2.3.0")


class _Section(BaseModel):
    # Admin updates refuse unknown keys: a typo must not silently do nothing.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CommandRules(_Section):
    """How the simulated charge points answer commands (OCPI 2.2.1 mod_commands.asciidoc)."""

    timeout_seconds: int = Field(
        default=30,
        ge=0,
        description="CommandResponse.timeout: how long the eMSP should wait for a result.",
    )
    result_delay_seconds: float = Field(
        default=0.05,
        ge=0,
        description="How long the 'charger' takes before the CommandResult is POSTed.",
    )
    reject_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of RESERVE_NOW / START_SESSION the charger rejects.",
    )
    reject_evse_uids: list[str] = Field(
        default_factory=list, description="EVSEs whose charger rejects RESERVE_NOW / START_SESSION."
    )
    result_overrides: dict[str, CommandResultType] = Field(
        default_factory=dict,
        description="EVSE uid → the CommandResult its charger always answers (e.g. FAILED).",
    )


class DriverRules(_Section):
    """The simulated driver: when they arrive, how long and how fast they charge."""

    arrive_after_seconds: float | None = Field(
        default=None,
        ge=0,
        description="Arrive this long after the reservation was accepted. None: at the "
        "reservation's start, which for an OCPI 2.2.1 RESERVE_NOW is its acceptance.",
    )
    no_show_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of reservations never used."
    )
    no_show_evse_uids: list[str] = Field(
        default_factory=list, description="EVSEs whose drivers never turn up."
    )
    session_seconds: float = Field(
        default=60.0, gt=0, description="Charging time of a session (wall clock)."
    )
    parking_seconds: float = Field(
        default=0.0, ge=0, description="Time plugged in but not charging after charging ends."
    )
    power_kw: float | None = Field(
        default=None, gt=0, description="Charging power; None: the connector's max_electric_power."
    )
    session_kwh: float | None = Field(
        default=None,
        gt=0,
        description="Deliver exactly this energy over the charging time (demo-sized numbers "
        "in short sessions); None: power × time.",
    )
    meter_interval_seconds: float = Field(
        default=15.0, gt=0, description="How often a running Session is PATCHed with meter values."
    )
    authorize: Literal["whitelist", "always", "never"] = Field(
        default="whitelist",
        description="Real-time authorization on arrival: 'whitelist' follows Token.whitelist "
        "(ALWAYS: none; NEVER/ALLOWED/ALLOWED_OFFLINE: ask the eMSP), or always / never ask.",
    )
    reservation_sessions: bool = Field(
        default=False,
        description="PUT a Session with status RESERVATION when a reservation is accepted "
        "(mod_commands: a reservation creates a Session); off by default.",
    )
    reservation_cdrs: bool = Field(
        default=True,
        description="Send a reservation-only CDR when a reservation expires or is cancelled.",
    )


class BookingRules(_Section):
    """The Bookings module 1.1 (OCPI 2.3.0 mod_bookings.asciidoc): what the simulated CPO
    offers (BookingLocations, calendars, terms) and how it answers BookingRequests.

    Minutes are the spec's unit for terms; fractions are allowed, so tests can use seconds.
    """

    horizon_days: float = Field(
        default=7, gt=0, description="Calendars open this far ahead of now."
    )
    timeslot_increment_minutes: int = Field(
        default=15, ge=0, description="Calendar.timeslot_increment; 0: left out."
    )
    processing_delay_seconds: float = Field(
        default=0.5,
        ge=0,
        description="How long the CPO takes to decide a BookingRequest before it pushes.",
    )
    push_method: Literal["PUT", "PATCH"] = Field(
        default="PUT",
        description="How a decided booking reaches the eMSP: the full Booking PUT every time, "
        "or a PUT first and PATCHes (status, period, requests, canceled) after.",
    )
    change_until_minutes: float = Field(
        default=60, ge=0, description="BookingTerms: changes allowed until N min before start."
    )
    cancel_until_minutes: float = Field(
        default=30,
        ge=0,
        description="BookingTerms: free cancellation until N min before start (later ones are "
        "still accepted).",
    )
    change_not_allowed: bool = Field(
        default=False, description="BookingTerms.change_not_allowed: decline every change."
    )
    noshow_timeout_minutes: float | None = Field(
        default=15,
        gt=0,
        description="BookingTerms.noshow_timeout: NO_SHOW this long after the start without a "
        "session; None: no timeout (NO_SHOW at the end of the slot).",
    )
    early_start_minutes: float = Field(
        default=10, ge=0, description="BookingTerms.early_start_time (0: no early start)."
    )
    min_booking_minutes: float = Field(
        default=15, ge=0, description="BookingTerms.min_booking_duration."
    )
    max_booking_minutes: float = Field(
        default=240, gt=0, description="BookingTerms.max_booking_duration."
    )
    noshow_cdrs: bool = Field(
        default=True,
        description="POST a CDR with the tariff's no-show fee (RESERVATION_EXPIRES) on NO_SHOW.",
    )
    reject_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of new bookings REJECTED by rule."
    )
    reject_evse_uids: list[str] = Field(
        default_factory=list, description="EVSEs whose new bookings are always REJECTED."
    )
    fail_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of requests that end FAILED."
    )
    never_answer_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of requests never decided: they stay PENDING and nothing is pushed.",
    )


class Faults(_Section):
    """Misbehaviour on the simulator's OCPI endpoints (never on /sim admin endpoints)."""

    latency_seconds: float = Field(
        default=0.0, ge=0, description="Extra delay before every answer."
    )
    error_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share answered with an HTTP 5xx."
    )
    error_status: int = Field(
        default=500, ge=500, le=599, description="The HTTP status of those answers."
    )
    timeout_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share that sleeps timeout_seconds before answering.",
    )
    timeout_seconds: float = Field(
        default=30.0, ge=0, description="How long a 'timed out' answer takes."
    )
    malformed_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share answered with junk."
    )
    malformed_kind: Literal["non_json", "non_envelope"] = Field(
        default="non_json",
        description="Junk that is not JSON, or JSON that is not an OCPI envelope.",
    )
    never_answer_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of accepted commands whose CommandResult is never sent.",
    )
    command_answers: dict[str, Any] = Field(
        default_factory=dict,
        description="EVSE uid → the `data` its synchronous CommandResponse carries instead of "
        "the real one (any JSON, e.g. {\"result\": \"ACCEPTED\", \"timeout\": \"60s\"}); the "
        "charger still acts on the command.",
    )
    paths: list[str] = Field(
        default_factory=list,
        description="Apply the HTTP faults only to paths containing one of these strings "
        "(e.g. '/commands/'); empty: every OCPI path.",
    )


class SimConfig(BaseModel):
    """The whole simulator configuration."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    country_code: str = Field(
        default="DE", min_length=2, max_length=2, description="Our OCPI country code."
    )
    party_id: str = Field(
        default="SIM", min_length=3, max_length=3, description="Our OCPI party id."
    )
    name: str = Field(
        default="chargebook CPO simulator", max_length=100, description="Business name."
    )
    website: str | None = Field(default=None, description="Business website, sent in credentials.")
    public_url: str = Field(
        default="http://127.0.0.1:9000",
        description="Base URL the eMSP reaches us at; versions: {public_url}/ocpi/cpo/versions.",
    )
    ocpi_versions: list[str] = Field(
        default_factory=lambda: ["2.2.1"],
        min_length=1,
        description="The OCPI versions we offer: ['2.2.1'] or ['2.2.1', '2.3.0'] (2.3.0 adds "
        "the Bookings module).",
    )
    token_a: str = Field(
        default_factory=new_token, min_length=1, max_length=64, description="Token A we accept."
    )
    locations: int = Field(default=50, ge=0, description="Locations in the generated catalogue.")
    seed: int = Field(default=7, description="Seed of the catalogue and of every random rule.")
    reservable_share: float = Field(
        default=0.8, ge=0.0, le=1.0, description="Share of RESERVABLE EVSEs."
    )
    page_limit: int = Field(
        default=100, ge=1, description="Largest page a paginated GET returns (X-Limit)."
    )
    required_emsp_modules: list[str] = Field(
        default_factory=lambda: ["cdrs"],
        description="eMSP modules without which registration fails (OCPI 3003).",
    )
    push_on_register: bool = Field(
        default=True, description="Push tariffs and locations after registering."
    )
    push_delay_seconds: float = Field(
        default=0.2, ge=0, description="Wait this long after a handshake before pushing."
    )
    pull_tokens_on_register: bool = Field(
        default=False, description="GET the eMSP's tokens after registering."
    )
    http_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of our calls to the eMSP."
    )
    refuse_credentials_get: bool = Field(
        default=False,
        description="Answer an eMSP's GET /credentials with token A with HTTP 401 "
        '{"detail": "Unauthorized"} (not an OCPI envelope), as many CPOs do: the spec promises '
        "token A for the registration POST only.",
    )
    early_callback: bool = Field(
        default=False,
        description="On an eMSP's credentials POST, first thing, before the handshake proper: "
        "GET its versions and the details of every version it lists with its token B, and fail "
        "the POST (3001) if any is refused.",
    )
    recase_ids: bool = Field(
        default=False,
        description="Lower-case every CiString id on the way back, as some CPOs do: pushes, "
        "sessions, CDRs, command result URLs, authorization requests and single-object GETs "
        "(the Locations/Tariffs pulls keep the catalogue's case). See cpo_sim/recase.py.",
    )
    admin_enabled: bool = Field(default=True, description="Serve the /sim admin API.")
    admin_token: str | None = Field(
        default=None, description="When set, /sim needs 'Authorization: Bearer <admin_token>'."
    )
    commands: CommandRules = Field(default_factory=CommandRules)
    driver: DriverRules = Field(default_factory=DriverRules)
    bookings: BookingRules = Field(default_factory=BookingRules)
    faults: Faults = Field(default_factory=Faults)
    quirks: list[str] = Field(
        default_factory=list,
        description="Quirk switches or profiles (cpo_sim/quirks.py), e.g. ['field']: behave "
        "like CPO implementations seen in the field. Empty: a well-behaved CPO.",
    )

    @field_validator("quirks")
    @classmethod
    def _known_quirks(cls, names: list[str]) -> list[str]:
        return expand(names)  # profiles become their switches

    @model_validator(mode="after")
    def _switches_from_quirks(self) -> SimConfig:
        # The switches that are settings are quirks too: named in a profile, they turn on.
        for name in SETTING_SWITCHES:
            if name in self.quirks and not getattr(self, name):
                # object.__setattr__: validate_assignment would run this validator again.
                object.__setattr__(self, name, True)
        return self

    @field_validator("ocpi_versions")
    @classmethod
    def _known_versions(cls, versions: list[str]) -> list[str]:
        unknown = [v for v in versions if v not in SUPPORTED_VERSIONS]
        if unknown:
            raise ValueError(f"unsupported OCPI version(s) {', '.join(unknown)}")
        # Oldest first, each once: the versions endpoint lists them in this order.
        return sorted(set(versions), key=SUPPORTED_VERSIONS.index)

    @property
    def versions_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/ocpi/cpo/versions"


#: The sections ``POST /sim/config`` may change at run time.
RUNTIME_SECTIONS = ("commands", "driver", "bookings", "faults")


def updated(config: SimConfig, changes: dict[str, Any]) -> SimConfig:
    """``config`` with ``changes`` merged into its run-time sections (validated as a whole).

    ``{"faults": {"error_share": 1}}`` changes one field and keeps the others.
    """
    unknown = set(changes) - set(RUNTIME_SECTIONS)
    if unknown:
        raise ValueError(f"not changeable at run time: {', '.join(sorted(unknown))}")
    merged = config.model_dump()
    for section, values in changes.items():
        if not isinstance(values, dict):
            raise TypeError(f"{section} must be an object")
        merged[section] = {**merged[section], **values}
    return SimConfig.model_validate(merged)
