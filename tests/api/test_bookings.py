"""The booking API over HTTP against a real server, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.conftest import LiveServer
from tests.factories import api, booking_body, evse, make_client, make_site, window


@pytest.fixture
def site(database_url: str):  # type: ignore[no-untyped-def]
    return make_site(database_url)


@pytest.fixture
def http(live: LiveServer, database_url: str):  # type: ignore[no-untyped-def]
    _, key = make_client(database_url, reservation_fee=Decimal("2.50"))
    with api(live.client_base, key) as client:
        yield client


def test_create_returns_202_requested_with_ad_hoc_token(http, site) -> None:  # type: ignore[no-untyped-def]
    body = booking_body(site, external_id="ext-1")
    r = http.post("/bookings", json=body)
    assert r.status_code == 202, r.text
    b = r.json()
    assert b["status"] == "REQUESTED"
    assert b["token_strategy"] == "ad_hoc"
    assert b["external_id"] == "ext-1"
    assert b["reservation_start"] == body["reservation_start"]
    assert b["reservation_end"].endswith("Z")
    assert b["location_city"] == "Berlin"
    assert b["client_price"] == 2.5 and b["client_price_currency"] == "EUR"
    token = b["token"]
    assert token["type"] == "AD_HOC_USER" and token["uid"] == b["token_uid"]
    assert token["valid_from"] == body["reservation_start"]
    assert token["valid_until"] == body["reservation_end"]
    assert b["id"] in token["qr_payload"] and token["uid"] in token["qr_payload"]
    assert [h["to_status"] for h in b["status_history"]] == ["REQUESTED"]

    got = http.get(f"/bookings/{b['id']}").json()
    assert got["id"] == b["id"] and got["status"] == "REQUESTED"
    assert got["status_updated_at"] == b["status_updated_at"]


def test_overlap_is_409_and_back_to_back_is_fine(http, site) -> None:  # type: ignore[no-untyped-def]
    first = booking_body(site, start_in=60, minutes=60)
    assert http.post("/bookings", json=first).status_code == 202
    overlapping = booking_body(site, start_in=90, minutes=60)
    r = http.post("/bookings", json=overlapping)
    assert r.status_code == 409
    assert r.json() == {"error": "EVSE not available for the requested time", "reason": "SLOT_TAKEN"}
    back_to_back = booking_body(site, start_in=120, minutes=30)
    assert http.post("/bookings", json=back_to_back).status_code == 202
    other_evse = booking_body(site, 1, start_in=90, minutes=60)
    assert http.post("/bookings", json=other_evse).status_code == 202


def test_cancelled_booking_frees_the_slot(http, site) -> None:  # type: ignore[no-untyped-def]
    body = booking_body(site)
    b = http.post("/bookings", json=body).json()
    assert http.post("/bookings", json=body).status_code == 409
    r = http.post(f"/bookings/{b['id']}/cancel", json={"reason": "plans changed"})
    assert r.status_code == 200
    assert r.json()["status"] == "CANCELLED" and r.json()["status_reason"] == "CLIENT_CANCELLED"
    assert r.json()["status_message"] == "plans changed"
    assert r.json()["token"]["valid"] is False  # the ad-hoc token dies with its booking
    again = http.post(f"/bookings/{b['id']}/cancel")
    assert again.status_code == 200 and again.json()["status_updated_at"] == r.json()["status_updated_at"]
    assert http.post("/bookings", json=body).status_code == 202
    history = http.get(f"/bookings/{b['id']}").json()["status_history"]
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in history] == [
        (None, "REQUESTED", "client"),
        ("REQUESTED", "CANCELLED", "client"),
    ]


def test_external_id_replays_a_live_booking_and_is_free_again_once_it_ended(http, site) -> None:  # type: ignore[no-untyped-def]
    body = booking_body(site, external_id="fleet-42-2026-02-10")
    first = http.post("/bookings", json=body)
    again = http.post("/bookings", json=body)
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["status_history"]
    listed = http.get("/bookings", params={"external_id": body["external_id"]}).json()["bookings"]
    assert [b["id"] for b in listed] == [first.json()["id"]]
    different = dict(body, evse_uid=site.evse_uids[1])
    r = http.post("/bookings", json=different)
    assert r.status_code == 409
    assert r.json()["reason"] == "EXTERNAL_ID_IN_USE" and r.json()["booking_id"] == first.json()["id"]
    assert first.json()["id"] in r.json()["error"]
    # "Cancel and create a new one": the ended booking frees its external_id.
    assert http.post(f"/bookings/{first.json()['id']}/cancel").status_code == 200
    rebooked = http.post("/bookings", json=different)
    assert rebooked.status_code == 202 and "Idempotent-Replayed" not in rebooked.headers
    assert rebooked.json()["id"] != first.json()["id"]
    listed = http.get("/bookings", params={"external_id": body["external_id"]}).json()["bookings"]
    assert [(b["id"], b["status"]) for b in listed] == [
        (rebooked.json()["id"], "REQUESTED"), (first.json()["id"], "CANCELLED")]


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"start_in": 5}, 400, "at least 15 minutes"),
        ({"start_in": -60}, 400, "at least 15 minutes"),
        ({"minutes": 241}, 400, "maximum duration of 240 minutes"),
        ({"minutes": 0}, 400, "reservation_end must be after reservation_start"),
        ({"start_in": 60 * 24 * 400}, 400, "within 365 days"),
        ({"location_id": "DE-XXX-NOPE"}, 404, "Location not found"),
        ({"evse_uid": "DE*XXX*NOPE"}, 404, "EVSE not found"),
        ({"connector_id": "9"}, 404, "Connector not found"),
        ({"token_strategy": "magic"}, 400, "token_strategy"),
        ({"reservation_start": "tomorrow"}, 400, "reservation_start"),
        ({"reservation_start": "2026-02-10T14:00:00"}, 400, "reservation_start"),
        ({"reservation_start": "99999-01-01T00:00:00Z"}, 400, "reservation_start"),
        ({"location_id": 12}, 400, "location_id"),
        ({"token_strategy": "pipelet", "token_uid": "XYZ"}, 400, "token_uid"),
        ({"token_strategy": "pipelet", "token_uid": "04A2B3C4D5"}, 400, "8, 14 or 20"),
        ({"token_strategy": "pipelet"}, 400, "pipelet needs token_uid"),
        ({"token_strategy": "driver_token"}, 400, "customer_id or token_id"),
        ({"token_strategy": "group_token"}, 400, "fleet_group_id"),
        ({"token_strategy": "driver_token", "fleet_group_id": "group_x"}, 400, "customer_id or token_id"),
    ],
)
def test_invalid_requests_name_the_problem(http, site, change, status, fragment) -> None:  # type: ignore[no-untyped-def]
    body = booking_body(site, **{k: v for k, v in change.items() if k in ("start_in", "minutes")})
    body.update({k: v for k, v in change.items() if k not in ("start_in", "minutes")})
    r = http.post("/bookings", json=body)
    assert r.status_code == status, r.text
    assert fragment in r.json()["error"]
    assert set(r.json()) == {"error"}


def test_window_end_before_start_is_400(http, site) -> None:  # type: ignore[no-untyped-def]
    start, end = window(60, 60)
    r = http.post("/bookings", json=booking_body(site, reservation_start=end, reservation_end=start))
    assert r.status_code == 400 and "after reservation_start" in r.json()["error"]


def test_cpo_maximum_duration_applies(http, database_url) -> None:  # type: ignore[no-untyped-def]
    short = make_site(database_url, max_minutes=90)
    assert http.post("/bookings", json=booking_body(short, minutes=120)).status_code == 400
    assert http.post("/bookings", json=booking_body(short, minutes=90)).status_code == 202


def test_not_available_is_409_with_a_reason(http, database_url) -> None:  # type: ignore[no-untyped-def]
    party_site = make_site(
        database_url,
        evses=[evse("DE*NRS*1", reservable=False), evse("DE*OOO*1", status="OUTOFORDER"),
               evse("DE*INO*1", status="INOPERATIVE"), evse("DE*CHG*1", status="CHARGING")],
    )
    r = http.post("/bookings", json=booking_body(party_site, 0))
    assert r.status_code == 409 and "does not support reservation" in r.json()["error"]
    assert r.json()["reason"] == "NOT_RESERVABLE"
    for index, status in ((1, "OUTOFORDER"), (2, "INOPERATIVE")):
        r = http.post("/bookings", json=booking_body(party_site, index))
        assert r.status_code == 409 and status in r.json()["error"]
        assert r.json()["reason"] == "OUT_OF_SERVICE"
    # Busy now: a window whose request goes to the CPO at once (within the CPO's reserve lead
    # time, an hour by default) cannot be had; a later one can.
    soon = http.post("/bookings", json=booking_body(party_site, 3, start_in=30))
    assert soon.status_code == 409 and soon.json()["reason"] == "EVSE_IN_USE", soon.text
    later = http.post("/bookings", json=booking_body(party_site, 3, start_in=180))
    assert later.status_code == 202, later.text


def test_unknown_fields_and_fields_the_strategy_does_not_use_are_ignored(http, site) -> None:  # type: ignore[no-untyped-def]
    # An integration that always sends customer_id, and fields chargebook does not know.
    body = booking_body(site, customer_id="cust_whoever", fleet_group_id="group_x",
                        token_uid="not-hex", surprise={"nested": True}, driver_name="Ada")
    r = http.post("/bookings", json=body)
    assert r.status_code == 202, r.text
    b = r.json()
    assert b["token_strategy"] == "ad_hoc" and b["customer_id"] is None and b["fleet_group_id"] is None
    assert "surprise" not in b and b["token"]["type"] == "AD_HOC_USER"


def test_malformed_bodies_are_400(http, live) -> None:  # type: ignore[no-untyped-def]
    for raw in (b"{bad", b"[]", b"null", b'"text"', b"\xff\xfe"):
        r = http.post("/bookings", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (raw, r.text)
        assert "error" in r.json()
    big = b'{"location_id": "' + b"x" * 100_000 + b'"}'
    r = http.post("/bookings", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "too large" in r.json()["error"]


def test_list_filters_and_cursor(http, database_url) -> None:  # type: ignore[no-untyped-def]
    site = make_site(database_url, evses=[evse(f"DE*LST*{i}") for i in range(5)])
    ids = [http.post("/bookings", json=booking_body(site, i)).json()["id"] for i in range(5)]
    http.post(f"/bookings/{ids[0]}/cancel")
    page1 = http.get("/bookings", params={"limit": 2}).json()
    assert len(page1["bookings"]) == 2 and page1["next_cursor"]
    seen = [b["id"] for b in page1["bookings"]]
    cursor = page1["next_cursor"]
    while cursor:
        page = http.get("/bookings", params={"limit": 2, "cursor": cursor}).json()
        seen += [b["id"] for b in page["bookings"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    created = [http.get(f"/bookings/{i}").json()["created_at"] for i in ids]
    assert seen == [ids[i] for i in sorted(range(5), key=lambda i: (created[i], ids[i]), reverse=True)]
    cancelled = http.get("/bookings", params={"status": "CANCELLED"}).json()["bookings"]
    assert [b["id"] for b in cancelled] == [ids[0]]
    both = http.get("/bookings", params={"status": "cancelled,REQUESTED"}).json()["bookings"]
    assert len(both) == 5
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert http.get("/bookings", params={"from_date": future}).json()["bookings"] == []
    assert http.get("/bookings", params={"status": "DONE"}).status_code == 400
    assert http.get("/bookings", params={"cursor": "!!!"}).status_code == 400
    assert http.get("/bookings", params={"limit": 0}).status_code == 400
    assert http.get("/bookings", params={"from_date": "yesterday"}).status_code == 400


def test_not_cancellable_states(http, site, database_url) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from chargebook.db.models import Booking
    from tests.factories import with_db

    b = http.post("/bookings", json=booking_body(site)).json()

    async def force(db, status: str) -> None:  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == b["id"]).values(status=status))

    for status in ("ATTENDING", "COMPLETED", "EXPIRED", "NO_SHOW"):
        with_db(database_url, lambda db, s=status: force(db, s))
        r = http.post(f"/bookings/{b['id']}/cancel")
        assert r.status_code == 400
        assert r.json() == {"error": "Booking cannot be cancelled in current state"}
