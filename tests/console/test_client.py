"""A client user's console over real HTTP: key, usage, groups and their limits, tokens and
their CSV, customers, bookings (live fragments, cancel), webhooks, statements and exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

from chargebook.domain.lifecycle import BookingStatus
from chargebook.services import clients
from chargebook.services.clock import utcnow
from tests.conftest import LiveServer
from tests.console.kit import Visitor, api
from tests.factories import booking_body, make_site, with_db

Manager = tuple[Visitor, str, str]


def test_home_shows_key_prefix_limits_and_usage(fleet_manager: Manager, live: LiveServer) -> None:
    v, client_id, key = fleet_manager
    api(live.client_base, key).get("/usage")
    page = v.get("/client").text
    assert key[:10] in page and key not in page
    assert "1 / 100000000" in page  # the /usage call, against the quota
    assert "Rate limit" in page and "<svg" in page


def test_rotating_the_key_shows_the_new_one_once(fleet_manager: Manager, live: LiveServer) -> None:
    v, client_id, key = fleet_manager
    r = v.post("/client/key/rotate")
    new_key = re.search(r'<code id="api-key">(cbk_[^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
    assert api(live.client_base, key).get("/usage").status_code == 401
    assert api(live.client_base, new_key).get("/usage").status_code == 200
    assert new_key not in v.get("/client").text
    assert "key.rotate" in v.get("/client/team").text


def test_group_with_limits_spend_bars_tokens_and_csv(
    fleet_manager: Manager, live: LiveServer, database_url: str
) -> None:
    v, client_id, key = fleet_manager
    with_db(
        database_url,
        lambda db: clients.update_client(db, client_id, reservation_fee=Decimal("3.50")),
    )
    r = v.post(
        "/client/groups",
        {"name": '=HYPERLINK("x")', "monthly_limit": "500", "session_limit": "40.50"},
    )
    assert r.status_code == 303
    group_id = r.headers["location"].rsplit("/", 1)[1]
    group = api(live.client_base, key).get(f"/groups/{group_id}").json()
    assert group["monthly_limit"] == 500 and group["session_limit"] == 40.5
    issued = v.post(f"/client/groups/{group_id}/tokens", {"count": "3"})
    assert issued.status_code == 200 and "3 tokens issued" in issued.text
    site = make_site(database_url)
    booking = api(live.client_base, key).post(
        "/bookings", json=booking_body(site, token_strategy="group_token", fleet_group_id=group_id)
    )
    assert booking.status_code == 202, booking.text
    held = booking.json()["client_price"]
    assert held >= 3.5
    page = v.get(f"/client/groups/{group_id}").text
    assert f"{held:,.2f} / 500.00 EUR" in page  # the hold, as a bar against the monthly limit
    assert f"{held:,.2f} / 40.50 EUR" in page  # the largest booking against the session limit
    download = v.get(f"/client/groups/{group_id}/tokens.csv")
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 3 and all(r["fleet_group_id"] == group_id for r in rows)
    listing = v.get("/client/groups").text
    assert (
        "=HYPERLINK(&#34;x&#34;)" in listing or "=HYPERLINK(&quot;x&quot;)" in listing
    )  # shown escaped
    for bad in ({"count": "0"}, {"count": "1001"}, {"count": "ten"}):
        assert v.post(f"/client/groups/{group_id}/tokens", bad).status_code == 400
    assert v.post("/client/groups", {"name": "g", "monthly_limit": "-1"}).status_code == 400


def test_customers_and_their_tokens(fleet_manager: Manager, live: LiveServer) -> None:
    v, client_id, key = fleet_manager
    r = v.post(
        "/client/customers",
        {"name": "Ada Driver", "email": "ada@example.com", "external_ref": "EMP-1"},
    )
    customer_id = r.headers["location"].rsplit("/", 1)[1]
    assert (
        v.post(
            f"/client/customers/{customer_id}/tokens", {"type": "RFID", "visual_number": "CARD-7"}
        ).status_code
        == 303
    )
    page = v.get(f"/client/customers/{customer_id}").text
    assert "Ada Driver" in page and "CARD-7" in page
    tokens = api(live.client_base, key).get(f"/customers/{customer_id}/tokens").json()["tokens"]
    # Every customer gets an app token when created; the card issued here comes beside it.
    assert sorted((t["type"], t["visual_number"] or "") for t in tokens) == [
        ("APP_USER", ""), ("RFID", "CARD-7")
    ]
    assert (
        v.post(f"/client/customers/{customer_id}/tokens", {"type": "AD_HOC_USER"}).status_code
        == 400
    )


def test_bookings_list_fragment_detail_and_cancel(
    fleet_manager: Manager, live: LiveServer, database_url: str
) -> None:
    v, client_id, key = fleet_manager
    site = make_site(database_url)
    booking = (
        api(live.client_base, key)
        .post("/bookings", json=booking_body(site, external_id="console-1"))
        .json()
    )
    assert booking["id"] in v.get("/client/bookings").text
    fragment = v.get("/client/bookings", headers={"X-Console-Partial": "1"})
    assert (
        fragment.text.lstrip().startswith("<tr")
        and "console-1" in fragment.text
        and "<html" not in fragment.text
    )
    live_part = v.get(f"/client/bookings/{booking['id']}", headers={"X-Console-Partial": "1"})
    assert "Status timeline" in live_part.text and "X-Console-Final" not in live_part.headers
    r = v.post(f"/client/bookings/{booking['id']}/cancel", {"reason": "plans changed"})
    assert r.status_code == 303
    assert (
        api(live.client_base, key).get(f"/bookings/{booking['id']}").json()["status"]
        == BookingStatus.CANCELLED
    )
    ended = v.get(f"/client/bookings/{booking['id']}", headers={"X-Console-Partial": "1"})
    assert ended.headers["X-Console-Final"] == "1" and "plans changed" in ended.text
    assert "booking.cancel" in v.get("/client/team").text


def test_webhook_secret_once_test_event_and_deliveries(
    fleet_manager: Manager, live: LiveServer
) -> None:
    v, client_id, key = fleet_manager
    r = v.post(
        "/client/webhooks",
        {"url": "https://hooks.example/in", "event_types": ["booking.confirmed"]},
    )
    assert r.status_code == 200
    secret = re.search(r'<code id="webhook-secret">(whsec_[^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
    endpoint_id = re.search(r"/client/webhooks/(whk_[0-9a-f]+)", r.text).group(1)  # type: ignore[union-attr]
    assert secret not in v.get(f"/client/webhooks/{endpoint_id}").text
    assert v.post(f"/client/webhooks/{endpoint_id}/test").status_code == 303
    page = v.get(f"/client/webhooks/{endpoint_id}").text
    assert "ping" in page and "pending" in page
    api_view = api(live.client_base, key).get(f"/webhooks/{endpoint_id}/deliveries").json()
    assert [d["event_type"] for d in api_view["deliveries"]] == ["ping"]
    assert v.post("/client/webhooks", {"url": "not a url"}).status_code == 400
    assert v.post(f"/client/webhooks/{endpoint_id}/delete").status_code == 303
    assert api(live.client_base, key).get(f"/webhooks/{endpoint_id}").status_code == 404


def test_statement_and_fleet_export_downloads(
    fleet_manager: Manager, live: LiveServer, database_url: str
) -> None:
    v, client_id, key = fleet_manager
    site = make_site(database_url)
    booking = (
        api(live.client_base, key)
        .post("/bookings", json=booking_body(site, external_id="=SUM(A1)"))
        .json()
    )
    api(live.client_base, key).post(f"/bookings/{booking['id']}/cancel", json={})
    month = booking["reservation_start"][:7]
    page = v.get("/client/billing", params={"month": month})
    assert page.status_code == 200 and "Statement for" in page.text
    statement = v.get("/client/billing/statement.csv", params={"month": month})
    lines = list(csv.DictReader(io.StringIO(statement.text)))
    assert [line["booking_id"] for line in lines] == [booking["id"]]
    assert lines[0]["external_id"] == "'=SUM(A1)"  # neutralized for spreadsheets
    day = booking["reservation_start"][:10]
    export = v.get("/client/billing/export.csv", params={"period_start": day, "period_end": day})
    assert booking["id"] in export.text and "attachment" in export.headers["content-disposition"]
    assert (
        v.get(
            "/client/billing/export.csv", params={"period_start": day, "period_end": "2000-01-01"}
        ).status_code
        == 400
    )
    assert v.get("/client/billing", params={"month": "2026-13-01"}).status_code == 400


def test_closing_last_month_locks_its_statement(fleet_manager: Manager, live: LiveServer) -> None:
    v, client_id, key = fleet_manager
    this_month = utcnow().strftime("%Y-%m")
    last_month = (utcnow().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page = v.get("/client/billing").text
    # The month that just ended is listed with a close button; this month has none.
    assert f"/client/billing/periods/{last_month}/close" in page
    assert f"/client/billing/periods/{this_month}/close" not in page
    closed = v.post(f"/client/billing/periods/{last_month}/close")
    assert closed.status_code == 303
    periods = api(live.client_base, key).get("/billing/periods").json()["periods"]
    assert {p["month"]: p["status"] for p in periods}[last_month] == "closed"
    statement = v.get("/client/billing", params={"month": last_month}).text
    assert "s-closed" in statement
    assert "billing.close_period" in v.get("/client/team").text
    # The current month cannot be closed: a 400 page, and it stays open.
    assert v.post(f"/client/billing/periods/{this_month}/close").status_code == 400
    periods = api(live.client_base, key).get("/billing/periods").json()["periods"]
    assert {p["month"]: p["status"] for p in periods}[this_month] == "open"
    csv_text = v.get("/client/billing/statement.csv", params={"month": last_month}).text
    assert csv_text.startswith("booking_id,")
