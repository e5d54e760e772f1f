"""The built-in commands, one module each, and the flags they share."""

import sqlite3
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from cyclopts import Parameter

from .. import output
from ..db import connect
from ..errors import InvalidInputError

MAX_LIMIT = 1_000_000_000

JsonFlag = Annotated[
    bool, Parameter(name="--json", help="Print one JSON document on stdout.")
]
# Free text (names, notes) may start with "-", like a Markdown bullet.
FreeText = Annotated[str, Parameter(allow_leading_hyphen=True)]
SessionOption = Annotated[
    str | None,
    Parameter(
        name=["--session", "-s"],
        help="Session id; default: the active session of this folder's scope.",
    ),
]


def open_db() -> sqlite3.Connection:
    """Open (and if needed create and migrate) the database."""
    return connect()


def emit(
    payload: Mapping[str, Any],
    json_mode: bool,
    human: Callable[[], None],
    warnings: list[dict[str, str]] | None = None,
) -> None:
    """Print a command's result: the JSON document, or human output.

    Warnings go into the JSON document, or on stderr in human mode.
    """
    if json_mode:
        document = dict(payload)
        if warnings is not None:
            document["warnings"] = warnings
        output.emit_json(output.envelope(document))
        return
    human()
    output.warn(warnings or [])


def parse_limit(value: str, flag: str) -> int:
    """Parse a count such as `--limit`: a whole number from 1 to a billion.

    Raises:
        InvalidInputError: Anything else.
    """
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidInputError(f"{flag} must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)
