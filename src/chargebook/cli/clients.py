"""`chargebook clients …`: tenants and their keys."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import typer
from rich.table import Table

from chargebook.cli.common import console, err_console, run_with_db, settings
from chargebook.db.engine import Database
from chargebook.db.models import Client
from chargebook.domain.errors import DomainError
from chargebook.services import clients as svc
from chargebook.services import console_users, contracts
from chargebook.services.audit import Actor
from chargebook.services.clock import utcnow
from chargebook.services.rate_limits import limiter_for

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
    """List clients, their terms, and their requests this month (UTC)."""

    async def clients_and_usage(db: Database) -> tuple[list[Client], dict[str, int]]:
        clients = await svc.list_clients(db)
        limiter = limiter_for(settings(), db)
        try:
            usage = await limiter.month_usage([c.id for c in clients], utcnow())
        finally:
            await limiter.close()
        return clients, usage

    clients, usage = run_with_db(clients_and_usage)
    table = Table("id", "name", "status", "fee EUR", "commission %", "rate/min", "quota/month",
                  "used this month")
    for c in clients:
        table.add_row(c.id, c.name, c.status, str(c.reservation_fee), str(c.commission_percent),
                      str(c.rate_limit_per_minute), str(c.monthly_quota), str(usage.get(c.id, 0)))
    console.print(table)


@app.command()
def update(
    client_id: str,
    rate_limit_per_minute: int | None = typer.Option(None, help="Requests per minute (sliding window)."),
    monthly_quota: int | None = typer.Option(None, help="Requests per calendar month (UTC)."),
    reservation_fee: str | None = typer.Option(None, help="EUR added to every booking."),
    commission_percent: str | None = typer.Option(None, help="Percent of the CPO's cost added."),
    cpos: str | None = typer.Option(
        None, "--cpos", help="Contract the client for these connected CPOs only, e.g. DE*SIM,DE*SBK: "
                             "search, booking and reads show no other CPO."),
    all_cpos: bool = typer.Option(False, "--all-cpos", help="Contract the client for every connected CPO "
                                                            "(the default for new clients)."),
) -> None:
    """Change a client's limits, prices or contracted CPOs; what is not given stays. Changes
    apply from the client's next request."""
    if cpos is not None and all_cpos:
        raise typer.BadParameter("give --cpos or --all-cpos, not both")
    fee = None if reservation_fee is None else _decimal(reservation_fee, "reservation_fee")
    commission = None if commission_percent is None else _decimal(commission_percent, "commission_percent")

    async def apply(db: Database) -> tuple[Client, contracts.Contract]:
        client = await svc.update_client(
            db, client_id, reservation_fee=fee, commission_percent=commission,
            rate_limit_per_minute=rate_limit_per_minute, monthly_quota=monthly_quota,
        )
        if all_cpos:
            return client, await contracts.set_contract(db, client_id, None)
        if cpos is not None:
            return client, await contracts.set_contract(db, client_id, contracts.parse_cpo_codes(cpos))
        return client, await contracts.get_contract(db, client_id)

    try:
        client, contract = run_with_db(apply)
    except DomainError as exc:
        _fail(exc)
        return
    console.print(
        f"{client.id}: {client.rate_limit_per_minute}/min, {client.monthly_quota}/month, "
        f"fee {_plain(client.reservation_fee)} EUR, commission {_plain(client.commission_percent)} %, "
        f"CPOs: {contract.describe()}"
    )


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


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


@app.command("invite-user")
def invite_user(client_id: str, email: str) -> None:
    """Invite a client user to the console: prints a one-time link (no email is sent)."""
    cfg = settings()
    try:
        invite = run_with_db(
            lambda db: console_users.invite_client_user(db, client_id, email, Actor.cli()), cfg
        )
    except DomainError as exc:
        _fail(exc)
        return
    print(f"invitation: {cfg.base_url()}/console/invite/{invite.token}")
    console.print(f"[dim]For {invite.user.email}; works once, until "
                  f"{invite.expires_at:%Y-%m-%d %H:%M} UTC. "
                  "Hand it over yourself: no email is sent.[/dim]")
