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

from tests.api.fuzzing import CHECKS, FuzzTarget, install_hooks, seed
from tests.conftest import LiveServer

#: Per operation and phase; the whole run stays well under a minute per database.
EXAMPLES = int(os.environ.get("CHARGEBOOK_FUZZ_EXAMPLES", "20"))


@pytest.fixture(scope="module")
def fuzz_target(live: LiveServer, database_url: str) -> Iterator[FuzzTarget]:
    target = seed(database_url, live.client_base)
    yield target
    # The hooks must have let the fuzz past the lookups, or it only ever tested 404s.
    assert 202 in target.statuses.get("POST /api/v1/client/bookings", set()), target.statuses
    assert 200 in target.statuses.get("GET /api/v1/client/bookings/{booking_id}", set()), target.statuses
    assert 200 in target.statuses.get("GET /api/v1/client/billing/statements", set()), target.statuses


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
