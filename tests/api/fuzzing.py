"""What the API fuzz test and ``bench/fuzz_api.py`` share: the seed, the hooks, the checks.

Generated requests mostly hit the 404 branch (random ids, points in the ocean). The hooks
swap in, some of the time, ids that exist, a point near the seeded site and a bookable window,
so the fuzz also reaches the code behind the lookups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import Site, api, booking_body, make_client, make_site

#: Not `positive_data_acceptance`: schema-valid bookings are often refused by rules no schema
#: states (a window in the past, a taken slot), and those refusals are right.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]


@dataclass
class FuzzTarget:
    key: str
    site: Site
    ids: dict[str, str] = field(default_factory=dict)
    ended_day: str = ""  # YYYY-MM-DD of a cancelled booking's window
    spare_webhook_id: str = ""  # the endpoint DELETE may remove
    statuses: dict[str, set[int]] = field(default_factory=dict)  # operation → statuses seen
    creates: int = 0  # valid booking bodies handed out, each on a day of its own

    def saw(self, operation: str, status: int) -> None:
        self.statuses.setdefault(operation, set()).add(status)


def seed(database_url: str, client_base: str) -> FuzzTarget:
    """A client with a key, a site, and one booking, customer (with a token), fleet group and
    webhook endpoint (with a queued ping, so its deliveries list has a line), and a second
    endpoint for DELETE to remove, so the first one stays for the other webhook operations."""
    _, key = make_client(database_url, name="fuzz client")
    site = make_site(database_url)
    with api(client_base, key) as http:
        booking = http.post("/bookings", json=booking_body(site, external_id="fuzz-seed")).json()
        # An ended booking, so statements and the fleet export have a line to show.
        ended = http.post("/bookings", json=booking_body(site, 1, external_id="fuzz-ended")).json()
        http.post(f"/bookings/{ended['id']}/cancel", json={"reason": "fuzz"}).raise_for_status()
        customer = http.post("/customers", json={"name": "Fuzz Driver"}).json()
        http.post(f"/customers/{customer['id']}/tokens", json={}).raise_for_status()
        group = http.post("/groups", json={"name": "Fuzz fleet", "monthly_limit": 100}).json()
        hooks = [http.post("/webhooks", json={"url": f"http://127.0.0.1:9/fuzz/{n}", "event_types": ["*"]})
                 for n in range(2)]
        webhook, spare = (r.raise_for_status().json() for r in hooks)
        http.post(f"/webhooks/{webhook['id']}/test").raise_for_status()
    ids = {"booking_id": booking["id"], "customer_id": customer["id"], "group_id": group["id"],
           "webhook_id": webhook["id"]}
    return FuzzTarget(key=key, site=site, ids=ids, ended_day=ended["reservation_start"][:10],
                      spare_webhook_id=spare["id"])


def install_hooks(register: Callable[[str], Callable[..., Any]], target: FuzzTarget) -> None:
    """``register`` is a schema's ``hook`` (test) or ``schemathesis.hook`` (CLI). Only cases
    generated as valid are touched: an invalid one must stay invalid."""

    @register("flatmap_case")
    def reach_real_rows(_ctx: Any, case: Any) -> st.SearchStrategy[Any]:
        if case.meta is not None and case.meta.generation.mode.is_negative:
            return st.just(case)
        ahead = st.integers(min_value=20, max_value=60 * 24 * 300)  # minutes: a fresh window
        return st.tuples(st.booleans(), ahead).map(lambda drawn: _swap(case, target, *drawn))


def _swap(case: Any, target: FuzzTarget, swap: bool, minutes_ahead: int) -> Any:
    path = case.operation.path
    if path == "/api/v1/client/bookings" and case.method.upper() == "POST" and isinstance(case.body, dict):
        # Every other valid case becomes a whole ad_hoc body on a day of its own, whatever
        # the draw: generated strategy fields, connector ids and reused external_ids would
        # 400/404/409 first, and a draw that shrinks to one value would never book at all.
        target.creates += 1
        if target.creates % 2:
            day = target.creates // 2 % 300 + 1  # within the 365-day horizon
            case.body = {**_real_booking(target.site, day * 24 * 60 + minutes_ahead % 600),
                         "external_id": f"fuzz-{target.creates}"}
        return case
    if not swap:
        return case
    params = case.path_parameters
    if params:
        case.path_parameters = {**params, **{k: v for k, v in target.ids.items() if k in params}}
        if "webhook_id" in params and case.method.upper() == "DELETE":
            case.path_parameters["webhook_id"] = target.spare_webhook_id
    if path.endswith("/search") and isinstance(case.query, dict):
        case.query = {**case.query, "lat": target.site.lat, "lng": target.site.lng}
    if path.endswith("/billing/statements") and isinstance(case.query, dict):
        case.query = {**case.query, "month": target.ended_day[:7]}
    if path.endswith("/reports/export") and isinstance(case.query, dict):
        case.query = {**case.query, "period_start": target.ended_day, "period_end": target.ended_day}
    return case


def _real_booking(site: Site, minutes_ahead: int) -> dict[str, Any]:
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=minutes_ahead)
    return {
        "location_id": site.location_id,
        "evse_uid": site.evse_uids[minutes_ahead % len(site.evse_uids)],
        "reservation_start": start.isoformat().replace("+00:00", "Z"),
        "reservation_end": (start + timedelta(minutes=60)).isoformat().replace("+00:00", "Z"),
    }
