"""Tokens: the simulator pulls the eMSP's list (paginated) and receives pushed tokens."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from chargebook.cpo_sim import SimulatorServer
from tests.cpo_sim.conftest import Connection, auth, body, emsp_registers, eventually
from tests.cpo_sim.emsp import RecordingEmsp, token_object


def test_tokens_are_pulled_page_by_page_at_registration(
    sim_factory: Callable[..., SimulatorServer], emsp: RecordingEmsp
) -> None:
    sim = sim_factory(pull_tokens_on_register=True, push_on_register=False)
    emsp_registers(sim, emsp)
    pages = emsp.wait_for(
        lambda cs: (
            (found := [c for c in cs if c.method == "GET" and c.path.endswith("/tokens")])
            and len(found) == 3
            and found
        )
    )
    assert pages[0].query == {"limit": "100"}
    assert [p.query.get("offset") for p in pages[1:]] == ["3", "6"]
    events = eventually(lambda: httpx.get(f"{sim.url}/sim/events?kind=tokens_pulled").json())
    assert events[0]["count"] == 7
    assert httpx.get(f"{sim.url}/sim/state").json()["counts"]["tokens"] == 7


def test_pushed_tokens_are_stored_and_patched(connected: Connection) -> None:
    url = f"{connected.base}/tokens/NL/EMP/CARD0001"
    headers = auth(connected.token)
    card = token_object("CARD0001", whitelist="ALWAYS", type_="RFID")
    created = httpx.put(url, json=card, headers=headers)
    assert created.status_code == 201 and body(created)["status_code"] == 1000
    assert httpx.put(url, json=card, headers=headers).status_code == 200
    got = httpx.get(url, headers=headers)
    assert body(got)["data"]["whitelist"] == "ALWAYS"
    patched = httpx.patch(
        url, json={"valid": False, "last_updated": "2026-02-01T00:00:00Z"}, headers=headers
    )
    assert body(patched)["status_code"] == 1000
    assert body(httpx.get(url, headers=headers))["data"]["valid"] is False
    no_stamp = httpx.patch(url, json={"valid": True}, headers=headers)
    assert body(no_stamp)["status_code"] == 2001  # a PATCH SHALL carry last_updated
    wrong_party = httpx.put(f"{connected.base}/tokens/NL/XXX/CARD0001", json=card, headers=headers)
    assert body(wrong_party)["status_code"] == 2001
    missing = httpx.get(f"{connected.base}/tokens/NL/EMP/NOPE", headers=headers)
    assert missing.status_code == 404 and body(missing)["status_code"] == 2004
    other_type = httpx.get(url, params={"type": "APP_USER"}, headers=headers)
    assert other_type.status_code == 404  # a token is unique by uid and type


def test_a_pushed_whitelist_token_is_authorized_locally(connected: Connection) -> None:
    card = token_object("CARD0002", whitelist="ALWAYS", type_="RFID")
    httpx.put(f"{connected.base}/tokens/NL/EMP/CARD0002", json=card, headers=auth(connected.token))
    # The reservation carries the token as NEVER, but our cache says ALWAYS.
    never = token_object("CARD0002", whitelist="NEVER", type_="RFID")
    connected.reserve(connected.reservable(), "T1", token=never)
    cdr = connected.emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "POST" and c.path.endswith("/cdrs")]
    )[0]
    assert cdr.body["auth_method"] == "WHITELIST"
    assert not [c for c in connected.emsp.calls if c.path.endswith("/authorize")]
