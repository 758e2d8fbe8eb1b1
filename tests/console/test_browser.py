"""The console in a real browser (Debian's Chromium driven by Playwright): the journeys of an
operator and of a client user, against chargebook, its worker and a simulated CPO on 127.0.0.1.

Skipped locally when Chromium or Playwright is missing; under ``CI=true`` that is a failure.
With ``CHARGEBOOK_CONSOLE_SCREENSHOTS=1`` the journeys save the pictures of docs/console.md.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import func, select

from chargebook.cpo_sim import CommandRules, DriverRules, SimConfig, SimulatorServer
from chargebook.db.models import Evse, Location
from chargebook.services import fleet
from chargebook.settings import Settings
from tests.conftest import FreshDatabase, LiveServer, WorkerThread
from tests.console.kit import make_operator
from tests.factories import make_client, with_db

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
PASSWORD = "browser journey password"
T = TypeVar("T")


def _playwright() -> Any:
    problem = None
    try:
        from playwright.sync_api import sync_playwright  # only these tests need a browser driver
    except ImportError as exc:
        problem, sync_playwright = f"Playwright is not installed ({exc})", None
    if problem is None and not CHROMIUM.exists():
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI=true: {problem}")
        pytest.skip(problem)
    return sync_playwright


def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Playwright's sync API keeps an event loop running in this thread, so database helpers
    (which call asyncio.run) run in another one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


class Platform:
    def __init__(self, url: str, live: LiveServer, sim: SimulatorServer) -> None:
        self.url, self.live, self.sim = url, live, sim
        self.console = f"{live.base}/console"


@pytest.fixture(scope="module")
def platform(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """chargebook with its worker and a simulated OCPI 2.2.1 CPO whose drivers come late (so a
    booking stays CONFIRMED while we look at it)."""
    fresh = FreshDatabase(backend, tmp_path_factory.mktemp("browser"))
    settings = Settings(database_url=fresh.url, worker_interval_seconds=0.2)
    sim = SimulatorServer(
        SimConfig(
            locations=6,
            seed=11,
            push_delay_seconds=0.0,
            name="Browser CPO",
            commands=CommandRules(result_delay_seconds=0.05, timeout_seconds=5),
            driver=DriverRules(
                arrive_after_seconds=3600, session_seconds=60, meter_interval_seconds=30
            ),
        )
    )
    with LiveServer(settings) as live, WorkerThread(live.settings):
        sim.start()
        try:
            yield Platform(fresh.url, live, sim)
        finally:
            sim.stop()
    fresh.drop()


@pytest.fixture(scope="module")
def browser(platform: Platform) -> Iterator[Any]:
    sync_playwright = _playwright()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def shot(page: Any, name: str, backend: str) -> None:
    """docs/console/NAME.png, only when asked (CI must not rewrite the repository)."""
    if os.environ.get("CHARGEBOOK_CONSOLE_SCREENSHOTS") and backend == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def new_page(browser: Any) -> Any:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # our data-confirm questions
    return page


def sign_in(page: Any, platform: Platform, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{platform.console}/")
    assert page.url.startswith(f"{platform.console}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Sign in')")


def _locations(platform: Platform) -> int:
    async def count(db: Any) -> int:
        async with db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(Location)) or 0)

    return in_thread(with_db, platform.url, count)


def _free_evse(platform: Platform) -> tuple[str, str]:
    async def first(db: Any) -> tuple[str, str]:
        async with db.read() as session:
            row = (
                await session.execute(
                    select(Location.id, Evse.uid)
                    .join(Evse, Evse.location_pk == Location.pk)
                    .where(Evse.reservable.is_(True), Evse.status == "AVAILABLE")
                    .order_by(Location.id, Evse.uid)
                    .limit(1)
                )
            ).one()
            return row[0], row[1]

    return in_thread(with_db, platform.url, first)


def test_operator_and_client_user_journeys(platform: Platform, browser: Any, backend: str) -> None:
    email, _ = in_thread(lambda: make_operator(platform.url, password=PASSWORD))
    ops = new_page(browser)
    sign_in(ops, platform, email)
    ops.wait_for_url(f"{platform.console}/ops")
    assert ops.is_visible("text=Platform overview")

    # A client, whose key is shown once.
    ops.click("nav >> text=Clients")
    ops.fill("form[action$='/ops/clients'] input[name=name]", "Browser Fleet")
    ops.fill("form[action$='/ops/clients'] input[name=reservation_fee]", "2.50")
    ops.click("button:has-text('Create client')")
    key = ops.inner_text("#api-key")
    assert key.startswith("cbk_")
    shot(ops, "ops-key-once", backend)
    with httpx.Client(base_url=platform.live.client_base, headers={"X-API-Key": key}) as client_api:
        assert client_api.get("/usage").status_code == 200
    ops.click("text=Go to Browser Fleet")
    assert key not in ops.content() and key[:10] in ops.content()
    client_id = re.search(r"/ops/clients/(cli_[0-9a-f]+)", ops.url).group(1)  # type: ignore[union-attr]

    # A user for it: the invitation is a one-time link shown to the operator.
    ops.fill("input[name=email][type=email]", "manager@browser.example")
    ops.click("button:has-text('Invite')")
    link = ops.inner_text("#invite-link")

    # The simulator's CPO, connected by its versions URL and token A.
    ops.click("nav >> text=CPOs")
    ops.fill("input[name=versions_url]", platform.sim.versions_url)
    ops.fill("input[name=token_a]", platform.sim.token_a)
    ops.click("button:has-text('Connect')")
    assert ops.is_visible("text=Connected to")
    deadline = time.monotonic() + 60
    while _locations(platform) < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    ops.reload()
    assert ops.is_visible("td >> text=registered") and ops.is_visible("text=2.2.1")
    ops.click("button:has-text('Sync now')")
    assert ops.is_visible("text=Catalogue pull started") or ops.is_visible("text=already running")
    shot(ops, "ops-cpos", backend)
    shot(ops.goto(f"{platform.console}/ops/clients") and ops, "ops-clients", backend)
    ops.goto(f"{platform.console}/ops/clients/{client_id}")
    shot(ops, "ops-client", backend)

    # The client user accepts the invitation and signs in.
    fleet_page = new_page(browser)
    fleet_page.goto(link)
    fleet_page.fill("input[name=password]", PASSWORD)
    fleet_page.fill("input[name=confirm_password]", PASSWORD)
    fleet_page.click("button:has-text('Set password')")
    assert fleet_page.is_visible("text=Password set")
    sign_in(fleet_page, platform, "manager@browser.example")
    fleet_page.wait_for_url(f"{platform.console}/client")
    assert fleet_page.is_visible(f"text={key[:10]}")
    shot(fleet_page, "client-home", backend)

    # A group with limits, tokens issued and downloaded.
    fleet_page.click("nav >> text=Fleet groups")
    fleet_page.fill("form[action$='/client/groups'] input[name=name]", "Vans Berlin")
    fleet_page.fill("input[name=monthly_limit]", "300")
    fleet_page.fill("input[name=session_limit]", "45")
    fleet_page.click("button:has-text('Create group')")
    group_id = fleet_page.url.rsplit("/", 1)[1]
    fleet_page.fill("input[name=count]", "5")
    fleet_page.click("button:has-text('Issue tokens')")
    assert fleet_page.is_visible("text=5 tokens issued")
    with fleet_page.expect_download() as download:
        fleet_page.click("#tokens-csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 5 and {r["fleet_group_id"] for r in rows} == {group_id}

    # A booking made through the API appears, and turns CONFIRMED, without a reload.
    fleet_page.click("nav >> text=Bookings")
    fleet_page.evaluate("window.noReloadMarker = 42")
    location_id, evse_uid = _free_evse(platform)
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 20 * 60))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 80 * 60))
    with httpx.Client(base_url=platform.live.client_base, headers={"X-API-Key": key}) as client_api:
        booking = client_api.post(
            "/bookings",
            json={
                "location_id": location_id,
                "evse_uid": evse_uid,
                "reservation_start": start,
                "reservation_end": end,
                "token_strategy": "group_token",
                "fleet_group_id": group_id,
                "external_id": "browser-1",
            },
        ).json()
    row = f"tr[data-id='{booking['id']}']"
    fleet_page.wait_for_selector(row)
    fleet_page.wait_for_selector(f"{row} .badge.s-CONFIRMED", timeout=60_000)
    assert fleet_page.evaluate("window.noReloadMarker") == 42  # the same document all along
    shot(fleet_page, "client-bookings", backend)
    fleet_page.click(f"{row} a")
    assert fleet_page.is_visible("#booking-live .status-line .badge.s-CONFIRMED")
    assert fleet_page.is_visible("text=RESERVE_NOW")
    shot(fleet_page, "client-booking", backend)
    fleet_page.goto(f"{platform.console}/client/groups/{group_id}")
    shot(fleet_page, "client-group", backend)
    fleet_page.goto(f"{platform.console}/client/billing")
    shot(fleet_page, "client-billing", backend)
    # Close the month that just ended (the page asks first), then download its statement.
    last_month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    fleet_page.once("dialog", lambda dialog: dialog.accept())
    fleet_page.click(f"#periods tr[data-month='{last_month}'] button")
    fleet_page.wait_for_selector(f"#periods tr[data-month='{last_month}'] .badge.s-closed")
    with fleet_page.expect_download() as statement:
        fleet_page.click("#statement-csv")
    assert Path(statement.value.path()).read_text().startswith("booking_id,")

    # Another client's URL is a 404 page.
    other_client, _ = in_thread(make_client, platform.url, "someone else")
    other_group = in_thread(
        with_db,
        platform.url,
        lambda db: fleet.create_group(
            db, other_client, name="not yours", monthly_limit=None, session_limit=None
        ),
    )
    response = fleet_page.goto(f"{platform.console}/client/groups/{other_group.id}")
    assert response is not None and response.status == 404
    assert fleet_page.is_visible("text=Not found") and not fleet_page.is_visible("text=not yours")
    shot(fleet_page, "not-found", backend)

    # The operator sees the booking among all clients' and on its own page.
    ops.goto(f"{platform.console}/ops/bookings")
    ops.wait_for_selector(f"tr[data-id='{booking['id']}']")
    shot(ops, "ops-bookings", backend)
    ops.goto(f"{platform.console}/ops/bookings/{booking['id']}")
    assert ops.is_visible("text=Browser Fleet")
    shot(ops, "ops-booking", backend)
    ops.goto(f"{platform.console}/ops")
    shot(ops, "ops-overview", backend)
    ops.goto(f"{platform.console}/ops/audit")
    assert ops.is_visible("text=client.create") and ops.is_visible("text=cpo.connect")
    shot(ops, "ops-audit", backend)
