"""`cs delete`: remove a session and everything recorded in it."""

import sys

from .. import output
from ..errors import InvalidInputError
from ..sessions import delete_session, get_session, parse_session_id
from . import JsonFlag, emit, open_db


def delete(session_id: str, *, yes: bool = False, json: JsonFlag = False) -> None:
    """Delete a session with its AI calls, notes, files and commits.

    Args:
        session_id: The session's id.
        yes: Do not ask for confirmation.
        json: Print one JSON document on stdout.
    """
    number = parse_session_id(session_id)
    conn = open_db()
    session = get_session(conn, number)
    if not yes:
        _confirm(session["name"], number)
    delete_session(conn, number)
    payload = {"deleted": number, "name": session["name"]}
    emit(payload, json, lambda: output.write_stdout(f"Deleted session #{number}.\n"))


def _confirm(name: str, number: int) -> None:
    if not sys.stdin.isatty():
        raise InvalidInputError(
            f"refusing to delete session #{number} without confirmation",
            hint="Pass --yes to delete without asking.",
        )
    from rich.prompt import Confirm

    if not Confirm.ask(f"Delete session #{number} '{name}' and all its data?"):
        raise InvalidInputError(f"deletion of session #{number} cancelled")
