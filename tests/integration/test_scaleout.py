"""Scale-out, shown with real processes: `serve --workers 2`, two `chargebook worker`s and the
CPO simulator against one PostgreSQL. Every booking ends exactly once, every RESERVE_NOW
reaches the CPO exactly once, also when a worker is killed with SIGKILL mid-flight.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import create_pg_database, drop_pg_database
from tests.integration.cluster import Cluster, free_port, resent_after_lease, tally

pytestmark = [pytest.mark.integration, pytest.mark.postgres_only]

BOOKINGS = 20


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    url = create_pg_database()  # skips locally when PostgreSQL is unreachable; fails under CI
    made = Cluster(url, tmp_path)
    try:
        yield made
    finally:
        made.stop()
        drop_pg_database(url)


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name]


def test_two_api_processes_and_two_workers_do_everything_once(cluster: Cluster) -> None:
    metrics_port = free_port()
    cluster.start(workers=2, worker_metrics_port=metrics_port)
    with cluster.http() as http:
        made = cluster.book(http, cluster.bookable(BOOKINGS), "scale")
        bookings = cluster.wait_final(http, list(made), seconds=90)
    numbers = tally(cluster, bookings)
    assert numbers.final == {"COMPLETED": BOOKINGS}, (numbers.lines(), cluster.processes[0].output()[-2000:])
    assert numbers.history_ok == BOOKINGS
    assert numbers.reserve_now_sent == numbers.distinct_reservations == BOOKINGS
    assert numbers.duplicate_sends == 0
    # The client's X-Request-ID reached the CPO as the X-Correlation-ID of its RESERVE_NOW,
    # whichever API process took the call and whichever worker sent the command.
    sent = {c["request"]["reservation_id"]: c for c in cluster.cpo_commands("RESERVE_NOW")}
    assert {b: sent[b]["correlation_id"] for b in made} == made
    assert all(sent[b]["request_id"] not in made.values() for b in made)

    # /metrics adds up both API processes: every scrape (each on a new connection, so any
    # process may answer) counts all 20 creates.
    for _ in range(4):
        text = httpx.get(f"{cluster.api}/metrics", headers={"Connection": "close"}).text
        creates = [v for labels, v in samples(text, "chargebook_http_requests_total")
                   if labels == {"method": "POST", "route": "/api/v1/client/bookings", "status": "202"}]
        assert creates == [BOOKINGS]
        beats = samples(text, "chargebook_worker_heartbeat_age_seconds")
        assert len(beats) == 2
        assert {labels["pid"] for labels, _ in beats} == {str(w.pid) for w in cluster.workers()}
    ready = httpx.get(f"{cluster.api}/readyz")
    assert ready.status_code == 200, ready.text
    # The worker with --metrics-port reports its own loop and OCPI calls.
    own = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert samples(own, "chargebook_worker_pass_duration_seconds_count")[0][1] > 0
    calls = samples(own, "chargebook_ocpi_calls_total")
    assert any(labels["module"] == "commands" and labels["outcome"] == "ok" and value > 0
               for labels, value in calls), calls


def test_a_worker_killed_mid_flight_loses_nothing_and_sends_nothing_twice(cluster: Cluster) -> None:
    cluster.start(workers=2)
    # Each command call takes a while at the CPO, so commands are in flight when the kill lands.
    httpx.post(f"{cluster.sim}/sim/config",
               json={"faults": {"latency_seconds": 1.0, "paths": ["/commands/"]}}).raise_for_status()
    with cluster.http() as http:
        made = cluster.book(http, cluster.bookable(BOOKINGS), "kill")
        victim, in_flight = cluster.busy_worker()
        cluster.kill(victim, signal.SIGKILL)
        assert victim.popen.returncode == -signal.SIGKILL
        cluster.start_worker()
        # Commands the dead worker had claimed but not sent wait out their lease (6 s + 5 s).
        bookings = cluster.wait_final(http, list(made), seconds=90)
    numbers = tally(cluster, bookings, resent_after_lease(cluster.database_url, list(made)))
    report = "\n".join([f"in flight at the kill      {in_flight}", *numbers.lines()])
    print(report)
    assert in_flight > 0
    assert numbers.final == {"COMPLETED": BOOKINGS}, report
    assert numbers.history_ok == BOOKINGS, report
    assert numbers.distinct_reservations == BOOKINGS, report
    assert numbers.reserve_now_sent == BOOKINGS and numbers.duplicate_sends == 0, report
    # The dead worker's heartbeat stays and ages; the living keep the API ready.
    text = httpx.get(f"{cluster.api}/metrics").text
    ages = {labels["pid"]: value for labels, value in samples(text, "chargebook_worker_heartbeat_age_seconds")}
    assert str(victim.pid) in ages and ages[str(victim.pid)] > 5
    assert httpx.get(f"{cluster.api}/readyz").status_code == 200
