"""Reading a CPO's CommandResponse tolerantly: every shape seen in the field, named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chargebook.ocpi.answers import CommandAnswer, Unreadable, read_command_response, single_object
from chargebook.ocpi.v221.commands import CommandResponseType as R


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"result": "ACCEPTED", "timeout": 30}, CommandAnswer(R.ACCEPTED, 30, None)),
        (
            {"result": "ACCEPTED", "timeout": 30, "message": [{"language": "en", "text": "ok"}]},
            CommandAnswer(R.ACCEPTED, 30, "ok"),
        ),
        ({"result": "REJECTED", "timeout": 0}, CommandAnswer(R.REJECTED, None, None)),
        ({"result": "ACCEPTED", "timeout": Decimal("45.0")}, CommandAnswer(R.ACCEPTED, 45, None)),
        # a single object sent as a one-element list: that object, silently
        (
            [{"result": "ACCEPTED", "timeout": 30, "message": []}],
            CommandAnswer(R.ACCEPTED, 30, None),
        ),
        # a readable result with an unreadable timeout is usable; the timeout is named
        (
            {"result": "ACCEPTED", "timeout": "60s"},
            CommandAnswer(
                R.ACCEPTED,
                None,
                None,
                Unreadable("bad_timeout", "timeout '60s' is not a number of seconds"),
            ),
        ),
        (
            {"result": "ACCEPTED", "timeout": "60"},
            CommandAnswer(
                R.ACCEPTED,
                None,
                None,
                Unreadable("bad_timeout", "timeout '60' is not a number of seconds"),
            ),
        ),
        (
            {"result": "ACCEPTED", "timeout": 10**12},
            CommandAnswer(
                R.ACCEPTED,
                None,
                None,
                Unreadable("bad_timeout", f"timeout '{10**12}' is not a number of seconds"),
            ),
        ),
        (
            {"result": "ACCEPTED", "timeout": -5},
            CommandAnswer(
                R.ACCEPTED,
                None,
                None,
                Unreadable("bad_timeout", "timeout '-5' is not a number of seconds"),
            ),
        ),
        (
            {"result": "ACCEPTED", "timeout": True},
            CommandAnswer(
                R.ACCEPTED,
                None,
                None,
                Unreadable("bad_timeout", "timeout 'True' is not a number of seconds"),
            ),
        ),
        (
            {"result": "ACCEPTED", "timeout": Decimal("NaN")},
            CommandAnswer(
                R.ACCEPTED,
                None,
                None,
                Unreadable("bad_timeout", "timeout 'NaN' is not a number of seconds"),
            ),
        ),
        (
            {"result": "ACCEPTED", "timeout": 2.5},
            CommandAnswer(
                R.ACCEPTED,
                None,
                None,
                Unreadable("bad_timeout", "timeout '2.5' is not a number of seconds"),
            ),
        ),
    ],
)
def test_readable_answers(data: Any, expected: CommandAnswer) -> None:
    assert read_command_response(data) == expected


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (["ACCEPTED"], "list_item_not_an_object"),
        ([42], "list_item_not_an_object"),
        ([], "not_an_object"),
        ([{"result": "ACCEPTED"}, {"result": "ACCEPTED"}], "not_an_object"),
        ("ACCEPTED", "not_an_object"),
        (None, "not_an_object"),
        ({"timeout": 30}, "missing_result"),
        ({"result": None, "timeout": 30}, "missing_result"),
        ({"result": "OK", "timeout": 30}, "unknown_result"),
        ({"result": "accepted", "timeout": 30}, "unknown_result"),
        ({"result": ["ACCEPTED"], "timeout": 30}, "unknown_result"),
    ],
)
def test_unusable_answers_name_their_reason(data: Any, reason: str) -> None:
    answer = read_command_response(data)
    assert answer.result is None and answer.unreadable is not None
    assert answer.unreadable.reason == reason and answer.unreadable.problem


def test_single_object() -> None:
    assert single_object({"id": "1"}) == {"id": "1"}
    assert single_object([{"id": "1"}]) == {"id": "1"}
    assert single_object([{"id": "1"}, {"id": "2"}]) == Unreadable(
        "not_an_object", "data is a list of 2 items, not an object"
    )
    assert isinstance(single_object(["x"]), Unreadable)
