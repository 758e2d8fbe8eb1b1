"""The operator's console over real HTTP: clients, keys, terms, invitations, CPOs, bookings,
failing webhooks and the audit log, each action checked where it takes effect."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import update

from chargebook.db.engine import Database
from chargebook.db.models import WebhookAttempt, WebhookDelivery
from chargebook.services import webhooks
from chargebook.services.clock import utcnow
from tests.conftest import LiveServer
from tests.console.kit import Visitor, api
from tests.factories import booking_body, make_client, make_site, with_db

KEY = re.compile(r'<code id="api-key">(cbk_[^<]+)</code>')


def _create_client(operator: Visitor, name: str, **terms: str) -> tuple[str, str]:
    r = operator.post("/ops/clients", {"name": name, **terms})
    assert r.status_code == 200, r.text[-2000:]
    key = KEY.search(r.text).group(1)  # type: ignore[union-attr]
    client_id = re.search(r"/ops/clients/(cli_[0-9a-f]+)", r.text).group(1)  # type: ignore[union-attr]
    return client_id, key


def test_create_client_shows_the_key_once_and_it_works(operator: Visitor, live: LiveServer) -> None:
    client_id, key = _create_client(
        operator,
        "Fleet & Co <b>",
        reservation_fee="2.50",
        commission_percent="10",
        rate_limit_per_minute="1000",
        monthly_quota="50000",
    )
    assert api(live.client_base, key).get("/usage").status_code == 200
    page = operator.get(f"/ops/clients/{client_id}").text
    assert key not in page and key[:10] in page  # the prefix only, never the key again
    assert "Fleet &amp; Co &lt;b&gt;" in page  # escaped
    assert (
        'value="2.5' in page and 'value="10' in page and "1 / 50000" in page
    )  # the /usage call counted
    listing = operator.get("/ops/clients").text
    assert client_id in listing and "Fleet &amp; Co &lt;b&gt;" in listing
    assert "client.create" in page  # the audit log on the client's page
    metrics = httpx.get(f"{operator.root}/metrics").text  # console pages by template, not raw path
    assert 'route="/console/ops/clients/{client_id}"' in metrics and client_id not in metrics


def test_bad_client_input_is_a_400_page_and_nothing_is_created(operator: Visitor) -> None:
    before = operator.get("/ops/clients").text.count("/ops/clients/cli_")
    for data in (
        {"name": ""},
        {"name": "x", "reservation_fee": "abc"},
        {"name": "x", "commission_percent": "150"},
        {"name": "x", "monthly_quota": "-5"},
        {"name": "x", "reservation_fee": "1.234"},
        {"name": "x" * 300},
        {"name": "nul\x00byte"},
    ):
        r = operator.post("/ops/clients", data)
        assert r.status_code == 400 and "<html" in r.text, (data, r.status_code)
    assert operator.get("/ops/clients").text.count("/ops/clients/cli_") == before


def test_rotate_suspend_resume_and_terms_take_effect_in_the_api(
    operator: Visitor, live: LiveServer
) -> None:
    client_id, old_key = _create_client(operator, "rotating")
    r = operator.post(f"/ops/clients/{client_id}/rotate-key")
    new_key = KEY.search(r.text).group(1)  # type: ignore[union-attr]
    assert api(live.client_base, old_key).get("/usage").status_code == 401
    assert api(live.client_base, new_key).get("/usage").status_code == 200
    assert operator.post(f"/ops/clients/{client_id}/suspend").status_code == 303
    assert api(live.client_base, new_key).get("/usage").status_code == 403
    assert operator.post(f"/ops/clients/{client_id}/resume").status_code == 303
    assert (
        operator.post(f"/ops/clients/{client_id}/terms", {"rate_limit_per_minute": "7"}).status_code
        == 303
    )
    usage = api(live.client_base, new_key).get("/usage")
    assert usage.status_code == 200 and usage.json()["rate_limit"]["limit"] == 7
    audit = operator.get(f"/ops/clients/{client_id}").text
    for action in (
        "client.create",
        "key.rotate",
        "client.suspend",
        "client.resume",
        "client.terms",
    ):
        assert action in audit, action
    assert "rate_limit_per_minute=7" in audit
    assert operator.post("/ops/clients/cli_nope/suspend").status_code == 404


def test_inviting_a_client_user_shows_a_one_time_link(operator: Visitor, live: LiveServer) -> None:
    client_id, _ = _create_client(operator, "inviting")
    r = operator.post(f"/ops/clients/{client_id}/users", {"email": "New.Manager@Example.com"})
    link = re.search(r'<code id="invite-link">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
    assert link.startswith(f"{live.base}/console/invite/")
    assert "new.manager@example.com" in operator.get(f"/ops/clients/{client_id}").text
    assert httpx.get(link).status_code == 200
    again = operator.post(f"/ops/clients/{client_id}/users", {"email": "new.manager@example.com"})
    assert again.status_code == 200  # a fresh link while the first is unused
    assert httpx.get(link).status_code == 404  # ... which replaced the first
    assert (
        operator.post(f"/ops/clients/{client_id}/users", {"email": "not an email"}).status_code
        == 400
    )


def test_cpo_invitation_shows_our_versions_url_and_token_a(
    operator: Visitor, live: LiveServer
) -> None:
    r = operator.post("/ops/cpos/invite", {"name": "Stadtwerke Test"})
    assert r.status_code == 200
    assert f"{live.base}/ocpi/versions" in r.text
    token = re.search(r'<code id="token-a">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
    versions = httpx.get(f"{live.base}/ocpi/versions", headers={"Authorization": f"Token {token}"})
    assert versions.status_code == 200  # token A opens our versions endpoint
    assert "cpo.invite" in operator.get("/ops/audit").text
    # An invitation for one party names it; half an identity is refused.
    named = operator.post("/ops/cpos/invite", {"name": "Named", "country_code": "de", "party_id": "abc"})
    assert named.status_code == 200 and '<strong id="invite-party">DE-ABC</strong>' in named.text
    assert operator.post("/ops/cpos/invite", {"name": "Half", "country_code": "DE"}).status_code == 400


def test_connect_to_an_unreachable_cpo_is_a_502_page(operator: Visitor) -> None:
    r = operator.post(
        "/ops/cpos/connect", {"versions_url": "http://127.0.0.1:9/ocpi/versions", "token_a": "x"}
    )
    assert r.status_code == 502 and "handshake" in r.text
    assert (
        operator.post("/ops/cpos/connect", {"versions_url": "ftp://x", "token_a": "x"}).status_code
        == 400
    )


def test_bookings_across_clients_with_filters_and_a_booking_page(
    operator: Visitor, live: LiveServer, database_url: str
) -> None:
    site = make_site(database_url)
    first, key_a = make_client(database_url, "bookings A")
    _, key_b = make_client(database_url, "bookings B")
    a = (
        api(live.client_base, key_a)
        .post("/bookings", json=booking_body(site, 0, external_id="ops-a"))
        .json()
    )
    b = (
        api(live.client_base, key_b)
        .post("/bookings", json=booking_body(site, 1, external_id="ops-b"))
        .json()
    )
    everyone = operator.get("/ops/bookings").text
    assert a["id"] in everyone and b["id"] in everyone
    only_a = operator.get("/ops/bookings", params={"client": first}).text
    assert a["id"] in only_a and b["id"] not in only_a
    party_pk = re.search(r'<option value="(pty_[^"]+|[^"]+)"[^>]*>CPO ' + site.party_id, everyone)
    assert party_pk is not None
    by_cpo = operator.get(
        "/ops/bookings", params={"cpo": party_pk.group(1), "status": "REQUESTED"}
    ).text
    assert a["id"] in by_cpo and b["id"] in by_cpo
    assert (
        a["id"]
        not in operator.get("/ops/bookings", params={"status": "COMPLETED", "client": first}).text
    )
    assert operator.get("/ops/bookings", params={"status": "NOPE"}).status_code == 400
    assert operator.get("/ops/bookings", params={"from": "yesterday"}).status_code == 400
    rows = operator.get("/ops/bookings", headers={"X-Console-Partial": "1"})
    assert rows.status_code == 200 and rows.text.lstrip().startswith("<tr") and a["id"] in rows.text
    detail = operator.get(f"/ops/bookings/{a['id']}").text
    assert "Status timeline" in detail and "REQUESTED" in detail and "bookings A" in detail
    assert 'data-live="/console/ops/bookings/' in detail
    assert operator.get("/ops/bookings/no-such-booking").status_code == 404


async def _failing_delivery(db: Database, client_id: str) -> str:
    endpoint = await webhooks.create_endpoint(
        db, client_id, url="https://hooks.example/failing", event_types=["*"]
    )
    delivery = await webhooks.send_test(db, client_id, endpoint.id)
    async with db.write() as session:  # as the worker records a refused POST
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.pk == delivery.pk).values(attempt_count=1)
        )
        session.add(
            WebhookAttempt(
                delivery_pk=delivery.pk,
                attempted_at=utcnow(),
                status_code=503,
                error=None,
                duration_ms=12,
            )
        )
    return delivery.event_id


def test_failing_webhook_deliveries_per_client(operator: Visitor, database_url: str) -> None:
    client_id, _ = make_client(database_url, "hooks failing")
    with_db(database_url, lambda db: _failing_delivery(db, client_id))
    page = operator.get("/ops/webhooks").text
    assert (
        "hooks failing" in page and "https://hooks.example/failing" in page and "HTTP 503" in page
    )


def test_overview_shows_the_metrics_figures(
    operator: Visitor, live: LiveServer, database_url: str
) -> None:
    site = make_site(database_url)
    _, key = make_client(database_url, "overview")
    api(live.client_base, key).post("/bookings", json=booking_body(site))
    page = operator.get("/ops").text
    metrics = httpx.get(f"{live.base}/metrics").text
    live_requested = re.search(r'chargebook_live_bookings\{status="REQUESTED"\} (\d+)', metrics)
    assert live_requested is not None
    requested = int(float(live_requested.group(1)))
    assert (
        f'<span class="big">{requested}</span><span class="badge s-REQUESTED">'
        in page
    )
    pending = re.search(r"chargebook_webhook_deliveries_pending (\d+)", metrics)
    assert (
        pending is not None
        and f'<span class="big">{int(float(pending.group(1)))}</span>webhook' in page
    )
    assert "<svg" in page and "Bookings created per day" in page


def test_people_page_lists_operators_sessions_and_failed_logins(operator: Visitor) -> None:
    page = operator.get("/ops/people").text
    assert "Operators" in page and "Signed in now" in page and "Failed logins" in page


def test_sync_now_needs_a_registered_cpo_and_unregister_is_audited(
    operator: Visitor, database_url: str
) -> None:
    site = make_site(database_url)
    listing = operator.get("/ops/bookings").text
    found = re.search(r'<option value="([^"]+)"[^>]*>CPO ' + site.party_id, listing)
    assert found is not None
    party_pk = found.group(1)
    refused = operator.post(f"/ops/cpos/{party_pk}/sync")
    assert refused.status_code == 400 and "only a registered CPO" in refused.text
    assert operator.post(f"/ops/cpos/{party_pk}/unregister").status_code == 303
    row = re.search(r"CPO " + site.party_id + r".*?</tr>", operator.get("/ops/cpos").text, re.S)
    assert row is not None and "unregistered" in row.group(0)
    assert "cpo.unregister" in operator.get("/ops/audit").text
    assert operator.post("/ops/cpos/pty_nope/unregister").status_code == 404


def test_a_contract_set_in_the_console_decides_where_the_client_books(
    operator: Visitor, live: LiveServer, database_url: str
) -> None:
    client_id, key = _create_client(operator, "contracted")
    inside, outside = make_site(database_url), make_site(database_url)
    r = operator.post(
        f"/ops/clients/{client_id}/contract", {"scope": "listed", "cpo": [f"DE*{inside.party_id}"]}
    )
    assert r.status_code == 303
    page = operator.get(f"/ops/clients/{client_id}").text
    assert f"DE*{inside.party_id}" in page and "client.contract" in page
    client_api = api(live.client_base, key)
    assert client_api.post("/bookings", json=booking_body(inside)).status_code == 202
    # A CPO outside the contract is unknown to the client, like an EVSE that does not exist.
    assert client_api.post("/bookings", json=booking_body(outside)).status_code == 404
    assert operator.post(f"/ops/clients/{client_id}/contract", {"scope": "all"}).status_code == 303
    assert client_api.post("/bookings", json=booking_body(outside)).status_code == 202
    # Naming no CPO, or one that is not connected, is a 400 page and changes nothing.
    assert operator.post(f"/ops/clients/{client_id}/contract", {"scope": "listed"}).status_code == 400
    assert (
        operator.post(
            f"/ops/clients/{client_id}/contract", {"scope": "listed", "cpo": ["DE*ZZ9"]}
        ).status_code
        == 400
    )
    assert client_api.post("/bookings", json=booking_body(outside, start_in=180)).status_code == 202
