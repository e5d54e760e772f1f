"""`cs note`: add a timestamped annotation to the active session."""

from .. import output
from ..sessions import add_note, find_session, require_active, resolve_scope
from . import FreeText, JsonFlag, SessionOption, emit, open_db


def note(
    message: FreeText, *, session: SessionOption = None, json: JsonFlag = False
) -> None:
    """Add a timestamped note to the active session.

    Args:
        message: The note.
        session: Session id; default: the active session of this scope.
        json: Print one JSON document on stdout.
    """
    conn = open_db()
    target = require_active(find_session(conn, session, resolve_scope()))
    row = add_note(conn, target, message)
    payload = output.note_object(row)
    emit(payload, json, lambda: output.write_stdout(f"Noted: {row['message']}\n"))
