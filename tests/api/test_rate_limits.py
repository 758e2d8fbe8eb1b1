"""Rate limits over HTTP: headers on every judged response, 429s, quota, /usage."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from chargebook.db.models import Customer
from chargebook.domain.rate_limits import iso_second, month_reset
from chargebook.services import clients as svc
from chargebook.services.rate_limits import SqlRateLimiter
from tests.conftest import LiveServer
from tests.factories import api, make_client, with_db

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _standing(r: httpx.Response) -> tuple[int, int, str]:
    assert all(h in r.headers for h in HEADERS), (r.status_code, dict(r.headers))
    assert ISO_Z.match(r.headers["X-RateLimit-Reset"])
    return int(r.headers["X-RateLimit-Limit"]), int(r.headers["X-RateLimit-Remaining"]), r.headers["X-RateLimit-Reset"]


def _quota(r: httpx.Response) -> tuple[int, int, str]:
    assert ISO_Z.match(r.headers["X-Quota-Reset"])
    return int(r.headers["X-Quota-Limit"]), int(r.headers["X-Quota-Remaining"]), r.headers["X-Quota-Reset"]


def _refusals(kind: str) -> float:
    return REGISTRY.get_sample_value("chargebook_rate_limited_total", {"limit": kind}) or 0.0


def test_every_judged_response_carries_the_headers(live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url, rate_limit_per_minute=50)
    with api(live.client_base, key) as http:
        responses = [
            http.get("/bookings"),  # 200
            http.post("/customers", json={"name": "Ada"}),  # 201
            http.post("/bookings", json={}),  # 400: the body is checked after the limiter
            http.get("/bookings", params={"limit": "lots"}),  # 400
            http.get("/bookings/bk_nope"),  # 404
            http.get(f"{live.base}/api/v1/fleet/reports/export",
                     params={"period_start": "2026-01-01", "period_end": "2026-01-31"}),  # 200 CSV
        ]
    assert [r.status_code for r in responses] == [200, 201, 400, 400, 404, 200]
    remaining = [_standing(r)[1] for r in responses]
    assert remaining == [49, 48, 47, 46, 45, 44]  # each one counted, errors too
    assert all(_standing(r)[0] == 50 for r in responses)
    with httpx.Client(base_url=live.client_base) as anon:  # unknown key: nobody to count
        r = anon.get("/bookings", headers={"X-API-Key": "cbk_not-a-key"})
        assert r.status_code == 401 and "X-RateLimit-Limit" not in r.headers


def test_over_the_limit_is_429_with_retry_after_and_no_work_done(live: LiveServer, database_url: str) -> None:
    client_id, key = make_client(database_url, rate_limit_per_minute=3)
    before = _refusals("minute")
    with api(live.client_base, key) as http:
        assert [http.post("/customers", json={"name": f"C{i}"}).status_code for i in range(3)] == [201] * 3
        refused = http.post("/customers", json={"name": "one too many"})
        assert refused.status_code == 429
        seconds = int(refused.headers["Retry-After"])
        assert 1 <= seconds <= 60
        assert refused.json() == {"error": f"Rate limit exceeded. Retry after {seconds} seconds."}
        limit, remaining, reset = _standing(refused)
        assert (limit, remaining) == (3, 0)
        reset_at = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        assert abs((reset_at - datetime.now(UTC)).total_seconds() - seconds) <= 2
        # /usage is a request like any other: refused too, with the same standing.
        usage = http.get("/usage")
        assert usage.status_code == 429 and _standing(usage)[:2] == (3, 0)
    assert _refusals("minute") == before + 2

    async def customers(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return await session.scalar(select(func.count()).select_from(Customer).where(Customer.client_id == client_id))

    assert with_db(database_url, customers) == 3  # the refused create wrote nothing
    assert with_db(database_url, lambda db: SqlRateLimiter(db).month_usage([client_id], datetime.now(UTC))) == {client_id: 3}


def test_usage_agrees_with_the_headers(live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url, rate_limit_per_minute=20, monthly_quota=500)
    with api(live.client_base, key) as http:
        http.get("/bookings")
        r = http.get("/usage")
    assert r.status_code == 200
    body = r.json()
    next_month = iso_second(month_reset(datetime.now(UTC)))
    assert body["quota"] == {"limit": 500, "used": 2, "remaining": 498, "period": "month", "reset_at": next_month}
    assert body["rate_limit"]["limit"] == 20 and body["rate_limit"]["period"] == "minute"
    assert (20, body["rate_limit"]["remaining"], body["rate_limit"]["reset_at"]) == _standing(r)
    assert body["rate_limit"]["remaining"] == 18


def test_a_spent_quota_is_429_until_the_first(live: LiveServer, database_url: str) -> None:
    _, key = make_client(database_url, rate_limit_per_minute=100, monthly_quota=2)
    before = _refusals("month")
    next_month = month_reset(datetime.now(UTC))
    with api(live.client_base, key) as http:
        assert http.get("/usage").json()["quota"]["remaining"] == 1
        last = http.get("/usage")
        assert last.json()["quota"]["remaining"] == 0 and last.json()["rate_limit"]["remaining"] == 98
        # X-RateLimit-* stay the minute's, as EV Suite documents them; the quota has its own.
        assert _standing(last)[:2] == (100, 98)
        assert _quota(last) == (2, 0, iso_second(next_month))
        refused = http.get("/bookings")
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert refused.json() == {"error": f"Monthly quota exceeded. Retry after {seconds} seconds."}
    assert abs((next_month - datetime.now(UTC)).total_seconds() - seconds) <= 2
    assert _standing(refused)[:2] == (100, 98)  # a refusal counts nothing
    assert _quota(refused) == (2, 0, iso_second(next_month))
    assert _refusals("month") == before + 1


def test_a_suspended_client_is_403_and_counts_nothing(live: LiveServer, database_url: str) -> None:
    client_id, key = make_client(database_url, rate_limit_per_minute=10)
    with api(live.client_base, key) as http:
        assert http.get("/usage").status_code == 200
        with_db(database_url, lambda db: svc.set_client_status(db, client_id, "suspended"))
        for path in ("/usage", "/bookings", "/customers"):
            r = http.get(path)
            assert r.status_code == 403 and r.json() == {"error": "Client account is suspended"}
            assert "X-RateLimit-Remaining" not in r.headers
        with_db(database_url, lambda db: svc.set_client_status(db, client_id, "active"))
        resumed = http.get("/usage")
    assert resumed.status_code == 200 and resumed.json()["quota"]["used"] == 2
