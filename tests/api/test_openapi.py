"""The OpenAPI document at /openapi.json, and the offline docs UI at /docs and /redoc."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from chargebook.api.app import create_app
from chargebook.api.schemas import BookingCreate
from chargebook.settings import Settings
from tests.conftest import LiveServer

CLIENT_PREFIXES = ("/api/v1/client/", "/api/v1/fleet/")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'doc.db'}"
    return create_app(Settings(database_url=url)).openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            yield path, method, op


OPERATOR_PATHS = {"/healthz", "/readyz", "/metrics"}


def test_only_the_client_api_and_the_operator_endpoints_are_documented(document: dict[str, Any]) -> None:
    paths = set(document["paths"])
    assert not [p for p in paths if p.startswith("/ocpi")]
    assert "/api/v1/fleet/reports/export" in paths and "/api/v1/client/bookings" in paths
    assert paths - {p for p in paths if p.startswith(CLIENT_PREFIXES)} == OPERATOR_PATHS
    for path in OPERATOR_PATHS:
        op = document["paths"][path]["get"]
        assert op["tags"] == ["operations"] and "security" not in op, path


def test_operator_responses_are_documented(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    ready = document["paths"]["/readyz"]["get"]["responses"]
    assert set(ready) == {"200", "503"}
    for status in ("200", "503"):
        assert ready[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Readiness"}
    assert set(schemas["Readiness"]["properties"]["status"]["enum"]) == {"ready", "not ready"}
    assert set(schemas["ReadinessChecks"]["required"]) == {"database", "schema", "worker"}
    metrics = document["paths"]["/metrics"]["get"]["responses"]
    assert set(metrics) == {"200"}
    (media_type, body), = metrics["200"]["content"].items()
    assert media_type.startswith("text/plain") and body["schema"] == {"type": "string"}
    assert "# TYPE chargebook_http_requests_total counter" in body["example"]


def test_every_client_operation_takes_either_key_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {**schemes["ApiKeyAuth"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["BearerAuth"]["type"] == "http" and schemes["BearerAuth"]["scheme"] == "bearer"
    for path, method, op in _operations(document):
        if path.startswith(CLIENT_PREFIXES):
            assert op["security"] == [{"ApiKeyAuth": []}, {"BearerAuth": []}], (method, path)
            assert op.get("summary") and op.get("tags"), (method, path)


def test_errors_are_the_error_schema_and_never_422(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["properties"]["error"]["type"] == "string"
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, op in _operations(document):
        responses = op["responses"]
        assert "422" not in responses, (method, path)
        if not path.startswith(CLIENT_PREFIXES):
            continue
        assert {"401", "403", "429"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                body = response["content"]["application/json"]
                assert body["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, status)
                assert body["example"]["error"], (method, path, status)


def test_rate_limit_and_request_id_headers_are_documented(document: dict[str, Any]) -> None:
    for path, method, op in _operations(document):
        if not path.startswith(CLIENT_PREFIXES):
            continue
        for response in op["responses"].values():
            headers = response["headers"]
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                    "X-Quota-Limit", "X-Quota-Remaining", "X-Quota-Reset"} <= set(headers)
            assert headers["X-Request-ID"]["required"] is True
        assert op["responses"]["429"]["headers"]["Retry-After"]["required"] is True, (method, path)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _is_model(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A property holding objects (or lists/maps of them): their own fields carry examples."""
    for option in schema.get("anyOf", [schema]):
        option = _resolve(document, option.get("items", option))
        if option.get("type") == "object" or "additionalProperties" in option:
            return True
    return False


def test_every_field_has_a_description_and_an_example(document: dict[str, Any]) -> None:
    missing = []
    for name, schema in document["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{name}.{field}: description")
            if not _is_model(document, prop) and not prop.get("examples"):
                missing.append(f"{name}.{field}: example")
    for path, method, op in _operations(document):
        for param in op.get("parameters", []):
            if param["in"] == "query" and not param.get("description"):
                missing.append(f"{method} {path} ?{param['name']}: description")
    assert not missing, missing


def test_enums_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["BookingStatus"]["enum"] == [
        "REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"]
    assert set(schemas["TokenStrategy"]["enum"]) == {"driver_token", "group_token", "ad_hoc", "pipelet"}
    assert "CLIENT_CANCELLED" in schemas["StatusReason"]["enum"]
    assert "OUTOFORDER" in schemas["EvseStatus"]["enum"]
    assert "IEC_62196_T2_COMBO" in schemas["ConnectorType"]["enum"]
    assert set(schemas["TokenType"]["enum"]) == {"AD_HOC_USER", "APP_USER", "OTHER", "RFID"}
    booking = schemas["BookingOut"]["properties"]
    assert booking["status"]["$ref"].endswith("/BookingStatus")
    assert any(o.get("$ref", "").endswith("/StatusReason") for o in booking["status_reason"]["anyOf"])
    assert schemas["Evse"]["properties"]["status"]["$ref"].endswith("/EvseStatus")


def test_each_token_strategy_has_a_create_example_that_is_a_valid_request(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/client/bookings"]["post"]["requestBody"]
    examples = body["content"]["application/json"]["examples"]
    assert set(examples) == {"ad_hoc", "driver_token", "group_token", "pipelet"}
    for name, example in examples.items():
        request = BookingCreate.model_validate(example["value"])
        assert request.token_strategy == name


# --- the docs UI, offline -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'docs.db'}"
    # Strict readiness, so that with no worker /readyz answers the 503 the document describes.
    with LiveServer(Settings(database_url=url, readiness_requires_worker=True)) as server:
        yield server


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_server_itself(docs_server: LiveServer, page: str) -> None:
    with httpx.Client(base_url=docs_server.base, timeout=30) as http:
        html = http.get(page)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "http://" not in html.text and "https://" not in html.text  # no CDN, no fonts, no validator
        assets = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html.text)
        assets += re.findall(r'<link[^>]*\bhref="([^"]+)"', html.text)
        assert any(a.endswith(".js") for a in assets), assets
        for asset in assets:
            assert asset.startswith("/") and not asset.startswith("//"), asset
            r = http.get(asset)
            assert r.status_code == 200, asset
            assert len(r.content) > (1_000 if asset.endswith(".png") else 100_000), (asset, len(r.content))
        assert "/openapi.json" in html.text
        spec = http.get("/openapi.json")
        assert spec.status_code == 200 and spec.json()["info"]["title"] == "chargebook client API"


def test_a_server_with_no_worker_is_not_ready_as_documented(docs_server: LiveServer) -> None:
    with httpx.Client(base_url=docs_server.base, timeout=30) as http:
        document = http.get("/openapi.json").json()
        r = http.get("/readyz")
        assert r.status_code == 503, r.text  # no worker has ever reported
        response = document["paths"]["/readyz"]["get"]["responses"]["503"]
        schema = {**response["content"]["application/json"]["schema"], "components": document["components"]}
        jsonschema.validate(r.json(), schema)
        assert r.json()["checks"]["worker"]["ok"] is False and r.json()["status"] == "not ready"
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        (media_type, _), = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"].items()
        assert metrics.headers["content-type"] == media_type
