"""`chargebook ocpi …`: connections with CPOs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from chargebook.cli.common import console, err_console, run_with_db, settings
from chargebook.db.engine import Database
from chargebook.db.models import Party
from chargebook.domain.errors import DomainError
from chargebook.ocpi.client import PeerError
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.settings import Settings

app = typer.Typer(help="OCPI connections with CPOs.", no_args_is_help=True)


def identity(cfg: Settings) -> ocpi_parties.Identity:
    return ocpi_parties.Identity.from_settings(cfg)


@app.command()
def invite(
    name: str,
    country_code: Annotated[str | None, typer.Option(help="The CPO's country code.")] = None,
    party_id: Annotated[str | None, typer.Option(help="The CPO's party id.")] = None,
) -> None:
    """Print our versions URL and a fresh token A for a CPO that registers with us.

    The token registers one party, once: the one named here (recommended), or else the first
    one that registers with it."""
    if (country_code is None) != (party_id is None):
        raise typer.BadParameter("give both --country-code and --party-id, or neither")
    cfg = settings()
    party = (country_code, party_id) if country_code and party_id else None
    try:
        token = run_with_db(lambda db: ocpi_parties.issue_invite(db, name, party), cfg)
    except DomainError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"versions_url: {identity(cfg).versions_url}")
    console.print(f"token_a:      {token}")
    console.print(f"for party:    {'-'.join(party).upper() if party else 'the first that registers with it'}")


@app.command()
def connect(versions_url: str, token_a: str = typer.Option(..., "--token-a"),
            name: str | None = typer.Option(None, "--name")) -> None:
    """Register with a CPO (credentials handshake), then pull its catalogue."""
    cfg = settings()

    async def run(db: Database) -> tuple[Party, dict[str, int]]:
        party = await ocpi_parties.connect(db, versions_url, token_a, identity(cfg), name)
        counts = await ocpi_catalogue.sync_party(db, party)
        return party, counts

    try:
        party, counts = run_with_db(run, cfg)
    except (DomainError, PeerError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"connected: {party.name} ({party.country_code}-{party.party_id}), OCPI {party.version} "
                  f"(highest mutual version)")
    console.print("modules:   " + ", ".join(sorted(party.endpoints or {})))
    console.print(f"bookings:  {party.bookings_url or 'no Bookings module: RESERVE_NOW commands'}")
    extra = f", {counts['booking_locations']} booking locations" if "booking_locations" in counts else ""
    console.print(f"synced:    {counts['locations']} locations, {counts['tariffs']} tariffs{extra}")


@app.command()
def update(party: str) -> None:
    """Rotate our credentials with a CPO and re-negotiate the OCPI version (PUT credentials)."""
    cfg = settings()

    async def run(db: Database) -> Party:
        found = await ocpi_parties.find_party(db, party)
        return await ocpi_parties.update_credentials(db, found, identity(cfg))

    try:
        updated = run_with_db(run, cfg)
    except (DomainError, PeerError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"updated:   {updated.name} ({updated.country_code}-{updated.party_id}), OCPI {updated.version}")
    console.print(f"bookings:  {updated.bookings_url or 'no Bookings module'}")


@app.command()
def parties() -> None:
    """List connected CPOs."""
    rows = run_with_db(ocpi_parties.list_parties)
    table = Table("id", "party", "name", "status", "version", "modules", "bookings", "last sync")
    for p in rows:
        table.add_row(p.id, f"{p.country_code}-{p.party_id}", p.name, p.status, p.version or "-",
                      str(len(p.endpoints or {})), "yes" if p.bookings_url else "-",
                      p.last_sync_at.isoformat() if p.last_sync_at else "-")
    console.print(table)


@app.command()
def sync(party: str) -> None:
    """Pull a CPO's catalogue now (Locations and Tariffs, all pages)."""
    cfg = settings()

    async def run(db: Database) -> dict[str, int]:
        found = await ocpi_parties.find_party(db, party)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(module: str, done: int, total: int | None) -> None:
                if module not in tasks:
                    tasks[module] = bar.add_task(module, total=total)
                bar.update(tasks[module], completed=done, total=total)

            return await ocpi_catalogue.sync_party(db, found, progress)

    try:
        counts = run_with_db(run, cfg)
    except (DomainError, PeerError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    extra = f", {counts['booking_locations']} booking locations" if "booking_locations" in counts else ""
    console.print(f"synced: {counts['locations']} locations, {counts['tariffs']} tariffs{extra}")
