"""Commands receiver: CommandResponse now, CommandResult later at the response_url."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from chargebook.cpo_sim import SimulatorServer
from chargebook.ocpi.v221 import CommandResponse
from tests.cpo_sim.conftest import Connection, auth, emsp_registers
from tests.cpo_sim.emsp import RecordingEmsp, token_object


def no_show(connected: Connection) -> None:
    """Keep drivers away so a reservation stays put while a test looks at it."""
    connected.admin(
        "POST", "config", json={"driver": {"no_show_share": 1.0, "reservation_cdrs": False}}
    )


def test_reserve_now_accepted_then_result_and_reserved_patch(connected: Connection) -> None:
    no_show(connected)
    evse = connected.reservable()
    answer = connected.reserve(evse, "R1")
    assert answer["status_code"] == 1000
    response = CommandResponse.model_validate(answer["data"])
    assert response.result.value == "ACCEPTED" and response.timeout == 5
    result = connected.result_of("R1")
    assert result == {"result": "ACCEPTED"}
    call = connected.emsp.find("POST", "/emsp/results/R1")[0]
    assert call.authorized and call.headers["ocpi-from-party-id"] == "SIM"
    assert connected.evse_statuses(evse, 1) == ["RESERVED"]
    [reservation] = connected.admin("GET", "reservations")
    assert reservation["reservation_id"] == "R1" and reservation["status"] == "ACTIVE"
    assert reservation["id"] != "R1"  # our own id, not the eMSP's, goes to the charger


def test_unknown_location_is_2003_rejected(connected: Connection) -> None:
    answer = connected.reserve({"location_id": "NOPE", "evse_uid": "X"}, "R2")
    assert answer["status_code"] == 2003 and answer["data"]["result"] == "REJECTED"


def test_unknown_evse_is_rejected(connected: Connection) -> None:
    evse = {**connected.reservable(), "evse_uid": "DE*SIM*NOPE"}
    answer = connected.reserve(evse, "R3")
    assert answer["status_code"] == 1000 and answer["data"]["result"] == "REJECTED"
    assert answer["data"]["message"][0]["text"].startswith("unknown EVSE")


def test_not_reservable_evse_is_not_supported(connected: Connection) -> None:
    plain = next(e for e in connected.evses() if "RESERVABLE" not in e["capabilities"])
    answer = connected.reserve(plain, "R4")
    assert answer["data"]["result"] == "NOT_SUPPORTED"


def test_out_of_order_evse_fails_with_evse_inoperative(connected: Connection) -> None:
    evse = connected.reservable()
    connected.admin(
        "POST",
        f"evses/{evse['location_id']}/{evse['evse_uid']}/status",
        json={"status": "OUTOFORDER"},
    )
    assert connected.reserve(evse, "R5")["data"]["result"] == "ACCEPTED"
    assert connected.result_of("R5")["result"] == "EVSE_INOPERATIVE"


def test_overlapping_reservation_is_rejected(connected: Connection) -> None:
    no_show(connected)
    evse = connected.reservable()
    connected.reserve(evse, "R6")
    assert connected.result_of("R6")["result"] == "ACCEPTED"
    connected.reserve(evse, "R7", token=token_object("TOKEN0099"))
    second = connected.result_of("R7")
    assert second["result"] == "REJECTED" and "reserved until" in second["message"][0]["text"]


def test_same_reservation_id_updates_it(connected: Connection) -> None:
    no_show(connected)
    first, other = connected.reservable(0), connected.reservable(1)
    connected.reserve(first, "R8")
    assert connected.result_of("R8")["result"] == "ACCEPTED"
    assert connected.evse_statuses(first, 1) == ["RESERVED"]
    connected.emsp.reset()
    connected.reserve(other, "R8", expires_in=1200)
    assert connected.result_of("R8")["result"] == "ACCEPTED"
    [reservation] = connected.admin("GET", "reservations")
    assert reservation["evse_uid"] == other["evse_uid"]
    assert connected.evse_statuses(first, 1) == ["AVAILABLE"]
    assert connected.evse_statuses(other, 1) == ["RESERVED"]


def test_rejection_rules(sim_factory: Callable[..., SimulatorServer], emsp: RecordingEmsp) -> None:
    sim = sim_factory()
    connected = Connection(sim, emsp, emsp_registers(sim, emsp))
    target, fine = connected.reservable(0), connected.reservable(1)
    connected.admin("POST", "config", json={"commands": {"reject_evse_uids": [target["evse_uid"]]}})
    connected.reserve(target, "R9")
    assert connected.result_of("R9")["result"] == "REJECTED"
    connected.admin(
        "POST", "config", json={"commands": {"reject_evse_uids": [], "reject_share": 1.0}}
    )
    connected.reserve(fine, "R10")
    assert connected.result_of("R10")["result"] == "REJECTED"
    connected.admin(
        "POST",
        "config",
        json={"commands": {"reject_share": 0.0, "result_overrides": {fine["evse_uid"]: "FAILED"}}},
    )
    connected.reserve(fine, "R11")
    assert connected.result_of("R11")["result"] == "FAILED"
    assert connected.admin("GET", "reservations") == []


def test_cancel_reservation(connected: Connection) -> None:
    connected.admin("POST", "config", json={"driver": {"no_show_share": 1.0}})
    evse = connected.reservable()
    connected.reserve(evse, "R12")
    connected.result_of("R12")
    connected.evse_statuses(evse, 1)
    url = f"{connected.emsp.base}/emsp/results/C12"
    answer = connected.command("CANCEL_RESERVATION", {"response_url": url, "reservation_id": "r12"})
    assert answer["data"]["result"] == "ACCEPTED"
    assert connected.result_of("C12") == {"result": "ACCEPTED"}
    [reservation] = connected.admin("GET", "reservations")
    assert reservation["status"] == "CANCELED"
    assert connected.evse_statuses(evse, 2) == ["RESERVED", "AVAILABLE"]
    # A cancelled reservation may still cost something: a reservation-only CDR.
    cdr = connected.emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "POST" and c.path.endswith("/cdrs")]
    )
    assert cdr[0].body["remark"] == "reservation cancelled" and "session_id" not in cdr[0].body


def test_cancel_unknown_reservation(connected: Connection) -> None:
    url = f"{connected.emsp.base}/emsp/results/C13"
    answer = connected.command(
        "CANCEL_RESERVATION", {"response_url": url, "reservation_id": "NOPE"}
    )
    assert answer["data"]["result"] == "ACCEPTED"
    assert connected.result_of("C13")["result"] == "UNKNOWN_RESERVATION"


def test_operator_cancels_a_reservation(connected: Connection) -> None:
    no_show(connected)
    evse = connected.reservable()
    connected.reserve(evse, "R14")
    connected.result_of("R14")
    connected.evse_statuses(evse, 1)
    connected.emsp.reset()
    connected.admin(
        "POST",
        f"evses/{evse['location_id']}/{evse['evse_uid']}/status",
        json={"status": "OUTOFORDER"},
    )
    cancelled = connected.result_of("R14")
    assert cancelled["result"] == "CANCELED_RESERVATION"


def test_start_and_stop_session(connected: Connection) -> None:
    connected.admin("POST", "config", json={"driver": {"session_seconds": 60}})
    evse = connected.reservable()
    base = f"{connected.emsp.base}/emsp/results"
    start = connected.command(
        "START_SESSION",
        {
            "response_url": f"{base}/S1",
            "token": token_object(),
            "location_id": evse["location_id"],
            "evse_uid": evse["evse_uid"],
            "connector_id": "1",
            "authorization_reference": "REF-S1",
        },
    )
    assert start["data"]["result"] == "ACCEPTED"
    assert connected.result_of("S1") == {"result": "ACCEPTED"}
    put = connected.emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "PUT" and "/sessions/" in c.path]
    )[0]
    assert put.body["status"] == "ACTIVE" and put.body["auth_method"] == "COMMAND"
    assert put.body["authorization_reference"] == "REF-S1"
    session_id = put.body["id"]
    stop = connected.command(
        "STOP_SESSION", {"response_url": f"{base}/S2", "session_id": session_id}
    )
    assert stop["data"]["result"] == "ACCEPTED" and connected.result_of("S2") == {
        "result": "ACCEPTED"
    }
    cdr = connected.emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "POST" and c.path.endswith("/cdrs")]
    )[0]
    assert cdr.body["session_id"] == session_id
    unknown = connected.command(
        "STOP_SESSION", {"response_url": f"{base}/S3", "session_id": "NOPE"}
    )
    assert unknown["data"]["result"] == "UNKNOWN_SESSION"


def test_start_session_on_a_busy_evse(connected: Connection) -> None:
    busy = connected.reservable()
    connected.admin(
        "POST",
        f"evses/{busy['location_id']}/{busy['evse_uid']}/status",
        json={"status": "CHARGING"},
    )
    answer = connected.command(
        "START_SESSION",
        {
            "response_url": f"{connected.emsp.base}/emsp/results/S4",
            "token": token_object(),
            "location_id": busy["location_id"],
            "evse_uid": busy["evse_uid"],
        },
    )
    assert answer["data"]["result"] == "ACCEPTED"
    assert connected.result_of("S4")["result"] == "EVSE_OCCUPIED"


def test_unlock_connector(connected: Connection) -> None:
    evse = connected.reservable()
    url = f"{connected.emsp.base}/emsp/results/U1"
    unknown = connected.command(
        "UNLOCK_CONNECTOR",
        {"response_url": url, "location_id": "NOPE", "evse_uid": "X", "connector_id": "1"},
    )
    assert unknown["status_code"] == 2003 and unknown["data"]["result"] == "REJECTED"
    incapable = connected.command(
        "UNLOCK_CONNECTOR",
        {
            "response_url": url,
            "location_id": evse["location_id"],
            "evse_uid": evse["evse_uid"],
            "connector_id": "1",
        },
    )
    assert incapable["data"]["result"] == "NOT_SUPPORTED"


def test_bad_command_bodies(connected: Connection) -> None:
    url = f"{connected.base}/commands"
    not_json = httpx.post(f"{url}/RESERVE_NOW", content=b"<xml/>", headers=auth(connected.token))
    assert not_json.status_code == 400
    missing = httpx.post(
        f"{url}/RESERVE_NOW", json={"reservation_id": "x"}, headers=auth(connected.token)
    )
    assert missing.status_code == 200 and missing.json()["status_code"] == 2001
    unknown = httpx.post(f"{url}/FLY_TO_MOON", json={}, headers=auth(connected.token))
    assert unknown.json()["data"]["result"] == "NOT_SUPPORTED"
    anonymous = httpx.post(f"{url}/RESERVE_NOW", json={})
    assert anonymous.status_code == 401
