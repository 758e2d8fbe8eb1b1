"""The in-process server, the ASGI app on its own, the admin API's protection, the CLI."""

from __future__ import annotations

import asyncio

import httpx
import typer
from typer.testing import CliRunner

from chargebook.cli.cpo_sim import cpo_sim
from chargebook.cpo_sim import SimConfig, SimulatorServer, create_app
from chargebook.ocpi import transport as t
from tests.cpo_sim.conftest import auth, fast_config
from tests.cpo_sim.emsp import RecordingEmsp


def test_server_start_stop_and_python_api() -> None:
    server = SimulatorServer(fast_config(token_a="sandbox-token-a"))
    url = server.start()
    try:
        assert url == server.url and server.versions_url == f"{url}/ocpi/cpo/versions"
        assert server.token_a == "sandbox-token-a"
        versions = httpx.get(server.versions_url, headers=auth("sandbox-token-a")).json()
        assert versions["data"] == [{"version": "2.2.1", "url": f"{url}/ocpi/cpo/2.2.1"}]
        changed = server.configure(faults={"latency_seconds": 0.01})
        assert changed.faults.latency_seconds == 0.01
    finally:
        server.stop()


def test_asgi_app_without_a_server() -> None:
    config = SimConfig(locations=3, token_a="asgi-token", public_url="http://sim.test")

    async def scenario() -> None:
        app = create_app(config)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": t.authorization_header("asgi-token")}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client,
        ):
            # A trailing slash is tolerated (peers join URLs differently).
            answer = await client.get("/ocpi/cpo/versions/", headers=headers)
            assert answer.json()["data"][0]["url"] == "http://sim.test/ocpi/cpo/2.2.1"
            state = (await client.get("/sim/state")).json()
            assert state["counts"]["locations"] == 3

    asyncio.run(scenario())


def test_admin_token_and_disabled_admin() -> None:
    with SimulatorServer(fast_config(admin_token="admin-secret")) as server:
        assert httpx.get(f"{server.url}/sim/state").status_code == 401
        ok = httpx.get(f"{server.url}/sim/state", headers={"Authorization": "Bearer admin-secret"})
        assert ok.status_code == 200
    with SimulatorServer(fast_config(admin_enabled=False)) as server:
        assert httpx.get(f"{server.url}/sim/state").status_code == 404


def test_cli_prints_the_versions_url_and_token_a() -> None:
    app = typer.Typer()
    app.command("cpo-sim")(cpo_sim)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(
        app,
        [
            "cpo-sim",
            "--port",
            "0",
            "--locations",
            "3",
            "--token-a",
            "cli-token-a",
            "--party-id",
            "abc",
            "--exit-after",
            "0.2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "/ocpi/cpo/versions" in result.output and "cli-token-a" in result.output
    assert "DE*ABC" in result.output


def test_cli_registers_with_an_emsp() -> None:
    emsp = RecordingEmsp().start()
    try:
        app = typer.Typer()
        app.command("cpo-sim")(cpo_sim)
        app.command("other")(lambda: None)
        result = CliRunner().invoke(
            app,
            [
                "cpo-sim",
                "--port",
                "0",
                "--locations",
                "2",
                "--exit-after",
                "0.3",
                "--register-with",
                emsp.versions_url,
                "--emsp-token-a",
                emsp.token_a,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "registered with NL*EMP" in result.output
        assert emsp.find("POST", "/credentials")[0].token == emsp.token_a
        missing = CliRunner().invoke(
            app, ["cpo-sim", "--port", "0", "--register-with", emsp.versions_url]
        )
        assert missing.exit_code == 2
    finally:
        emsp.stop()
