"""A client user never sees or changes another client's data: every page and action with the
other client's ids answers 404, and the other client's data is unchanged afterwards."""

from __future__ import annotations

from typing import Any

from chargebook.services import fleet, webhooks
from chargebook.services.tokens import Issuer
from tests.conftest import LiveServer
from tests.console.kit import Visitor, api, make_client_user
from tests.factories import booking_body, make_site, with_db


def _other_clients_things(url: str, live: LiveServer) -> dict[str, Any]:
    client_id, key, _ = make_client_user(url)

    async def make(db: Any) -> dict[str, str]:
        group = await fleet.create_group(
            db, client_id, name="theirs", monthly_limit=None, session_limit=None
        )
        await fleet.issue_group_tokens(db, client_id, group.id, 2, issuer=Issuer())
        customer = await fleet.create_customer(
            db, client_id, name="their driver", email=None, external_ref=None
        )
        endpoint = await webhooks.create_endpoint(
            db, client_id, url="https://theirs.example/h", event_types=["*"]
        )
        return {"group": group.id, "customer": customer.id, "endpoint": endpoint.id}

    ids = with_db(url, make)
    site = make_site(url)
    booking = api(live.client_base, key).post("/bookings", json=booking_body(site)).json()
    return {**ids, "booking": booking["id"], "key": key, "client": client_id}


def test_another_clients_ids_are_404_on_every_page_and_action(
    fleet_manager: tuple[Visitor, str, str], live: LiveServer, database_url: str
) -> None:
    v, _, _ = fleet_manager
    theirs = _other_clients_things(database_url, live)
    g, c, e, b = theirs["group"], theirs["customer"], theirs["endpoint"], theirs["booking"]
    for path in (
        f"/client/groups/{g}",
        f"/client/groups/{g}/tokens.csv",
        f"/client/customers/{c}",
        f"/client/bookings/{b}",
        f"/client/webhooks/{e}",
    ):
        r = v.get(path)
        assert r.status_code == 404, path
        assert "theirs" not in r.text and "their driver" not in r.text
        assert f'name="csrf_token" value="{v.csrf}"' in r.text  # "Sign out" works from a 404 page
    live_fragment = v.get(f"/client/bookings/{b}", headers={"X-Console-Partial": "1"})
    assert live_fragment.status_code == 404
    for path, data in (
        (f"/client/groups/{g}/tokens", {"count": "5"}),
        (f"/client/customers/{c}/tokens", {"type": "RFID"}),
        (f"/client/bookings/{b}/cancel", {"reason": "mine now"}),
        (f"/client/webhooks/{e}/test", {}),
        (f"/client/webhooks/{e}/rotate-secret", {}),
        (f"/client/webhooks/{e}/delete", {}),
    ):
        assert v.post(path, data).status_code == 404, path
    # Lists show only one's own.
    assert b not in v.get("/client/bookings").text
    assert b not in v.get("/client/bookings", params={"group": g}).text
    assert g not in v.get("/client/groups").text and c not in v.get("/client/customers").text
    assert e not in v.get("/client/webhooks").text
    # Nothing of theirs changed.
    their_api = api(live.client_base, theirs["key"])
    assert their_api.get(f"/bookings/{b}").json()["status"] == "REQUESTED"
    assert len(their_api.get(f"/groups/{g}/tokens").json()["tokens"]) == 2
    # Only the app token every customer gets: none was issued through our pages.
    assert [t["type"] for t in their_api.get(f"/customers/{c}/tokens").json()["tokens"]] == [
        "APP_USER"
    ]
    deliveries = their_api.get(f"/webhooks/{e}/deliveries").json()["deliveries"]
    assert [d["event_type"] for d in deliveries] == ["booking.requested"]  # no test ping of ours


def test_people_reach_only_their_own_side(
    operator: Visitor, fleet_manager: tuple[Visitor, str, str]
) -> None:
    v, client_id, _ = fleet_manager
    for path in (
        "/ops",
        "/ops/clients",
        f"/ops/clients/{client_id}",
        "/ops/cpos",
        "/ops/bookings",
        "/ops/audit",
        "/ops/people",
        "/ops/webhooks",
    ):
        assert v.get(path).status_code == 404, path
    for path, data in (
        (f"/ops/clients/{client_id}/rotate-key", {}),
        ("/ops/clients", {"name": "x"}),
        ("/ops/cpos/invite", {"name": "x"}),
        (f"/ops/clients/{client_id}/users", {"email": "a@b.cd"}),
    ):
        assert v.post(path, data).status_code == 404, path
    for path in ("/client", "/client/groups", "/client/bookings"):
        assert operator.get(path).status_code == 404, path
