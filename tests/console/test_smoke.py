from tests.console.kit import Visitor


def test_pages_render(operator: Visitor, fleet_manager) -> None:  # type: ignore[no-untyped-def]
    for path in ("/ops", "/ops/clients", "/ops/cpos", "/ops/bookings", "/ops/webhooks", "/ops/audit", "/ops/people",
                 "/account"):
        r = operator.get(path)
        assert r.status_code == 200, (path, r.text[-3000:])
    v, client_id, key = fleet_manager
    for path in ("/client", "/client/groups", "/client/customers", "/client/bookings", "/client/webhooks",
                 "/client/billing", "/client/team", "/account"):
        r = v.get(path)
        assert r.status_code == 200, (path, r.text[-3000:])
