"""One CPO's bad answer never stops the rest: malformed CommandResponses, each handled on its
own row, while the other commands of the same pass go on. chargebook, its worker and the CPO
simulator as real servers on 127.0.0.1; the simulator's ``command_answers`` fault replaces
the CommandResponse of chosen EVSEs (its chargers still act), and ``never_answer`` keeps
every CommandResult back, so only the synchronous answer counts.

The rule (docs/decisions.md): a readable result with an unreadable ``timeout`` is used with
the CPO's default timeout; an answer without a usable result is retried like no answer,
then the booking ends CANCELLED / CPO_FAILED and a CANCEL_RESERVATION frees the charger.
Each unreadable answer is logged with the CPO and the reason, and counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_ocpi_loop import Loop
from tests.integration.test_ocpi_release import (
    cancelled_at_the_cpo,
    commands,
    reserve_nows_seen,
    until,
)

pytestmark = pytest.mark.integration

ANSWERS: dict[str, Any] = {
    "bad timeout": {"result": "ACCEPTED", "timeout": "60s"},
    "one-element list": [{"result": "ACCEPTED", "timeout": 30, "message": []}],
    "item not an object": ["ACCEPTED"],
    "no result": {"timeout": 30},
}


def rejected_items(loop: Loop) -> dict[str, float]:
    """chargebook_ocpi_rejected_items_total for the simulator's commands, by reason (the
    worker runs in the test's process, so the API's /metrics shows its counters)."""
    text = httpx.get(f"{loop.live.base}/metrics").text
    return {
        s.labels["reason"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "chargebook_ocpi_rejected_items_total"
        and s.labels["party"] == "DE*SIM"
        and s.labels["module"] == "commands"
    }


def test_malformed_command_answers_are_handled_per_row(
    command_loop: Callable[..., Loop], capfd: pytest.CaptureFixture[str]
) -> None:
    loop = command_loop(attempts=2, base_seconds=0.5)
    evses = loop.bookable(len(ANSWERS) + 1)
    by_kind = dict(zip([*ANSWERS, "well formed"], evses, strict=True))
    loop.admin.post(
        "/sim/config",
        json={
            "faults": {
                "never_answer_share": 1.0,
                "command_answers": {by_kind[kind][1]: answer for kind, answer in ANSWERS.items()},
            }
        },
    ).raise_for_status()
    before = rejected_items(loop)
    booked = {kind: loop.book(*where)["id"] for kind, where in by_kind.items()}

    # No usable result: retried once (the budget is two sends), then given up and cancelled.
    for kind in ("item not an object", "no result"):
        ended = loop.wait_for(booked[kind], {"CANCELLED", "CONFIRMED", "EXPIRED"})
        assert (ended["status"], ended["status_reason"]) == ("CANCELLED", "CPO_FAILED"), ended
        assert ended["status_message"].startswith("unreadable CommandResponse: ")
        assert reserve_nows_seen(loop, booked[kind]) == 2
        until("the charger is free again", lambda b=booked[kind]: cancelled_at_the_cpo(loop, b))

    # Usable answers, and the well-formed one beside them: accepted, waiting for the result.
    for kind in ("bad timeout", "one-element list", "well formed"):
        reserve = until(
            f"{kind}: the CPO's answer is recorded",
            lambda b=booked[kind]: (c := commands(loop, b)["RESERVE_NOW"])["response"] and c,
        )
        assert reserve["response"] == "ACCEPTED", (kind, reserve)
        assert reserve_nows_seen(loop, booked[kind]) == 1
    assert commands(loop, booked["bad timeout"])["RESERVE_NOW"]["message"].startswith(
        "timeout '60s' is not a number of seconds; waiting 60 s"
    )

    after = rejected_items(loop)
    counted = {reason: after.get(reason, 0) - before.get(reason, 0) for reason in after}
    assert {r: n for r, n in counted.items() if n} == {
        "bad_timeout": 1,
        "list_item_not_an_object": 2,
        "missing_result": 2,
    }
    logged = [
        json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")
    ]
    unreadable = [line for line in logged if line.get("event") == "command answer unreadable"]
    assert {(line["party"], line["reason"], line["booking_id"]) for line in unreadable} == {
        ("DE*SIM", "bad_timeout", booked["bad timeout"]),
        ("DE*SIM", "list_item_not_an_object", booked["item not an object"]),
        ("DE*SIM", "missing_result", booked["no result"]),
    }
