"""``recase_ids``: the simulator lower-cases every id on the way back, as some CPOs do."""

from __future__ import annotations

from collections.abc import Callable

import typer
from typer.testing import CliRunner

from chargebook.cli.cpo_sim import cpo_sim
from chargebook.cpo_sim import SimulatorServer
from chargebook.cpo_sim.recase import recased, recased_url
from tests.cpo_sim.conftest import Connection, body, emsp_registers
from tests.cpo_sim.emsp import RecordingEmsp


def test_recased_lowers_ids_at_any_depth_and_nothing_else() -> None:
    session = {
        "country_code": "DE", "party_id": "XTW", "id": "S-1", "status": "ACTIVE", "currency": "EUR",
        "cdr_token": {"uid": "04A2B3C4", "type": "RFID", "contract_id": "DE-CBK-C1", "party_id": "CBK"},
        "authorization_reference": "Booking-A", "location_id": "LOC1", "evse_uid": "DE*XTW*E1",
        "charging_periods": [{"dimensions": [{"type": "ENERGY", "volume": 1}]}],
        "tariff_ids": ["AC-STD"],
    }
    assert recased(session) == session | {
        "country_code": "de", "party_id": "xtw", "id": "s-1", "authorization_reference": "booking-a",
        "location_id": "loc1", "evse_uid": "de*xtw*e1", "tariff_ids": ["ac-std"],
        "cdr_token": {"uid": "04a2b3c4", "type": "RFID", "contract_id": "de-cbk-c1", "party_id": "cbk"},
    }


def test_recased_url_lowers_ids_after_the_module_but_never_a_command_type() -> None:
    base = "http://emsp/ocpi/2.2.1/locations"
    assert recased_url(f"{base}/DE/XTW/LOC1/E1", base) == f"{base}/de/xtw/loc1/e1"
    result = "http://emsp/ocpi/2.2.1/commands/RESERVE_NOW/CMD_A1"
    assert recased_url(result, None) == "http://emsp/ocpi/2.2.1/commands/RESERVE_NOW/cmd_a1"


def test_pushes_and_single_gets_are_recased_while_the_pull_keeps_the_catalogue_case(
    sim_factory: Callable[..., SimulatorServer], emsp: RecordingEmsp
) -> None:
    sim = sim_factory(party_id="XTW", recase_ids=True)
    connected = Connection(sim, emsp, emsp_registers(sim, emsp))
    puts = emsp.wait_for(lambda calls: [c for c in calls if c.method == "PUT" and "/locations/" in c.path])
    assert all(c.path == c.path.lower() and c.body["id"] == c.body["id"].lower() for c in puts)
    assert {(c.body["country_code"], c.body["party_id"]) for c in puts} == {("de", "xtw")}
    pulled = body(connected.get("locations"))["data"]
    location_id = pulled[0]["id"]
    assert location_id.startswith("DE-XTW-")
    one = body(connected.get(f"locations/{location_id}"))["data"]
    assert one["id"] == location_id.lower()
    assert all(e["uid"] == e["uid"].lower() for e in one["evses"])
    roles = body(connected.get("credentials"))["data"]["roles"]
    assert {(r["country_code"], r["party_id"]) for r in roles} == {("de", "xtw")}


def test_the_cli_switch_turns_it_on(emsp: RecordingEmsp) -> None:
    app = typer.Typer()
    app.command("cpo-sim")(cpo_sim)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, [
        "cpo-sim", "--port", "0", "--locations", "2", "--party-id", "XTW", "--recase-ids",
        "--exit-after", "0.3", "--register-with", emsp.versions_url, "--emsp-token-a", emsp.token_a,
    ])
    assert result.exit_code == 0, result.output
    (posted,) = emsp.find("POST", "/credentials")
    assert {(r["country_code"], r["party_id"]) for r in posted.body["roles"]} == {("de", "xtw")}
