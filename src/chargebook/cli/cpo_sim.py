"""``chargebook cpo-sim``: run the OCPI 2.2.1 CPO simulator on its own.

Register it as a command with ``app.command("cpo-sim")(cpo_sim)``. It prints the versions
URL and token A an eMSP needs; with ``--register-with`` it registers with an eMSP instead
(the eMSP's versions URL plus the token A that eMSP issued, ``--emsp-token-a``).
Runs until Ctrl+C, or ``--exit-after`` seconds (for scripts).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from chargebook.cpo_sim.config import SimConfig
from chargebook.cpo_sim.registration import RegistrationError
from chargebook.cpo_sim.server import SimulatorServer

console = Console()
err_console = Console(stderr=True)

Share = Annotated[float, typer.Option(min=0.0, max=1.0)]


def cpo_sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 9000,
    public_url: Annotated[
        str | None,
        typer.Option(help="Base URL the eMSP reaches us at (default: http://HOST:PORT)."),
    ] = None,
    party_id: Annotated[str, typer.Option(help="Our OCPI party id (3 characters).")] = "SIM",
    country_code: Annotated[str, typer.Option(help="Our OCPI country code (2 characters).")] = "DE",
    name: Annotated[
        str, typer.Option(help="Business name in our credentials.")
    ] = "chargebook CPO simulator",
    locations: Annotated[
        int, typer.Option(min=0, help="Locations in the generated catalogue.")
    ] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the catalogue and of the random rules.")] = 7,
    token_a: Annotated[
        str | None, typer.Option(help="Token A we accept (default: a fresh one, printed).")
    ] = None,
    register_with: Annotated[
        str | None, typer.Option(help="Register with this eMSP versions URL instead.")
    ] = None,
    emsp_token_a: Annotated[
        str | None, typer.Option(help="The token A the eMSP issued (with --register-with).")
    ] = None,
    arrive_after: Annotated[
        float | None,
        typer.Option(min=0, help="Driver arrives N s after a reservation is accepted."),
    ] = None,
    session_seconds: Annotated[
        float, typer.Option(min=0.001, help="Charging time of a session, in seconds.")
    ] = 60.0,
    parking_seconds: Annotated[
        float, typer.Option(min=0, help="Plugged in, not charging, after charging.")
    ] = 0.0,
    power_kw: Annotated[
        float | None, typer.Option(min=0.001, help="Charging power (default: the connector's).")
    ] = None,
    session_kwh: Annotated[
        float | None, typer.Option(min=0.001, help="Energy per session regardless of time.")
    ] = None,
    no_show_share: Share = 0.0,
    reject_share: Share = 0.0,
    command_timeout: Annotated[
        int, typer.Option(min=0, help="CommandResponse.timeout in seconds.")
    ] = 30,
    latency: Annotated[
        float, typer.Option(min=0, help="Fault: extra seconds before every OCPI answer.")
    ] = 0.0,
    error_share: Share = 0.0,
    timeout_share: Share = 0.0,
    malformed_share: Share = 0.0,
    malformed_kind: Annotated[str, typer.Option(help="non_json or non_envelope.")] = "non_json",
    never_answer_share: Share = 0.0,
    refuse_credentials_get: Annotated[
        bool,
        typer.Option(help="Answer GET /credentials with token A by HTTP 401 {\"detail\": ...}."),
    ] = False,
    early_callback: Annotated[
        bool,
        typer.Option(help="On a credentials POST, first call back every version with token B."),
    ] = False,
    quirks: Annotated[
        str,
        typer.Option(
            help="Behave like CPOs in the field: a profile ('field') or quirk switches, "
            "comma-separated (docs/cpo-simulator.md § Quirks). Default: none."
        ),
    ] = "",
    recase_ids: Annotated[
        bool,
        typer.Option(
            "--recase-ids",
            help="Lower-case every OCPI id on the way back (pushes, sessions, CDRs, GETs), "
            "the eMSP's own reservation ids and token uids included, as some CPOs do.",
        ),
    ] = False,
    admin_token: Annotated[
        str | None, typer.Option(help="Require 'Authorization: Bearer TOKEN' on /sim.")
    ] = None,
    no_admin: Annotated[
        bool, typer.Option("--no-admin", help="Do not serve the /sim admin API.")
    ] = False,
    no_push: Annotated[
        bool, typer.Option("--no-push", help="Do not push the catalogue after a registration.")
    ] = False,
    exit_after: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (for scripts).")
    ] = None,
) -> None:
    """Run the CPO simulator (OCPI 2.2.1) until Ctrl+C."""
    if register_with and not emsp_token_a:
        raise typer.BadParameter(
            "--register-with needs --emsp-token-a", param_hint="--emsp-token-a"
        )
    values: dict[str, Any] = {
        "country_code": country_code.upper(),
        "party_id": party_id.upper(),
        "name": name,
        "locations": locations,
        "seed": seed,
        "admin_enabled": not no_admin,
        "recase_ids": recase_ids,
        "push_on_register": not no_push,
        "admin_token": admin_token,
        "refuse_credentials_get": refuse_credentials_get,
        "early_callback": early_callback,
        "commands": {"timeout_seconds": command_timeout, "reject_share": reject_share},
        "driver": {
            "arrive_after_seconds": arrive_after,
            "session_seconds": session_seconds,
            "parking_seconds": parking_seconds,
            "power_kw": power_kw,
            "session_kwh": session_kwh,
            "no_show_share": no_show_share,
        },
        "faults": {
            "latency_seconds": latency,
            "error_share": error_share,
            "timeout_share": timeout_share,
            "malformed_share": malformed_share,
            "malformed_kind": malformed_kind,
            "never_answer_share": never_answer_share,
        },
        "quirks": [quirks] if quirks else [],
    }
    if public_url:
        values["public_url"] = public_url
    if token_a:
        values["token_a"] = token_a
    try:
        config = SimConfig.model_validate(values)
    except ValidationError as exc:
        err_console.print(
            f"[red]invalid option:[/red] {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        )
        raise typer.Exit(2) from exc

    server = SimulatorServer(config, host=host, port=port)
    server.start()
    try:
        console.print(
            f"CPO simulator [bold]{config.country_code}*{config.party_id}[/bold] "
            f"({config.locations} locations) listening on {server.url}"
        )
        if config.quirks:
            console.print(f"  quirks       : {', '.join(config.quirks)}")
        console.print(f"  versions URL : {server.versions_url}")
        console.print(f"  token A      : {server.token_a}")
        if not no_admin:
            console.print(f"  admin API    : {server.url}/sim/state")
        if register_with:
            assert emsp_token_a is not None
            try:
                peer = server.register_with(register_with, emsp_token_a)
            except RegistrationError as exc:
                err_console.print(f"[red]registration failed[/red] (OCPI {exc.status_code}): {exc}")
                raise typer.Exit(1) from exc
            console.print(
                f"  registered with {peer.party.country_code}*{peer.party.party_id} "
                f"at {register_with}"
            )
        _wait(exit_after)
    finally:
        server.stop()


def _wait(seconds: float | None) -> None:
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1 if deadline is None else min(0.1, max(deadline - time.monotonic(), 0)))
    except KeyboardInterrupt:
        console.print("stopping")
