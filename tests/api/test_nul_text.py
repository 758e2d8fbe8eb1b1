"""Text with a NUL character (U+0000), anywhere in a request, is bad input and never a 500.

PostgreSQL cannot store or compare such text; it answers 400 there. SQLite stores it, so the
request goes on as usual (a 404 for an unknown id, a 201 for a new row).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.factories import api, make_client

NUL = "\u0000"
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/bookings/a%00b", {}),
    ("POST", "/bookings/a%00b/cancel", {}),
    ("GET", "/customers/a%00b", {}),
    ("POST", "/customers", {"json": {"name": f"Erika{NUL}"}}),
    ("POST", "/groups", {"json": {"name": f"Fleet{NUL}"}}),
    ("POST", "/bookings", {"json": {"location_id": f"DE-X{NUL}", "evse_uid": "E1",
                                    "reservation_start": "2030-01-01T10:00:00Z",
                                    "reservation_end": "2030-01-01T11:00:00Z"}}),
    ("GET", "/search", {"params": {"lat": 52.5, "lng": 13.4, "connector_type": f"T2{NUL}"}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
def test_nul_in_text_is_never_a_server_error(
    live: LiveServer, database_url: str, backend: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    _, key = make_client(database_url)
    with api(live.client_base, key) as http:
        r = http.request(method, path, **kwargs)
    assert r.status_code < 500, r.text
    if backend == "postgresql":
        assert r.status_code == 400 and r.json() == {"error": "Text must not contain NUL (\\u0000) characters"}
    # The server is still answering on the same terms afterwards.
    with api(live.client_base, key) as http:
        assert http.get("/bookings").status_code == 200
