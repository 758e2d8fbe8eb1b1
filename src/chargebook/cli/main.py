"""`chargebook`: one operator command for the whole platform."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from chargebook.cli import clients, ocpi, operators
from chargebook.cli.common import console, settings

app = typer.Typer(help="chargebook: an eMSP booking platform.", no_args_is_help=True)
app.add_typer(clients.app, name="clients")
app.add_typer(ocpi.app, name="ocpi")
app.add_typer(operators.app, name="operators")

db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to CHARGEBOOK_DATABASE_URL."""
    from chargebook.db.migrate import upgrade

    cfg = settings()
    upgrade(cfg.database_url)
    console.print("database is at the latest revision")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="API processes."),
    access_log: bool = typer.Option(
        False, "--access-log", help="uvicorn's own access log as well (our JSON request log is "
        "CHARGEBOOK_LOG_REQUESTS)."),
) -> None:
    """Run the API (applies migrations first)."""
    from chargebook.cli.processes import metrics_dir_for_workers
    from chargebook.db.migrate import upgrade

    upgrade(settings().database_url)
    with metrics_dir_for_workers(workers):
        uvicorn.run(
            "chargebook.api.asgi:app_factory", factory=True, host=host, port=port, workers=workers,
            log_level="info" if access_log else "warning", access_log=access_log,
        )


@app.command()
def worker(
    metrics_port: int | None = typer.Option(
        None, help="Serve this worker's Prometheus metrics on this port (lag, OCPI calls, …)."),
    metrics_host: str = typer.Option("127.0.0.1", help="Interface for --metrics-port."),
) -> None:
    """Run the background loops (any number of workers may share one PostgreSQL)."""
    from chargebook.cli.processes import run_worker

    run_worker(settings(), metrics_port, metrics_host)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on (0 picks a free one)."),
    exit_after: float | None = typer.Option(None, help="Stop after this many seconds (for scripts)."),
    fast_forward: bool = typer.Option(
        True, "--fast-forward/--real-time",
        help="Simulated drivers arrive seconds after the CPO confirms and charge briefly "
        "(a booking completes within a minute); --real-time: ten minutes, half an hour.",
    ),
) -> None:
    """Everything on one machine: SQLite, API, worker, a simulated CPO over OCPI, a client key."""
    from chargebook.cli.demo import demo_settings, run_demo

    asyncio.run(run_demo(demo_settings(settings()), host, port, exit_after, fast_forward))


from chargebook.cli import tariffs as _tariffs  # noqa: E402
from chargebook.cli.cpo_sim import cpo_sim as _cpo_sim  # noqa: E402

app.add_typer(_tariffs.app, name="tariffs")
app.command("cpo-sim")(_cpo_sim)
