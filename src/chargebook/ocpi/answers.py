"""Reading what a peer answered, tolerantly: a value we cannot use is named, never raised.

The answers here are the ``data`` of a success envelope to a call we made. Peers in the
field send shapes the spec does not (see ``docs/ocpi-conformance.md``): each reader takes
what it can use, and says what it could not, with a short bounded ``reason`` (metrics label)
and a ``problem`` (for logs and the row's message).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chargebook.ocpi.v221.commands import CommandResponseType

#: A CommandResponse ``timeout`` beyond this is read as unreadable (the longest any booking
#: could wait is its window's start; a day bounds the arithmetic).
MAX_COMMAND_TIMEOUT_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class Unreadable:
    reason: str  # bounded: not_an_object, list_item_not_an_object, missing_result, …
    problem: str


def single_object(data: Any) -> dict[str, Any] | Unreadable:
    """The one object of an answer. Tolerance: a single object sent as a one-element list
    (seen in the field) is that object."""
    if isinstance(data, list) and len(data) == 1:
        if isinstance(data[0], dict):
            return data[0]
        return Unreadable(
            "list_item_not_an_object",
            f"data is a list whose item is a {type(data[0]).__name__}, not an object",
        )
    if isinstance(data, dict):
        return data
    shape = f"a list of {len(data)} items" if isinstance(data, list) else f"a {type(data).__name__}"
    return Unreadable("not_an_object", f"data is {shape}, not an object")


@dataclass(frozen=True, slots=True)
class CommandAnswer:
    """OCPI 2.2.1 mod_commands.asciidoc § CommandResponse Object, as far as it could be read.

    ``result`` None: the answer cannot be used (``unreadable`` says why). A readable result
    with an unreadable ``timeout`` is usable: ``timeout_seconds`` is None and ``unreadable``
    names the timeout."""

    result: CommandResponseType | None
    timeout_seconds: int | None
    message: str | None
    unreadable: Unreadable | None = None


def read_command_response(data: Any) -> CommandAnswer:
    answer = single_object(data)
    if isinstance(answer, Unreadable):
        return CommandAnswer(None, None, None, answer)
    message = _text(answer.get("message"))
    raw = answer.get("result")
    if raw is None:
        return CommandAnswer(
            None, None, message, Unreadable("missing_result", "the answer has no result")
        )
    try:
        result = CommandResponseType(raw) if isinstance(raw, str) else None
    except ValueError:
        result = None
    if result is None:
        return CommandAnswer(
            None,
            None,
            message,
            Unreadable("unknown_result", f"result {str(raw)[:40]!r} is not a CommandResponseType"),
        )
    timeout, problem = _seconds(answer.get("timeout"))
    return CommandAnswer(
        result, timeout, message, Unreadable("bad_timeout", problem) if problem else None
    )


def _seconds(value: Any) -> tuple[int | None, str | None]:
    """A whole number of seconds (an integral JSON number is one), or why it is not."""
    if value is None:
        return None, None
    problem = f"timeout {str(value)[:40]!r} is not a number of seconds"
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        return None, problem
    try:
        seconds = int(value)
    except (ValueError, OverflowError, ArithmeticError):  # NaN, infinity
        return None, problem
    if seconds != value or not 0 <= seconds <= MAX_COMMAND_TIMEOUT_SECONDS:
        return None, problem
    return (seconds or None), None  # 0: no timeout given


def _text(value: Any) -> str | None:
    """The first DisplayText's text (a CommandResponse ``message``), if readable."""
    if (
        isinstance(value, list)
        and value
        and isinstance(value[0], dict)
        and value[0].get("text") is not None
    ):
        return str(value[0]["text"])[:500]
    return None
