"""schemathesis against our OCPI receiver endpoints, with a registered CPO's token: whatever
arrives, the answer is never a server error (issue 12.5).

The OCPI adapter publishes no OpenAPI document (it serves the OCPI spec, not ours), so one is
built here from its routes: every path and method except the credentials handshake (a DELETE
would unregister the fuzzing party), path and query parameters as the handlers declare them,
and any JSON object as the body of a PUT, POST or PATCH. A hook swaps in, some of the time, the
party's own country code and party id and an official example payload fitted to the URL, so
the fuzz also reaches the code behind the ownership checks. The budget is small per operation
(``CHARGEBOOK_OCPI_FUZZ_EXAMPLES``, default 5).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from starlette.datastructures import State

from chargebook.ocpi.transport import authorization_header
from chargebook.ocpi_api.app import MOUNT, create_ocpi_app
from chargebook.settings import Settings
from tests.conftest import LiveServer
from tests.ocpi_api.conftest import make_cpo

EXAMPLES = int(os.environ.get("CHARGEBOOK_OCPI_FUZZ_EXAMPLES", "5"))
OCPI_EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1"
FAR_AWAY = {"latitude": "-45.000000", "longitude": "169.000000"}  # out of the way of searches

#: Which example fits the body of which module (by the path's second segment).
BODIES = {
    "locations": "location_example.json",
    "tariffs": "tariff_4_complex.json",
    "sessions": "session_example_2_short_finished.json",
    "cdrs": "cdr_example.json",
}


def ocpi_document() -> dict[str, Any]:
    """An OpenAPI document of the OCPI receiver endpoints, from the adapter's own routes."""
    app = create_ocpi_app(Settings(), State())
    paths: dict[str, dict[str, Any]] = {}
    for context in iter_route_contexts(app.router.routes):
        path = context.path
        if "/credentials" in path or not path.startswith(("/2.2.1/", "/2.3.0/bookings")):
            continue
        for method in sorted(context.methods or ()):
            paths.setdefault(MOUNT + path, {})[method.lower()] = _operation(context, method)
    return {"openapi": "3.0.3", "info": {"title": "chargebook OCPI receivers", "version": "fuzz"}, "paths": paths}


def _operation(context: Any, method: str) -> dict[str, Any]:
    names = [p.strip("{}") for p in context.path.split("/") if p.startswith("{")]
    parameters = [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                  for n in names]
    for field in context.route.dependant.query_params:
        kind = "integer" if field.field_info.annotation is int else "string"
        parameters.append({"name": field.alias, "in": "query", "required": False, "schema": {"type": kind}})
    operation: dict[str, Any] = {"parameters": parameters, "responses": {"default": {"description": "an envelope"}}}
    if method in ("PUT", "POST", "PATCH"):
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": {"type": "object"}}}}
    return operation


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[LiveServer]:
    """A server of its own, without the request log (lines written after a subtest closed its
    captured output would fail in the server's thread)."""
    with LiveServer(Settings(database_url=database_url, log_requests=False)) as server:
        yield server


@pytest.fixture(scope="module")
def party(live: LiveServer, database_url: str) -> tuple[str, str]:
    return make_cpo(database_url)


@pytest.fixture(scope="module")
def ocpi_schema(party: tuple[str, str]) -> Any:
    schema = schemathesis.openapi.from_dict(ocpi_document())

    @schema.hook("flatmap_case")
    def reach_the_ocpi_layer(_ctx: Any, case: Any) -> st.SearchStrategy[Any]:
        return st.tuples(st.booleans(), st.booleans()).map(lambda drawn: _swap(case, party[0], *drawn))

    return schema


def _swap(case: Any, party_id: str, own_ids: bool, real_body: bool) -> Any:
    params = case.path_parameters or {}
    if own_ids and "party_id" in params:
        case.path_parameters = {**params, "country_code": "DE", "party_id": party_id}
    if real_body and case.method.upper() in ("PUT", "POST", "PATCH"):
        module = case.operation.path.split("/")[3]
        example = BODIES.get(module)
        if example is not None:
            body = json.loads((OCPI_EXAMPLES / example).read_text())
            body.update(country_code="DE", party_id=party_id)
            if "coordinates" in body:
                body["coordinates"] = copy.deepcopy(FAR_AWAY)
            if case.method.upper() == "PATCH":
                body = {"last_updated": body.get("last_updated"), "status": "AVAILABLE"}
            case.body = body
    return case


schema = schemathesis.pytest.from_fixture("ocpi_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_ocpi_request_is_a_server_error(case: Any, live: LiveServer, party: tuple[str, str]) -> None:
    response = case.call(base_url=live.base, headers={"Authorization": authorization_header(party[1])})
    case.validate_response(response, checks=[not_a_server_error])
    if not urlsplit(str(response.request.url)).path.startswith(MOUNT + "/"):
        return  # ".." path parameters led the URL out of /ocpi: not an OCPI request any more
    answer = response.json()  # an OCPI envelope, whatever happened
    assert isinstance(answer, dict) and "status_code" in answer and "error" not in answer, (
        response.request.url, response.text)


def test_the_document_covers_every_receiver_module() -> None:
    paths = ocpi_document()["paths"]
    modules = {p.split("/")[3] for p in paths}
    assert {"locations", "tariffs", "sessions", "cdrs", "tokens", "commands", "bookings"} <= modules
    assert not [p for p in paths if "credentials" in p]
