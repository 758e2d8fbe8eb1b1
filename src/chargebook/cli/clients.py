"""`chargebook clients …`: tenants and their keys."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import typer
from rich.table import Table

from chargebook.cli.common import console, err_console, run_with_db
from chargebook.domain.errors import DomainError
from chargebook.services import clients as svc

app = typer.Typer(help="Tenants (clients) and their API keys.", no_args_is_help=True)


def _decimal(value: str, name: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{name} must be a decimal number") from None


def _fail(exc: DomainError) -> None:
    err_console.print(f"[red]error:[/red] {exc.message}")
    raise typer.Exit(2)


@app.command()
def create(
    name: str,
    rate_limit_per_minute: int = typer.Option(100, help="Requests per minute (sliding window)."),
    monthly_quota: int = typer.Option(10_000, help="Requests per calendar month (UTC)."),
    reservation_fee: str = typer.Option("0", help="EUR added to every booking."),
    commission_percent: str = typer.Option("0", help="Percent of the CPO's cost added."),
) -> None:
    """Create a client and print its id and API key (shown once)."""
    try:
        client, key = run_with_db(
            lambda db: svc.create_client(
                db,
                name,
                reservation_fee=_decimal(reservation_fee, "reservation_fee"),
                commission_percent=_decimal(commission_percent, "commission_percent"),
                rate_limit_per_minute=rate_limit_per_minute,
                monthly_quota=monthly_quota,
            )
        )
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"client_id: {client.id}")
    console.print(f"api_key:   {key}")
    console.print("[dim]The key is shown only now; store it safely.[/dim]")


@app.command("list")
def list_() -> None:
    """List clients."""
    clients = run_with_db(svc.list_clients)
    table = Table("id", "name", "status", "fee EUR", "commission %", "rate/min", "quota/month")
    for c in clients:
        table.add_row(c.id, c.name, c.status, str(c.reservation_fee), str(c.commission_percent),
                      str(c.rate_limit_per_minute), str(c.monthly_quota))
    console.print(table)


@app.command("rotate-key")
def rotate_key(client_id: str) -> None:
    """Issue a new key; every older key stops working at once."""
    try:
        key = run_with_db(lambda db: svc.rotate_key(db, client_id))
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"api_key:   {key}")


@app.command()
def suspend(client_id: str) -> None:
    """Suspend a client: every call answers 403 until resumed."""
    try:
        run_with_db(lambda db: svc.set_client_status(db, client_id, "suspended"))
    except DomainError as exc:
        _fail(exc)
    console.print(f"{client_id} suspended")


@app.command()
def resume(client_id: str) -> None:
    """Resume a suspended client."""
    try:
        run_with_db(lambda db: svc.set_client_status(db, client_id, "active"))
    except DomainError as exc:
        _fail(exc)
    console.print(f"{client_id} active")
