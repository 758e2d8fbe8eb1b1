"""No oracles across tenants: issuing a token whose uid another tenant holds answers exactly as
when the uid is one's own (so nothing says another tenant exists), races answer one 201 and one
409 (never a 500), and contract ids (eMA ids) are unique however alike the cards' UIDs are."""

from __future__ import annotations

import asyncio
import secrets

import httpx

from tests.conftest import LiveServer
from tests.factories import api, make_client


def _card() -> str:
    return "04" + secrets.token_hex(3).upper()  # a 4-byte NXP-style UID


def test_a_uid_held_by_another_tenant_looks_like_ones_own(live: LiveServer, database_url: str) -> None:
    _, key_a = make_client(database_url, "tenant A")
    _, key_b = make_client(database_url, "tenant B")
    uid = _card()
    with api(live.client_base, key_a) as a, api(live.client_base, key_b) as b:
        customer_a = a.post("/customers", json={"name": "A"}).json()["id"]
        customer_b = b.post("/customers", json={"name": "B"}).json()["id"]
        assert a.post(f"/customers/{customer_a}/tokens", json={"uid": uid}).status_code == 201
        own = a.post(f"/customers/{customer_a}/tokens", json={"uid": uid})
        foreign = b.post(f"/customers/{customer_b}/tokens", json={"uid": uid})
        assert (own.status_code, own.json()) == (foreign.status_code, foreign.json())
        assert foreign.status_code == 409 and set(foreign.json()) == {"error"}
        assert "client" not in foreign.json()["error"] and "tenant" not in foreign.json()["error"]
        # B's view of its own customer is untouched, and A's token is nowhere in it.
        assert [t["uid"] for t in b.get(f"/customers/{customer_b}/tokens").json()["tokens"]] != [uid]


def test_concurrent_issues_of_one_uid_are_one_201_and_one_409(live: LiveServer, database_url: str) -> None:
    keys = [make_client(database_url, f"racer {n}")[1] for n in range(2)]

    async def race() -> list[list[int]]:
        clients = [httpx.AsyncClient(base_url=live.client_base, headers={"X-API-Key": k}, timeout=30) for k in keys]
        try:
            customers = [(await c.post("/customers", json={"name": "r"})).json()["id"] for c in clients]
            outcomes = []
            for _ in range(6):
                uid = _card()
                answers = await asyncio.gather(*(c.post(f"/customers/{cust}/tokens", json={"uid": uid})
                                                 for c, cust in zip(clients, customers, strict=True)))
                outcomes.append(sorted(r.status_code for r in answers))
            return outcomes
        finally:
            for c in clients:
                await c.aclose()

    assert asyncio.run(race()) == [[201, 409]] * 6


def test_contract_ids_are_unique_for_cards_with_the_same_leading_bytes(live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url)
    prefix = "04" + secrets.token_hex(3).upper()  # the eight characters the old rule used
    with api(live.client_base, key) as http:
        customer = http.post("/customers", json={"name": "fleet"}).json()["id"]
        tokens = [http.post(f"/customers/{customer}/tokens", json={"uid": prefix + f"{n:06X}"}).json()
                  for n in range(12)]
    contract_ids = [t["contract_id"] for t in tokens]
    assert len(set(contract_ids)) == len(contract_ids)
    assert all(c.startswith("DE-CBK-C") and len(c) == len("DE-CBK-C") + 8 for c in contract_ids)
    assert not any(prefix in c for c in contract_ids)  # not derived from the UID
