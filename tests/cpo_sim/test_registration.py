"""Credentials handshake both ways, token A, rotation, unregistration, authorization header."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from chargebook.cpo_sim import SimulatorServer
from chargebook.ocpi.v221 import Credentials
from tests.cpo_sim.conftest import Connection, auth, body, emsp_registers
from tests.cpo_sim.emsp import RecordingEmsp


def credentials_url(sim: SimulatorServer) -> str:
    return f"{sim.url}/ocpi/cpo/2.2.1/credentials"


def test_emsp_registers_with_token_a_and_gets_token_c(
    sim: SimulatorServer, emsp: RecordingEmsp
) -> None:
    token_c = emsp_registers(sim, emsp)

    # The simulator fetched our versions and details with token B, never with A.
    fetched = emsp.find("GET", "/emsp/versions") + emsp.find("GET", "/emsp/2.2.1")
    assert fetched and all(c.authorized and c.token != emsp.token_a for c in fetched)
    mine = body(httpx.get(credentials_url(sim), headers=auth(token_c)))["data"]
    ours = Credentials.model_validate(mine)
    assert ours.token == token_c and ours.url == sim.versions_url
    assert [(r.role.value, r.country_code, r.party_id) for r in ours.roles] == [
        ("CPO", "DE", "SIM")
    ]
    assert ours.roles[0].business_details.name == "chargebook CPO simulator"
    # Token C opens the functional modules.
    assert httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/tariffs", headers=auth(token_c)).status_code == 200


def test_token_a_is_dead_after_registration(connected: Connection) -> None:
    dead = auth(connected.sim.token_a)
    for url in (connected.sim.versions_url, credentials_url(connected.sim)):
        answer = httpx.get(url, headers=dead)
        assert answer.status_code == 401
        assert body(answer)["status_code"] == 2000


def test_second_post_is_405(connected: Connection) -> None:
    again = httpx.post(
        credentials_url(connected.sim),
        headers=auth(connected.token),
        json=connected.emsp.credentials(connected.emsp.issue_token()),
    )
    assert again.status_code == 405
    assert body(again)["status_code"] == 2000


def test_put_and_delete_before_registration_are_405(
    sim: SimulatorServer, emsp: RecordingEmsp
) -> None:
    headers = auth(sim.token_a)
    put = httpx.put(
        credentials_url(sim), headers=headers, json=emsp.credentials(emsp.issue_token())
    )
    delete = httpx.delete(credentials_url(sim), headers=headers)
    assert (put.status_code, delete.status_code) == (405, 405)


def test_token_a_opens_only_versions_and_credentials(sim: SimulatorServer) -> None:
    headers = auth(sim.token_a)
    assert httpx.get(sim.versions_url, headers=headers).status_code == 200
    assert httpx.get(f"{sim.url}/ocpi/cpo/2.2.1", headers=headers).status_code == 200
    for module in ("locations", "tariffs", "cdrs"):
        denied = httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/{module}", headers=headers)
        assert denied.status_code == 401 and body(denied)["status_code"] == 2000


def test_rotation_issues_a_new_token_and_refetches_endpoints(connected: Connection) -> None:
    sim, emsp = connected.sim, connected.emsp
    new_b = emsp.issue_token()
    answer = httpx.put(
        credentials_url(sim), headers=auth(connected.token), json=emsp.credentials(new_b)
    )
    new_c = body(answer)["data"]["token"]
    assert answer.status_code == 200 and new_c != connected.token
    assert [c for c in emsp.find("GET", "/emsp/versions") if c.token == new_b]
    assert (
        httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/tariffs", headers=auth(connected.token)).status_code
        == 401
    )
    assert httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/tariffs", headers=auth(new_c)).status_code == 200
    # From now on the simulator presents the new token B to the eMSP.
    httpx.post(f"{sim.url}/sim/push")
    assert emsp.find("PUT", "/tariffs/")[-1].token == new_b


def test_delete_unregisters(connected: Connection) -> None:
    sim = connected.sim
    gone = httpx.delete(credentials_url(sim), headers=auth(connected.token))
    assert gone.status_code == 200 and body(gone)["status_code"] == 1000
    assert (
        httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/tariffs", headers=auth(connected.token)).status_code
        == 401
    )
    state = httpx.get(f"{sim.url}/sim/state").json()
    assert state["registered"] is False and state["token_a"] is None
    # A new invitation lets an eMSP register again.
    fresh = httpx.post(f"{sim.url}/sim/invite", json={"token_a": "second-token-a"}).json()
    assert fresh["token_a"] == "second-token-a"
    assert httpx.get(sim.versions_url, headers=auth("second-token-a")).status_code == 200


def test_missing_required_module_is_3003(sim: SimulatorServer) -> None:
    emsp = RecordingEmsp(modules={"credentials": "SENDER", "locations": "RECEIVER"}).start()
    try:
        answer = httpx.post(
            credentials_url(sim),
            headers=auth(sim.token_a),
            json=emsp.credentials(emsp.issue_token()),
        )
    finally:
        emsp.stop()
    assert answer.status_code == 200 and body(answer)["status_code"] == 3003
    # Nothing changed: token A still registers.
    assert httpx.get(sim.versions_url, headers=auth(sim.token_a)).status_code == 200


def test_unreachable_emsp_is_3001(sim: SimulatorServer, emsp: RecordingEmsp) -> None:
    creds = emsp.credentials(emsp.issue_token())
    creds["url"] = "http://127.0.0.1:9/nowhere/versions"
    answer = httpx.post(credentials_url(sim), headers=auth(sim.token_a), json=creds)
    assert body(answer)["status_code"] == 3001


def test_no_mutual_version_is_3002(sim: SimulatorServer) -> None:
    emsp = RecordingEmsp(versions=("2.1.1",)).start()
    try:
        answer = httpx.post(
            credentials_url(sim),
            headers=auth(sim.token_a),
            json=emsp.credentials(emsp.issue_token()),
        )
    finally:
        emsp.stop()
    assert body(answer)["status_code"] == 3002


def test_invalid_credentials_body(sim: SimulatorServer) -> None:
    not_json = httpx.post(credentials_url(sim), headers=auth(sim.token_a), content=b"{nope")
    assert not_json.status_code == 400 and body(not_json)["status_code"] == 2001
    wrong = httpx.post(credentials_url(sim), headers=auth(sim.token_a), json={"token": "x"})
    assert wrong.status_code == 200 and body(wrong)["status_code"] == 2001


def test_simulator_registers_with_an_emsp(sim: SimulatorServer, emsp: RecordingEmsp) -> None:
    peer = sim.register_with(emsp.versions_url, emsp.token_a)
    assert (peer.party.country_code, peer.party.party_id) == ("NL", "EMP")
    post = emsp.find("POST", "/credentials")[0]
    assert post.token == emsp.token_a and post.body["roles"][0]["role"] == "CPO"
    token_b = post.body["token"]
    # While its POST was in flight the simulator accepted token B on its versions.
    assert emsp.sim_fetch_status == [200]
    # It now uses the token C we answered with, and accepts B from us.
    pushes = emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "PUT" and "/locations/" in c.path]
    )
    assert all(c.authorized and c.token not in (emsp.token_a, None) for c in pushes)
    assert (
        httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/locations", headers=auth(token_b)).status_code == 200
    )
    # Its own token A is spent: one eMSP per simulator.
    assert httpx.get(sim.versions_url, headers=auth(sim.token_a)).status_code == 401


def test_simulator_rotates_and_unregisters_at_the_emsp(
    sim: SimulatorServer, emsp: RecordingEmsp
) -> None:
    sim.register_with(emsp.versions_url, emsp.token_a)
    old_b = emsp.find("POST", "/credentials")[0].body["token"]
    rotated = httpx.post(f"{sim.url}/sim/rotate")
    assert rotated.status_code == 200
    new_b = emsp.find("PUT", "/credentials")[0].body["token"]
    assert new_b != old_b and emsp.sim_fetch_status == [200, 200]
    assert httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/locations", headers=auth(new_b)).status_code == 200
    assert httpx.get(f"{sim.url}/ocpi/cpo/2.2.1/locations", headers=auth(old_b)).status_code == 401
    assert httpx.post(f"{sim.url}/sim/unregister").json() == {"registered": False}
    assert emsp.find("DELETE", "/credentials")


def test_registration_fails_without_posting_when_modules_are_missing(
    sim_factory: Callable[..., SimulatorServer],
) -> None:
    sim = sim_factory(required_emsp_modules=["cdrs", "sessions"])
    emsp = RecordingEmsp(modules={"credentials": "SENDER", "cdrs": "RECEIVER"}).start()
    try:
        answer = httpx.post(
            f"{sim.url}/sim/register",
            json={"versions_url": emsp.versions_url, "token": emsp.token_a},
        )
        assert answer.status_code == 502 and "3003" in answer.json()["error"]
        assert not emsp.find("POST", "/credentials")
    finally:
        emsp.stop()


def test_authorization_header_forms(connected: Connection) -> None:
    url = f"{connected.base}/tariffs"
    assert httpx.get(url, headers=auth(connected.token)).status_code == 200  # Base64
    assert (
        httpx.get(url, headers={"Authorization": f"Token {connected.token}"}).status_code == 200
    )  # plain
    for bad in (
        {},
        {"Authorization": "Token nope"},
        {"Authorization": f"Bearer {connected.token}"},
        {"Authorization": "Token"},
    ):
        denied = httpx.get(url, headers=bad)
        assert denied.status_code == 401
        envelope = body(denied)
        assert envelope["status_code"] == 2000 and "timestamp" in envelope


def test_request_and_correlation_ids_are_echoed(connected: Connection) -> None:
    answer = httpx.get(
        f"{connected.base}/tariffs",
        headers={**auth(connected.token), "X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"},
    )
    assert answer.headers["X-Request-ID"] == "req-1"
    assert answer.headers["X-Correlation-ID"] == "corr-1"
    assert (
        answer.headers["OCPI-from-party-id"] == "SIM"
        and answer.headers["OCPI-to-party-id"] == "EMP"
    )
    versions = httpx.get(connected.sim.versions_url, headers=auth(connected.token))
    assert "OCPI-from-party-id" not in versions.headers  # not on configuration modules


def test_refuse_credentials_get_answers_token_a_with_a_bare_401(
    sim_factory: Callable[..., SimulatorServer], emsp: RecordingEmsp
) -> None:
    sim = sim_factory(refuse_credentials_get=True)
    refused = httpx.get(credentials_url(sim), headers=auth(sim.token_a))
    assert refused.status_code == 401 and refused.json() == {"detail": "Unauthorized"}
    # Token A still registers, and the registered eMSP reads its credentials.
    token_c = emsp_registers(sim, emsp)
    mine = httpx.get(credentials_url(sim), headers=auth(token_c))
    assert mine.status_code == 200 and body(mine)["data"]["token"] == token_c


def test_early_callback_reads_every_version_with_token_b_before_answering(
    sim_factory: Callable[..., SimulatorServer],
) -> None:
    sim = sim_factory(early_callback=True)
    emsp = RecordingEmsp(versions=("2.2.1", "2.3.0")).start()
    try:
        token_b = emsp.issue_token()
        answer = httpx.post(credentials_url(sim), headers=auth(sim.token_a), json=emsp.credentials(token_b))
        assert body(answer)["status_code"] == 1000
        called = emsp.find("GET", "/emsp/2.3.0") + emsp.find("GET", "/emsp/versions")
        assert called and {c.token for c in called} == {token_b} and all(c.authorized for c in called)
        assert any(entry["kind"] == "early_callback" for entry in sim.simulator.store.events)
    finally:
        emsp.stop()


def test_early_callback_refused_fails_the_post_with_3001(
    sim_factory: Callable[..., SimulatorServer], emsp: RecordingEmsp
) -> None:
    sim = sim_factory(early_callback=True)
    unknown_b = "not-accepted-by-the-emsp"
    answer = httpx.post(credentials_url(sim), headers=auth(sim.token_a), json=emsp.credentials(unknown_b))
    assert answer.status_code == 200 and body(answer)["status_code"] == 3001
    assert "calling back with token B failed" in body(answer)["status_message"]
    # Nothing registered: token A still works.
    assert httpx.get(sim.versions_url, headers=auth(sim.token_a)).status_code == 200
