"""`cs recover`: end sessions abandoned without `cs end`."""

from typing import Annotated, Any

from cyclopts import Parameter

from .. import output
from ..errors import InvalidInputError
from ..sessions import DEFAULT_RECOVER_HOURS
from ..sessions import recover as recover_sessions
from . import JsonFlag, emit, open_db


def recover(
    *,
    max_age: Annotated[str, Parameter(name="--max-age")] = str(DEFAULT_RECOVER_HOURS),
    close_stale: Annotated[bool, Parameter(name="--close-stale")] = False,
    json: JsonFlag = False,
) -> None:
    """End active sessions idle for longer than --max-age hours, at their last activity.

    Args:
        max_age: Hours without activity after which a session counts as abandoned.
        close_stale: Record the end reason closed_stale instead of recovered.
        json: Print one JSON document on stdout.
    """
    hours = _parse_hours(max_age)
    conn = open_db()
    reason = "closed_stale" if close_stale else "recovered"
    ended = recover_sessions(conn, hours, reason)
    payload: dict[str, Any] = {
        "recovered": len(ended),
        "sessions": [
            {
                "id": row["id"],
                "name": row["name"],
                "startTime": row["start_time"],
                "endTime": row["end_time"],
                "endReason": row["end_reason"],
                "duration": row["duration"],
            }
            for row in ended
        ],
    }
    emit(payload, json, lambda: _print_human(payload))


def _parse_hours(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        raise InvalidInputError(
            f"--max-age must be a number of hours, not '{text}'"
        ) from None
    if not 0 <= hours <= 1_000_000:
        raise InvalidInputError(
            f"--max-age must be between 0 and 1000000 hours, not '{text}'"
        )
    return hours


def _print_human(payload: dict[str, Any]) -> None:
    if not payload["recovered"]:
        output.write_stdout("No abandoned sessions.\n")
        return
    for s in payload["sessions"]:
        output.write_stdout(
            f"Recovered #{s['id']} '{s['name']}', ended at {s['endTime']}.\n"
        )
