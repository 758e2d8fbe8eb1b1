"""`chargebook ocpi …`: connections with CPOs."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
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


async def pull_with_progress(db: Database, party: Party) -> dict[str, int]:
    """The catalogue pull with a progress bar per module, driven by X-Total-Count."""
    columns = (TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, Any] = {}

        def progress(module: str, done: int, total: int | None) -> None:
            if module not in tasks:
                tasks[module] = bar.add_task(module, total=total)
            bar.update(tasks[module], completed=done, total=total)

        return await ocpi_catalogue.sync_party(db, party, progress)


def print_counts(counts: dict[str, int], seconds: float) -> None:
    extra = f", {counts['booking_locations']} booking locations" if "booking_locations" in counts else ""
    skipped = f", {counts['skipped']} items skipped (see the log)" if counts.get("skipped") else ""
    rate = f" ({counts['locations'] / seconds:,.0f} locations/s)" if seconds > 0 and counts["locations"] else ""
    console.print(f"synced:    {counts['locations']} locations, {counts['tariffs']} tariffs{extra}"
                  f"{skipped} in {seconds:.1f} s{rate}")


def _run(work: Callable[[Database], Awaitable[Any]], cfg: Settings) -> Any:
    try:
        return run_with_db(work, cfg)
    except (DomainError, PeerError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def connect(versions_url: str, token_a: str = typer.Option(..., "--token-a"),
            name: str | None = typer.Option(None, "--name")) -> None:
    """Register with a CPO (credentials handshake), then pull its catalogue."""
    cfg = settings()
    timing: dict[str, float] = {}

    async def run(db: Database) -> dict[str, int]:
        party = await ocpi_parties.connect(db, versions_url, token_a, identity(cfg), name)
        console.print(f"connected: {party.name} ({party.country_code}-{party.party_id}), OCPI "
                      f"{party.version} (highest mutual version)")
        console.print("modules:   " + ", ".join(sorted(party.endpoints or {})))
        console.print(f"bookings:  {party.bookings_url or 'no Bookings module: RESERVE_NOW commands'}")
        started = time.monotonic()
        counts = await pull_with_progress(db, party)
        timing["pull"] = time.monotonic() - started
        return counts

    counts = _run(run, cfg)
    print_counts(counts, timing["pull"])


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
        return await pull_with_progress(db, await ocpi_parties.find_party(db, party))

    started = time.monotonic()
    counts = _run(run, cfg)
    print_counts(counts, time.monotonic() - started)
