"""`chargebook operators …`: the platform's own staff, who log in to the console."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from chargebook.cli.common import console, err_console, run_with_db, settings
from chargebook.domain.errors import DomainError
from chargebook.services import console_users
from chargebook.services.audit import Actor

app = typer.Typer(help="Console operators (the platform's staff).", no_args_is_help=True)


def _password_from_stdin(required: bool) -> str | None:
    """A password piped in (`echo … | chargebook operators create EMAIL`); None when nothing
    was piped and none is required."""
    if not required and sys.stdin.isatty():
        return None
    value = sys.stdin.readline().rstrip("\r\n")
    if not value and required:
        raise typer.BadParameter("no password on standard input", param_hint="--password-stdin")
    return value or None


@app.command()
def create(
    email: str,
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the password from standard input (also done when input is piped). Otherwise a "
        "one-time password is printed, to be changed at the first login.",
    ),
) -> None:
    """Create an operator and print how to log in to the console."""
    cfg = settings()
    password = _password_from_stdin(password_stdin)
    try:
        user, generated = run_with_db(
            lambda db: console_users.create_operator(db, email, password, Actor.cli()), cfg
        )
    except DomainError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"operator:  {user.email}")
    console.print(f"console:   {cfg.base_url()}/console/login")
    if generated:
        # Plain print: rich could wrap or style the password.
        print(f"password:  {generated}")
        console.print(
            "[dim]A one-time password, shown only now: it must be changed at the first login.[/dim]"
        )


@app.command("reset-password")
def reset_password(
    email: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input."
    ),
) -> None:
    """A locked-out person (operator or client user) gets a new password; their sessions end."""
    password = _password_from_stdin(password_stdin)
    try:
        user, generated = run_with_db(
            lambda db: console_users.reset_password(db, email, password, Actor.cli())
        )
    except DomainError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"account:   {user.email} ({user.role})")
    if generated:
        print(f"password:  {generated}")
        console.print(
            "[dim]A one-time password, shown only now: it must be changed at the next login.[/dim]"
        )


@app.command("list")
def list_() -> None:
    """List operators."""
    users = run_with_db(lambda db: console_users.list_users(db, role="operator"))
    table = Table("email", "status", "created", "last login")
    for u in users:
        table.add_row(
            u.email,
            u.status,
            u.created_at.isoformat(timespec="seconds"),
            u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "-",
        )
    console.print(table)
