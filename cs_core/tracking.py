"""Sessions and AI calls driven by integrations rather than typed commands.

A proxy that meters live traffic, or a wrapper that runs an agent inside a
session, uses these few functions instead of the session and call services.
Each opens its own connection, so they can be called from any thread.
"""

import sqlite3
from typing import Any

from . import output
from .calls import CallInput, log_call
from .db import connect, transaction
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
        logged = log_call(conn, load_price_book(), session, call)
        assert logged.row is not None
        row = logged.row if metered else _forget_cost(conn, logged.row)
        return {**output.call_object(row), "warnings": logged.warnings}
    finally:
        conn.close()


def _forget_cost(conn: sqlite3.Connection, row: sqlite3.Row) -> sqlite3.Row:
    """Turn a stored call's cost into unknown: its counts were incomplete.

    The price table would otherwise cost whatever counts were read (often none)
    as if they were the whole call.
    """
    with transaction(conn):
        conn.execute(
            "UPDATE sessions SET ai_cost = COALESCE(ai_cost, 0) - ? WHERE id = ?",
            (row["cost"] or 0, row["session_id"]),
        )
        conn.execute(
            """UPDATE ai_usage SET cost = NULL, cost_source = NULL, estimated = 0,
                input_rate = NULL, output_rate = NULL, cache_read_rate = NULL,
                cache_write_rate = NULL, cache_write_1h_rate = NULL,
                reasoning_rate = NULL, tier_above = NULL
            WHERE id = ?""",
            (row["id"],),
        )
    return conn.execute("SELECT * FROM ai_usage WHERE id = ?", (row["id"],)).fetchone()


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
