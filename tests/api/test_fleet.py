"""Customers, tokens, fleet groups, spending limits, and each token strategy end to end."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import LiveServer
from tests.factories import api, booking_body, evse, make_client, make_site

OCPI_TOKEN_FIELDS = {"uid", "type", "contract_id", "visual_number", "issuer", "group_id", "valid",
                     "whitelist", "last_updated"}


def test_customer_tokens_and_driver_token_bookings(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url, evses=[evse("DE*DRV*1"), evse("DE*DRV*2"), evse("DE*DRV*3")])
    _, key = make_client(database_url)
    with api(live.client_base, key) as http:
        r = http.post("/customers", json={"name": "Ada", "email": "ada@example.com", "external_ref": "emp-1"})
        assert r.status_code == 201
        customer = r.json()
        assert customer["id"].startswith("cust_")
        assert http.get(f"/customers/{customer['id']}").json() == customer
        # Every customer has an app token from its creation: customer_id alone books.
        (app,) = http.get(f"/customers/{customer['id']}/tokens").json()["tokens"]
        assert app["type"] == "APP_USER" and app["valid"] is True and app["customer_id"] == customer["id"]
        r = http.post("/bookings", json=booking_body(site, 2, token_strategy="driver_token",
                                                     customer_id=customer["id"], start_in=200))
        assert r.status_code == 202, r.text
        assert r.json()["token_uid"] == app["uid"] and r.json()["token"]["type"] == "APP_USER"
        token = http.post(f"/customers/{customer['id']}/tokens",
                          json={"type": "RFID", "visual_number": "DE-CBK-0001", "uid": "04A2B3C4"}).json()
        assert OCPI_TOKEN_FIELDS <= set(token)
        assert token["uid"] == "04A2B3C4" and token["type"] == "RFID" and token["valid"] is True
        assert token["contract_id"].startswith("DE-CBK-C") and token["contract_id"] != app["contract_id"]
        dup = http.post(f"/customers/{customer['id']}/tokens", json={"uid": "04A2B3C4"})
        assert dup.status_code == 409 and "in use" in dup.json()["error"]
        # With an RFID card, the card is preferred.
        by_customer = http.post("/bookings", json=booking_body(
            site, 0, token_strategy="driver_token", customer_id=customer["id"]))
        assert by_customer.status_code == 202
        assert by_customer.json()["token_uid"] == "04A2B3C4"
        assert by_customer.json()["customer_id"] == customer["id"]
        by_token = http.post("/bookings", json=booking_body(
            site, 1, token_strategy="driver_token", token_id=token["id"]))
        assert by_token.status_code == 202 and by_token.json()["token"]["id"] == token["id"]
        # Both given and agreeing is fine; a token_id that is not the customer_id's is the one
        # contradiction, and 400.
        other = http.post("/customers", json={"name": "Bob"}).json()
        clash = http.post("/bookings", json=booking_body(
            site, 2, token_strategy="driver_token", token_id=token["id"], customer_id=other["id"]))
        assert clash.status_code == 400 and "does not belong to customer_id" in clash.json()["error"]
        agree = http.post("/bookings", json=booking_body(
            site, 2, token_strategy="driver_token", token_id=token["id"], customer_id=customer["id"]))
        assert agree.status_code == 202, agree.text
        listed = http.get(f"/customers/{customer['id']}/tokens").json()["tokens"]
        assert [t["uid"] for t in listed] == [app["uid"], "04A2B3C4"]
        assert http.post(f"/customers/{customer['id']}/tokens", json={"type": "AD_HOC_USER"}).status_code == 400


def test_group_tokens_bulk_and_group_bookings(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url)
    _, key = make_client(database_url, reservation_fee=Decimal("3.00"))
    with api(live.client_base, key) as http:
        group = http.post("/groups", json={"name": "Delivery", "monthly_limit": "10.00"}).json()
        assert group["id"].startswith("group_") and group["monthly_limit"] == 10.0
        r = http.post(f"/groups/{group['id']}/tokens/bulk", json={"count": 5})
        assert r.status_code == 201
        tokens = r.json()["tokens"]
        assert len(tokens) == 5 and len({t["uid"] for t in tokens}) == 5
        assert all(t["group_id"] == group["id"] and t["fleet_group_id"] == group["id"] for t in tokens)
        assert http.post(f"/groups/{group['id']}/tokens/bulk", json={"count": 0}).status_code == 400
        assert http.post(f"/groups/{group['id']}/tokens/bulk", json={"count": 5000}).status_code == 400
        b = http.post("/bookings", json=booking_body(site, token_strategy="group_token", fleet_group_id=group["id"]))
        assert b.status_code == 202, b.text
        assert b.json()["token_uid"] in {t["uid"] for t in tokens}
        assert b.json()["fleet_group_id"] == group["id"]
        detail = http.get(f"/groups/{group['id']}").json()
        assert detail["token_count"] == 5
        assert detail["spend"]["held"] == 3.0 and detail["spend"]["completed"] == 0.0
        assert detail["spend"]["monthly_limit_remaining"] == 7.0


def test_group_spending_limits(live: LiveServer, database_url: str) -> None:
    site = make_site(database_url, evses=[evse(f"DE*LIM*{i}") for i in range(5)])
    _, key = make_client(database_url, reservation_fee=Decimal("4.00"))
    with api(live.client_base, key) as http:
        monthly = http.post("/groups", json={"name": "Monthly", "monthly_limit": "10"}).json()
        ok = [http.post("/bookings", json=booking_body(site, i, token_strategy="group_token",
                                                         fleet_group_id=monthly["id"])) for i in range(3)]
        assert [r.status_code for r in ok] == [202, 202, 400]
        assert ok[2].json() == {"error": "Fleet group spending limit exceeded"}
        # Cancelling releases the hold.
        http.post(f"/bookings/{ok[0].json()['id']}/cancel")
        again = http.post("/bookings", json=booking_body(site, 2, token_strategy="group_token",
                                                           fleet_group_id=monthly["id"]))
        assert again.status_code == 202
        per_session = http.post("/groups", json={"name": "Session", "session_limit": "3.99"}).json()
        r = http.post("/bookings", json=booking_body(site, 3, token_strategy="group_token",
                                                       fleet_group_id=per_session["id"]))
        assert r.status_code == 400 and r.json()["error"] == "Fleet group spending limit exceeded"
        assert http.post("/groups", json={"name": "Bad", "monthly_limit": "-1"}).status_code == 400
        assert http.post("/groups", json={"name": "Bad", "monthly_limit": "1.234"}).status_code == 400


def test_pipelet_creates_no_token_record(live: LiveServer, database_url: str) -> None:
    from sqlalchemy import func, select

    from chargebook.db.models import Token
    from tests.factories import with_db

    site = make_site(database_url)
    client_id, key = make_client(database_url)

    async def count(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return await session.scalar(select(func.count()).select_from(Token).where(Token.client_id == client_id))

    with api(live.client_base, key) as http:
        for n, uid in enumerate(("04a2b3c4d5e6f7", "04A2B3C4")):
            r = http.post("/bookings", json=booking_body(site, n, token_strategy="pipelet", token_uid=uid))
            assert r.status_code == 202, r.text
            assert r.json()["token_uid"] == uid.upper() and r.json()["token"] is None
    assert with_db(database_url, count) == 0
