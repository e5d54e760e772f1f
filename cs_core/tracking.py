"""Sessions and AI calls driven by integrations rather than typed commands.

A proxy that meters live traffic, or a wrapper that runs an agent inside a
session, uses these few functions instead of the session and call services.
Each opens its own connection, so they can be called from any thread.
"""

from typing import Any

from . import output
from .calls import CallInput, log_call
from .db import connect
from .pricing import load_price_book
from .sessions import (
    end_session,
    find_session,
    get_session,
    resolve_scope,
    session_detail,
    start_session,
)


def record_call(
    call: CallInput,
    *,
    session_id: int | None = None,
    cwd: str | None = None,
    metered: bool = True,
) -> dict[str, Any]:
    """Store one AI call in a session and price it.

    Args:
        call: The call; `allow_unpriced` should be set, so that a model
            without a price is kept with an unknown cost rather than lost.
        session_id: The session; default: the active session of `cwd`'s scope.
        cwd: The folder whose scope is meant (default: the current one).
        metered: False when the provider's usage could not be read: the call
            is kept with the counts that are known and an unknown cost.

    Returns:
        The stored call as the contract's aiUsage object, plus `warnings`.

    Raises:
        NoActiveSessionError: No session given and the scope has none.
        SessionNotFoundError: The given session does not exist.
    """
    conn = connect()
    try:
        session = find_session(conn, session_id, resolve_scope(cwd))
        call = call._replace(metered=call.metered and metered)
        logged = log_call(conn, load_price_book(), session, call)
        assert logged.row is not None
        return {**output.call_object(logged.row), "warnings": logged.warnings}
    finally:
        conn.close()


def begin_session(
    name: str, *, cwd: str | None = None, resume: bool = False
) -> tuple[dict[str, Any], bool]:
    """Start a session in a folder's scope, or resume the active one.

    Returns:
        The session object and whether it was resumed.

    Raises:
        SessionActiveError: The scope has an active session and `resume` is off.
    """
    conn = connect()
    try:
        row, resumed = start_session(conn, name, resolve_scope(cwd), resume=resume)
        return output.session_object(row), resumed
    finally:
        conn.close()


def finish_session(
    session_id: int, *, reason: str = "ended", end: bool = True
) -> dict[str, Any]:
    """End a session with its VCS scan and return its full document.

    Args:
        session_id: The session.
        reason: The end reason to record.
        end: False to leave the session running and only describe it.

    A session that something else has already ended is returned as it is.
    """
    conn = connect()
    try:
        row = get_session(conn, session_id)
        if end and row["status"] == "active":
            row = end_session(conn, row, reason=reason)
        return output.session_document(row, session_detail(conn, session_id))
    finally:
        conn.close()
