"""`cs show`: one session with its calls, notes, files and commits."""

from .. import output
from ..sessions import get_session, latest_session, parse_session_id, session_detail
from . import JsonFlag, emit, open_db
from .end import print_summary


def show(
    session_id: str | None = None,
    *,
    files: bool = False,
    commits: bool = False,
    json: JsonFlag = False,
) -> None:
    """Show a session (default: the latest) with its AI calls and notes.

    Args:
        session_id: The session's id.
        files: Include the changed files.
        commits: List the commits instead of counting them.
        json: Print one JSON document on stdout.
    """
    conn = open_db()
    if session_id is None:
        row = latest_session(conn)
    else:
        row = get_session(conn, parse_session_id(session_id))
    document = output.session_document(
        row, session_detail(conn, row["id"]), files=files, commits=commits
    )
    emit(document, json, lambda: print_summary(document))
