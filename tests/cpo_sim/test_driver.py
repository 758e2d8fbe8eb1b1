"""The simulated driver: arrival, real-time authorization, Session PUT/PATCH, CDR, no-show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chargebook.domain.tariff import SessionProfile, parse_tariff, price_session
from chargebook.ocpi.v221 import CDR, Session, parse_datetime
from tests.cpo_sim.conftest import Connection
from tests.cpo_sim.emsp import Call, token_object


def cdr_posts(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "POST" and c.path.endswith("/cdrs")]


def session_calls(calls: list[Call]) -> list[Call]:
    return [c for c in calls if "/sessions/" in c.path and c.method in ("PUT", "PATCH")]


def engine_price(cdr: dict[str, Any], *, expired: bool = False) -> tuple[Decimal, Decimal]:
    """What the tariff engine says the CDR's own quantities cost (recomputed as an eMSP would)."""
    tariff = parse_tariff(cdr["tariffs"][0])
    zone = ZoneInfo("Europe/Berlin")  # the Location's time_zone (CDRs do not carry it)
    by_dim = {d["type"]: d["volume"] for p in cdr["charging_periods"] for d in p["dimensions"]}
    reserved = by_dim.get("RESERVATION_TIME", Decimal(0)) * 60
    if expired:
        profile = SessionProfile(
            start=parse_datetime(cdr["end_date_time"]).astimezone(zone),
            reservation_minutes=reserved,
            reservation_expired=True,
        )
    else:
        charging = next(
            p
            for p in cdr["charging_periods"]
            if any(d["type"] == "ENERGY" for d in p["dimensions"])
        )
        parking = cdr.get("total_parking_time", Decimal(0))
        profile = SessionProfile(
            start=parse_datetime(charging["start_date_time"]).astimezone(zone),
            energy_kwh=cdr["total_energy"],
            charging_minutes=(cdr["total_time"] - parking) * 60,
            parking_minutes=parking * 60,
            reservation_minutes=reserved,
        )
    price = price_session(tariff, profile)
    assert price.incl_vat is not None
    return price.excl_vat, price.incl_vat


def test_driver_arrives_authorizes_charges_and_is_billed(connected: Connection) -> None:
    connected.admin("POST", "config", json={"driver": {"session_kwh": 20, "parking_seconds": 0.2}})
    emsp = connected.emsp
    evse = connected.reservable()
    connected.reserve(evse, "D1", authorization_reference="RESERVE-REF")
    assert connected.result_of("D1")["result"] == "ACCEPTED"

    # Real-time authorization of a whitelist NEVER token, with LocationReferences.
    authorize = emsp.wait_for(lambda cs: [c for c in cs if c.path.endswith("/authorize")])[0]
    assert authorize.path == "/emsp/2.2.1/tokens/TOKEN0001/authorize"
    assert authorize.query == {"type": "APP_USER"}
    assert authorize.body == {"location_id": evse["location_id"], "evse_uids": [evse["evse_uid"]]}

    [cdr_call] = emsp.wait_for(cdr_posts)
    cdr = cdr_call.body
    CDR.model_validate(cdr)
    sessions = session_calls(emsp.calls)
    put, *patches = sessions
    assert put.method == "PUT" and put.path.endswith(f"/DE/SIM/{put.body['id']}")
    started = Session.model_validate(put.body)
    assert (started.status.value, started.kwh, started.evse_uid) == ("ACTIVE", 0, evse["evse_uid"])
    assert started.auth_method.value == "AUTH_REQUEST"
    assert started.authorization_reference == "AUTH-REF-0001"  # the latest one given: authorize's
    assert started.cdr_token.uid == "TOKEN0001" and started.cdr_token.party_id == "EMP"
    assert all(p.method == "PATCH" and "last_updated" in p.body for p in patches)
    meter, final = patches[:-1], patches[-1]
    assert meter and all(len(p.body["charging_periods"]) == 1 for p in meter)
    assert any(
        d["type"] == "PARKING_TIME" for d in meter[-1].body["charging_periods"][0]["dimensions"]
    )
    assert final.body["status"] == "COMPLETED" and "end_date_time" in final.body
    assert final.body["total_cost"] == cdr["total_cost"]

    # The CDR: the reservation, the charging, the parking; priced by the tariff engine.
    assert cdr["session_id"] == started.id and cdr["authorization_reference"] == "AUTH-REF-0001"
    assert cdr["tariffs"][0]["id"] in ("AC-STD", "DC-STD")
    kinds = [[d["type"] for d in p["dimensions"]] for p in cdr["charging_periods"]]
    assert kinds == [["RESERVATION_TIME"], ["ENERGY", "TIME"], ["PARKING_TIME"]]
    assert cdr["start_date_time"] == cdr["charging_periods"][0]["start_date_time"]
    assert cdr["total_energy"] > 0 and cdr["total_parking_time"] > 0
    assert "total_reservation_cost" in cdr and "total_energy_cost" in cdr
    excl, incl = engine_price(cdr)
    assert (cdr["total_cost"]["excl_vat"], cdr["total_cost"]["incl_vat"]) == (excl, incl)
    assert cdr_call.headers["content-type"] == "application/json"

    statuses = connected.evse_statuses(evse, 3)
    assert statuses == ["RESERVED", "CHARGING", "AVAILABLE"]
    [reservation] = connected.admin("GET", "reservations")
    assert reservation["status"] == "USED" and reservation["session_id"] == started.id
    [sent] = connected.admin("GET", "cdrs")
    assert sent["emsp_location"].endswith("/cdrs/" + cdr["id"])


def test_sessions_and_cdrs_can_be_pulled(connected: Connection) -> None:
    evse = connected.reservable()
    connected.reserve(evse, "D2")
    connected.emsp.wait_for(cdr_posts)
    pulled = connected.get("sessions", date_from="2020-01-01T00:00:00Z").json()["data"]
    assert [s["status"] for s in pulled] == ["COMPLETED"]
    assert connected.get("sessions").json()["status_code"] == 2001  # date_from is required
    cdrs = connected.get("cdrs").json()["data"]
    assert len(cdrs) == 1 and cdrs[0]["session_id"] == pulled[0]["id"]


def test_refused_authorization_starts_no_session(connected: Connection) -> None:
    connected.emsp.authorize_answer = "BLOCKED"
    evse = connected.reservable()
    connected.reserve(evse, "D3", expires_in=1)
    connected.emsp.wait_for(lambda cs: [c for c in cs if c.path.endswith("/authorize")])
    # The driver left; the reservation runs out and its no-show CDR follows.
    [cdr] = connected.emsp.wait_for(cdr_posts)
    assert not session_calls(connected.emsp.calls)
    assert cdr.body["remark"] == "reservation expired unused"
    events = connected.admin("GET", "events", params={"kind": "driver_refused"})
    assert events[0]["outcome"] == "BLOCKED"


def test_unknown_token_starts_no_session(connected: Connection) -> None:
    connected.emsp.authorize_answer = "unknown"
    evse = connected.reservable()
    connected.reserve(evse, "D4", expires_in=1)
    connected.emsp.wait_for(cdr_posts)
    assert not session_calls(connected.emsp.calls)
    events = connected.admin("GET", "events", params={"kind": "driver_refused"})
    assert events[0]["outcome"] == "unknown_token"


def test_whitelisted_token_needs_no_authorization(connected: Connection) -> None:
    evse = connected.reservable()
    connected.reserve(evse, "D5", token=token_object(whitelist="ALWAYS", type_="RFID"))
    [cdr] = connected.emsp.wait_for(cdr_posts)
    assert cdr.body["auth_method"] == "WHITELIST"
    assert not [c for c in connected.emsp.calls if c.path.endswith("/authorize")]


def test_no_show_sends_no_session_and_a_priced_expiry_cdr(connected: Connection) -> None:
    evse = connected.reservable()
    connected.admin("POST", "config", json={"driver": {"no_show_evse_uids": [evse["evse_uid"]]}})
    connected.reserve(evse, "D6", expires_in=1)
    assert connected.result_of("D6")["result"] == "ACCEPTED"
    [cdr_call] = connected.emsp.wait_for(cdr_posts)
    cdr = cdr_call.body
    CDR.model_validate(cdr)
    assert not session_calls(connected.emsp.calls)
    assert not [c for c in connected.emsp.calls if c.path.endswith("/authorize")]
    assert "session_id" not in cdr and cdr["total_energy"] == 0
    assert [d["type"] for p in cdr["charging_periods"] for d in p["dimensions"]] == [
        "RESERVATION_TIME"
    ]
    excl, incl = engine_price(cdr, expired=True)
    assert (cdr["total_cost"]["excl_vat"], cdr["total_cost"]["incl_vat"]) == (excl, incl)
    assert cdr["total_cost"]["excl_vat"] >= 3  # the no-show fee
    assert connected.evse_statuses(evse, 2) == ["RESERVED", "AVAILABLE"]
    [reservation] = connected.admin("GET", "reservations")
    assert reservation["status"] == "EXPIRED" and reservation["arrive_at"] is None


def test_reservation_sessions_option(connected: Connection) -> None:
    connected.admin("POST", "config", json={"driver": {"reservation_sessions": True}})
    evse = connected.reservable()
    connected.reserve(evse, "D7")
    [cdr] = connected.emsp.wait_for(cdr_posts)
    statuses = [c.body.get("status") for c in session_calls(connected.emsp.calls)]
    assert statuses[0] == "RESERVATION" and "ACTIVE" in statuses and statuses[-1] == "COMPLETED"
    ids = {c.path.rsplit("/", 1)[1] for c in session_calls(connected.emsp.calls)}
    assert ids == {cdr.body["session_id"]}  # one Session, from reservation to completion
