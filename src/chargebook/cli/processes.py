"""What `serve` and `worker` need around the processes they run: metrics, signals."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from chargebook.settings import Settings

if TYPE_CHECKING:  # the command imports the database layer only when it runs
    from chargebook.db.engine import Database

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable


@contextlib.contextmanager
def metrics_dir_for_workers(workers: int) -> Iterator[None]:
    """Under ``serve --workers N`` (N > 1) each API process records its metrics into files in
    one directory, and a scrape of any process adds them all up. The variable must be set
    before uvicorn starts the processes (prometheus_client reads it at import). An operator's
    own directory is emptied first; otherwise a fresh one is made and removed at exit.
    A single process keeps its metrics in memory, as before."""
    from chargebook.metrics import prepare_multiprocess_dir

    given = os.environ.get(MULTIPROC_ENV)
    if given:
        prepare_multiprocess_dir(Path(given))
        yield
        return
    if workers <= 1:
        yield
        return
    made = tempfile.mkdtemp(prefix="chargebook-metrics-")
    os.environ[MULTIPROC_ENV] = made
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)


def run_worker(cfg: Settings, metrics_port: int | None, metrics_host: str) -> None:
    """The worker loops until SIGTERM or SIGINT; a clean stop removes its heartbeat."""
    from chargebook.cli.common import run_with_db
    from chargebook.logs import configure as configure_logs
    from chargebook.worker.runner import run_forever

    configure_logs(cfg)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from chargebook.metrics import collecting_registry

        start_http_server(metrics_port, addr=metrics_host, registry=collecting_registry())

    async def main(db: Database) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_forever(db, cfg, stop)

    run_with_db(main, cfg)
