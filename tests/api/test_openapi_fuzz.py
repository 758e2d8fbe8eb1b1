"""schemathesis against a real server: no 5xx, and every answer as the OpenAPI document says.

The schema is read from the running server's ``/openapi.json``, so every client endpoint is
covered, including ones added later. Checks: no server error, status code, content type,
response body and headers as documented, schema-invalid input refused, and auth not ignored.
``bench/fuzz_api.py`` runs the same with many more examples.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from chargebook.settings import Settings
from tests.api.fuzzing import CHECKS, FuzzTarget, install_hooks, seed
from tests.conftest import LiveServer

#: Per operation and phase; the whole run stays well under a minute per database.
EXAMPLES = int(os.environ.get("CHARGEBOOK_FUZZ_EXAMPLES", "20"))


#: Operation → a status that shows the hooks let the fuzz past the lookups (not only 404s).
REACHED = {
    "POST /api/v1/client/bookings": 202,
    "GET /api/v1/client/bookings/{booking_id}": 200,
    "GET /api/v1/client/billing/statements": 200,
    "GET /api/v1/client/webhooks/{webhook_id}": 200,
    "GET /api/v1/client/webhooks/{webhook_id}/deliveries": 200,
    "POST /api/v1/client/webhooks/{webhook_id}/test": 202,
    "DELETE /api/v1/client/webhooks/{webhook_id}": 204,
    "GET /readyz": 200,
}


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[LiveServer]:
    """A server of its own. It needs no worker to be ready (the default; spelled out because
    with a worker requirement `/readyz` rightly answers 503, which the fuzz would count as a
    server error: `test_openapi.py` checks that 503 against the document). No access log: lines written after a subtest closed its
    captured stdout would fail in the server's thread."""
    settings = Settings(database_url=database_url, readiness_requires_worker=False, log_requests=False,
                        webhook_allow_private_networks=True)  # the seed registers loopback URLs
    with LiveServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_target(live: LiveServer, database_url: str) -> Iterator[FuzzTarget]:
    target = seed(database_url, live.client_base)
    yield target
    missed = {op: status for op, status in REACHED.items() if status not in target.statuses.get(op, set())}
    assert not missed, (missed, target.statuses)


@pytest.fixture(scope="module")
def api_schema(live: LiveServer, fuzz_target: FuzzTarget) -> Any:
    schema = schemathesis.openapi.from_url(f"{live.base}/openapi.json")
    install_hooks(schema.hook, fuzz_target)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: Any, live: LiveServer, fuzz_target: FuzzTarget) -> None:
    response = case.call_and_validate(base_url=live.base, headers={"X-API-Key": fuzz_target.key}, checks=CHECKS)
    fuzz_target.saw(case.operation.label, response.status_code)
