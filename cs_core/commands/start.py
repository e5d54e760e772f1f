"""`cs start`: open a session in this folder's scope."""

from typing import Annotated

from cyclopts import Parameter

from ..sessions import resolve_scope, start_session
from . import FreeText, JsonFlag, emit, open_db


def start(
    name: FreeText,
    *,
    json: JsonFlag = False,
    resume: bool = False,
    close_stale: Annotated[bool, Parameter(name="--close-stale")] = False,
    poll_interval: Annotated[float | None, Parameter(name="--poll-interval")] = None,
) -> None:
    """Start tracking a session in this repository (or folder).

    Args:
        name: What the session is for, e.g. "fix auth bug".
        json: Print one JSON document on stdout.
        resume: If this scope already has an active session, return it.
        close_stale: If this scope already has an active session, end it at its
            last activity and start a new one.
        poll_interval: Seconds between looks for new commits while the live
            view runs (default 3, or CODESESSION_POLL_INTERVAL).
    """
    if not json:
        # The live runner (about 10 ms to import) is for people, not agents.
        from .. import live

        # Checked first: a bad value must not leave a new session behind.
        poll_interval_s = live.poll_interval(poll_interval)
    conn = open_db()
    scope = resolve_scope()
    session, resumed = start_session(
        conn, name, scope, resume=resume, close_stale=close_stale
    )
    head = session["start_git_head"]
    payload = {
        "id": session["id"],
        "name": session["name"],
        "directory": session["working_directory"],
        "gitRoot": session["git_root"],
        "branch": session["branch"],
        "headSha": head[:7] if head else None,
        "resumed": resumed,
        "startTime": session["start_time"],
        "scope": session["scope"],
        "projectRoot": session["project_root"],
    }
    if json:
        emit(payload, json, lambda: None)
        return
    # Without --json the command stays in the foreground until the session ends.
    live.run_live(conn, session, poll_interval_s=poll_interval_s, resumed=resumed)
