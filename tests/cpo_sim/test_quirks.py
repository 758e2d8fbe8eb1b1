"""The ``field`` quirk profile: the simulator behaving like CPOs seen in the field, each
quirk observable over HTTP. The default simulator has none."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from chargebook.cli.cpo_sim import cpo_sim
from chargebook.cpo_sim import SimConfig, SimulatorServer
from chargebook.cpo_sim.quirks import PROFILES, SWITCHES, expand
from chargebook.ocpi import transport as t
from chargebook.ocpi.client import OcpiClient
from chargebook.ocpi.v221.types import ci_equal
from tests.cpo_sim.conftest import Connection, auth, body, fast_config, token_object
from tests.cpo_sim.emsp import RecordingEmsp


def test_the_default_is_well_behaved_and_names_are_checked() -> None:
    assert SimConfig().quirks == []
    assert fast_config(quirks=["field"]).quirks == sorted(PROFILES["field"])
    assert expand(["explicit_nulls, bare_requests"]) == ["bare_requests", "explicit_nulls"]
    assert PROFILES["field"] <= SWITCHES
    with pytest.raises(ValidationError, match="unknown quirk 'nulls'"):
        fast_config(quirks=["nulls"])


@pytest.fixture
def field(sim_factory: Callable[..., SimulatorServer], emsp: RecordingEmsp) -> Connection:
    """An eMSP registered with a ``field`` simulator, by a client that follows redirects."""
    sim = sim_factory(quirks=["field"], page_limit=5)
    with httpx.Client(headers=auth(sim.token_a), follow_redirects=True) as http:
        versions = body(http.get(sim.versions_url))["data"]
        details = body(http.get(versions[0]["url"]))["data"]
        url = next(e["url"] for e in details["endpoints"] if e["identifier"] == "credentials")
        answer = body(http.post(url, json=emsp.credentials(emsp.issue_token())))
    assert answer["status_code"] == 1000, answer
    return Connection(sim, emsp, str(answer["data"]["token"]))


def test_module_urls_redirect_to_their_slash_form(field: Connection) -> None:
    answer = field.get("locations", limit=2)
    assert answer.status_code == 307
    assert answer.headers["Location"] == f"{field.base}/locations/?limit=2"
    posted = field.post("commands/RESERVE_NOW", {})
    assert posted.status_code == 307 and posted.headers["Location"] == f"{field.base}/commands/RESERVE_NOW/"


def test_auth_failures_are_not_envelopes_and_a_plain_token_gets_3000(field: Connection) -> None:
    missing = httpx.get(f"{field.base}/locations/")
    assert (missing.status_code, missing.json()) == (401, {"detail": "Invalid authentication credentials"})
    plain = httpx.get(f"{field.base}/locations/", headers={"Authorization": "Token not-base64!"})
    assert plain.status_code == 200
    assert (plain.json()["status_code"], plain.json()["status_message"]) == (3000, "Generic server error")


def test_single_objects_come_as_one_element_lists(field: Connection) -> None:
    evse = field.reservable()
    loc, uid = evse["location_id"], evse["evse_uid"]
    location = body(field.get(f"locations/{loc}/"))["data"]
    # The field profile re-cases ids on the way back (recase_ids): compare them as CiStrings.
    assert isinstance(location, list) and len(location) == 1 and ci_equal(location[0]["id"], loc)
    connector = location[0]["evses"][0]["connectors"][0]["id"]
    assert ci_equal(body(field.get(f"locations/{loc}/{uid}/"))["data"][0]["uid"], uid)
    assert ci_equal(
        body(field.get(f"locations/{loc}/{uid}/{connector}/"))["data"][0]["id"], connector
    )
    answer = httpx.post(f"{field.base}/commands/RESERVE_NOW/", headers=auth(field.token), json={
        "response_url": f"{field.emsp.base}/emsp/results/q1", "token": token_object(),
        "expiry_date": "2099-01-01T00:00:00Z", "reservation_id": "q1", "location_id": loc, "evse_uid": uid,
    })
    assert body(answer)["data"] == [{"result": "ACCEPTED", "timeout": 5, "message": None}]
    field.result_of("q1")  # the charger still acts on it


def test_link_headers_are_broken_and_empty_on_the_last_page(field: Connection) -> None:
    links, offset = [], 0
    while True:
        page = field.get("locations/", offset=offset, limit=5)
        links.append(page.headers["Link"])
        offset += len(body(page)["data"])
        if offset >= int(page.headers[t.TOTAL_COUNT]):
            break
    assert links[-1] == ""
    assert links[0].startswith("<https://")  # wrong scheme
    assert "/ModuleID.LOCATIONS?" in links[1]
    assert len(links) == 3  # 12 locations, 5 a page


def test_explicit_nulls_in_answers_and_pushes_and_bare_requests(field: Connection) -> None:
    items = body(field.get("locations/", limit=5))["data"]
    assert any(evse.get("floor_level", "absent") is None for loc in items for evse in loc["evses"])
    assert all("images" in loc and loc["images"] is None for loc in items)
    tariffs = body(field.get("tariffs/"))["data"]
    assert any(el.get("restrictions") and set(el["restrictions"].values()) == {None}
               for tariff in tariffs for el in tariff["elements"])
    pushes = field.emsp.wait_for(lambda cs: [c for c in cs if c.method == "PUT" and "/locations/" in c.path])
    assert any(v is None for v in pushes[0].body.values())
    for call in pushes:
        assert not {"x-request-id", "x-correlation-id", "ocpi-from-party-id", "ocpi-to-party-id"} & set(call.headers)


def test_our_client_reads_the_field_profile(field: Connection) -> None:
    """The outbound client pages the whole catalogue and reads single objects regardless."""

    async def read() -> tuple[list[Any], dict[str, Any]]:
        seen: list[Any] = []
        async with OcpiClient(token=field.token) as client:
            async for items, _ in client.pages(f"{field.base}/locations", {"limit": 5}):
                seen += items
            one = await client.get_object(f"{field.base}/locations/{seen[0]['id']}")
        return seen, one

    seen, one = asyncio.run(read())
    assert len(seen) == field.sim.simulator.config.locations == len({x["id"] for x in seen})
    assert ci_equal(one["id"], seen[0]["id"])  # the single GET comes back re-cased


def test_the_cli_takes_a_profile_or_switches() -> None:
    app = typer.Typer()
    app.command("cpo-sim")(cpo_sim)
    app.command("other")(lambda: None)
    args = ["cpo-sim", "--port", "0", "--locations", "1", "--exit-after", "0.1", "--quirks"]
    result = CliRunner().invoke(app, [*args, "field"])
    assert result.exit_code == 0, result.output
    assert f"quirks : {', '.join(sorted(PROFILES['field']))}" in " ".join(result.output.split())
    chosen = CliRunner().invoke(app, [*args, "explicit_nulls,bare_requests"])
    assert "quirks : bare_requests, explicit_nulls" in " ".join(chosen.output.split())
    wrong = CliRunner().invoke(app, [*args, "nope"])
    assert wrong.exit_code == 2 and "unknown quirk 'nope'" in wrong.output
    plain = CliRunner().invoke(app, args[:-1])
    assert plain.exit_code == 0 and "quirks" not in plain.output
