"""Recorded events and their outbox: what plugins that export activity receive.

A call, a session's start and end, and a budget alert are each written to
`event_outbox` in the same transaction as the change they report, once per
enabled consumer that wants that kind. After the command commits, `deliver` hands
the waiting rows to the consumer's `EventSink` (see the `register_event_sinks`
hook) within a time budget, and deletes them only when the sink returns. A sink
that fails keeps its rows for a later command or an explicit flush, and is not
tried again until its back-off has passed, so a dead collector costs one
timeout, not one per command.

Nothing is recorded while no consumer is enabled: `cs log-ai` then pays for one
indexed query.
"""

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from . import clock
from .db import transaction
from .errors import CsError, InvalidInputError

log = logging.getLogger(__name__)

KINDS = ("ai_call", "session_start", "session_end", "alert")
TIMEOUT_ENV = "CODESESSION_EVENTS_TIMEOUT"
# "1": a command delivers its events itself instead of leaving them to a
# background process (tests and debugging).
INLINE_ENV = "CODESESSION_EVENTS_INLINE"
DEFAULT_TIMEOUT_S = 1.5
BATCH_SIZE = 500
# A failing consumer waits this long before the next try, doubling to the cap.
RETRY_BASE_S = 5
RETRY_MAX_S = 300
# A lease outlives the delivery budget by this much in case a sink overruns.
LEASE_MARGIN_S = 30


@dataclass(frozen=True)
class Event:
    """One recorded event as a sink receives it.

    Attributes:
        id: Its outbox id; rises with every event recorded.
        kind: One of `KINDS`.
        payload: The row it reports, as a JSON object (see docs/events.md).
        created_at: When it was recorded, an ISO-8601 UTC instant.
    """

    id: int
    kind: str
    payload: dict[str, Any]
    created_at: str


@runtime_checkable
class EventSink(Protocol):
    """A consumer of recorded events, contributed by a plugin."""

    name: str
    kinds: tuple[str, ...]

    def deliver(self, events: Sequence[Event], timeout_s: float) -> None:
        """Send a batch, oldest first; raise if any of it was not accepted."""


@dataclass
class Delivery:
    """What one consumer's delivery attempt did."""

    consumer: str
    delivered: int = 0
    pending: int = 0
    error: str | None = None
    skipped: str | None = None


def enabled(conn: sqlite3.Connection) -> bool:
    """Return True when at least one event consumer is enabled."""
    row = conn.execute("SELECT 1 FROM event_consumers WHERE enabled LIMIT 1")
    return row.fetchone() is not None


def record(
    conn: sqlite3.Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    ref: int | None = None,
) -> int:
    """Queue an event for every enabled consumer that wants its kind.

    Call it inside the transaction that made the change, so the event exists
    exactly when the change does.

    Args:
        conn: The connection, inside the caller's transaction.
        kind: One of `KINDS`.
        payload: A JSON-serialisable object describing the change.
        ref: The id of the row the event reports (call, session or alert),
            remembered so a backfill does not queue it again.

    Returns:
        How many consumers it was queued for.
    """
    text = json.dumps(payload, default=str)
    cursor = conn.execute(
        """INSERT INTO event_outbox (consumer, kind, payload, created_at)
        SELECT name, ?, ?, ? FROM event_consumers
        WHERE enabled AND instr(',' || kinds || ',', ',' || ? || ',') > 0""",
        (kind, text, clock.now_iso(), kind),
    )
    if ref is not None and cursor.rowcount:
        conn.execute(
            """INSERT OR IGNORE INTO event_ledger (consumer, kind, ref)
            SELECT name, ?, ? FROM event_consumers
            WHERE enabled AND instr(',' || kinds || ',', ',' || ? || ',') > 0""",
            (kind, ref, kind),
        )
    return cursor.rowcount


def record_call(conn: sqlite3.Connection, call_id: int) -> None:
    """Queue an `ai_call` event for a stored call, if anyone listens."""
    if enabled(conn):
        record(conn, "ai_call", call_payload(conn, call_id), ref=call_id)


def record_session(conn: sqlite3.Connection, kind: str, session_id: int) -> None:
    """Queue a `session_start` or `session_end` event, if anyone listens."""
    if enabled(conn):
        record(conn, kind, session_payload(conn, session_id), ref=session_id)


def record_alert(conn: sqlite3.Connection, alert_id: int) -> None:
    """Queue an `alert` event for a row of `alert_events`, if anyone listens."""
    if enabled(conn):
        record(conn, "alert", alert_payload(conn, alert_id), ref=alert_id)


def call_payload(conn: sqlite3.Connection, call_id: int) -> dict[str, Any]:
    """Return the payload of an `ai_call` event: the call and its session."""
    row = conn.execute("SELECT * FROM ai_usage WHERE id = ?", (call_id,)).fetchone()
    payload = dict(row)
    session = conn.execute(
        "SELECT id, name, scope, project_root, git_root, branch FROM sessions"
        " WHERE id = ?",
        (row["session_id"],),
    ).fetchone()
    payload["session"] = dict(session) if session else None
    return payload


def session_payload(conn: sqlite3.Connection, session_id: int) -> dict[str, Any]:
    """Return the payload of a session event: the session, its files and commits.

    The lists go under `file_changes` and `commit_log`, since the row's own
    `files_changed` and `commits` columns hold their counts.
    """
    row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    payload = dict(row)
    payload["file_changes"] = [
        dict(item)
        for item in conn.execute(
            "SELECT file_path, change_type, old_path FROM file_changes"
            " WHERE session_id = ? ORDER BY file_path",
            (session_id,),
        )
    ]
    payload["commit_log"] = [
        dict(item)
        for item in conn.execute(
            "SELECT hash, message, timestamp FROM commits"
            " WHERE session_id = ? ORDER BY timestamp, id",
            (session_id,),
        )
    ]
    return payload


def alert_payload(conn: sqlite3.Connection, alert_id: int) -> dict[str, Any]:
    """Return the payload of an `alert` event: the `alert_events` row."""
    row = conn.execute("SELECT * FROM alert_events WHERE id = ?", (alert_id,))
    return dict(row.fetchone())


def enable_consumer(
    conn: sqlite3.Connection, name: str, kinds: Iterable[str]
) -> sqlite3.Row:
    """Start recording events of `kinds` for a consumer; keep what it has.

    Raises:
        InvalidInputError: A kind is not one of `KINDS`.
    """
    wanted = [kind for kind in KINDS if kind in set(kinds)]
    unknown = set(kinds) - set(KINDS)
    if unknown or not wanted:
        raise InvalidInputError(f"unknown event kinds {sorted(unknown)} for '{name}'")
    with transaction(conn):
        conn.execute(
            """INSERT INTO event_consumers (name, kinds, enabled, enabled_at)
            VALUES (?, ?, 1, ?)
            ON CONFLICT (name) DO UPDATE SET kinds = excluded.kinds, enabled = 1,
                enabled_at = excluded.enabled_at, retry_at = NULL, failures = 0""",
            (name, ",".join(wanted), clock.now_iso()),
        )
    return consumer(conn, name)  # type: ignore[return-value]


def disable_consumer(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    """Stop recording events for a consumer; its waiting events stay queued."""
    with transaction(conn):
        conn.execute("UPDATE event_consumers SET enabled = 0 WHERE name = ?", (name,))
    return consumer(conn, name)


def consumer(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    """Return a consumer's row with its `pending` count, if it was ever enabled."""
    return conn.execute(
        """SELECT c.*, (SELECT COUNT(*) FROM event_outbox o WHERE o.consumer = c.name)
            AS pending
        FROM event_consumers c WHERE c.name = ?""",
        (name,),
    ).fetchone()


def budget_s() -> float:
    """Return the delivery time budget after a command, in seconds."""
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(text) if text.strip() else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return min(max(value, 0.0), 60.0)


def deliver(
    conn: sqlite3.Connection,
    *,
    timeout_s: float | None = None,
    force: bool = False,
    only: Iterable[str] | None = None,
) -> list[Delivery]:
    """Hand waiting events to their sinks; never raises for a sink's failure.

    Call it after the transaction that recorded events has committed. A sink's
    failure is stored on its consumer row (`cs` shows it in status commands)
    and its events stay queued.

    Args:
        conn: An open connection outside any transaction.
        timeout_s: The total time budget; `budget_s()` when None.
        force: Try consumers that are still backing off after a failure.
        only: Deliver for these consumers only.

    Returns:
        One `Delivery` per consumer that had events waiting.
    """
    if conn.in_transaction or not _has_waiting(conn):
        return []
    deadline = time.monotonic() + (budget_s() if timeout_s is None else timeout_s)
    try:
        sinks = _sinks()
    except CsError as exc:  # a broken plugin must not fail the command that logged
        log.debug("event sinks unavailable: %s", exc)
        return []
    names = set(only) if only is not None else None
    results = []
    for row in _waiting_consumers(conn):
        if names is not None and row["name"] not in names:
            continue
        results.append(_deliver_one(conn, row, sinks, deadline, force))
    return results


def deliver_later(conn: sqlite3.Connection) -> None:
    """After a command's commit, have its waiting events sent without waiting.

    A short-lived background process does the sending, within the same time
    budget, so a slow or dead collector never delays the command, and nothing
    starts while every consumer is backing off or another process delivers.
    With `CODESESSION_EVENTS_INLINE=1` the command delivers them itself.
    """
    if conn.in_transaction or not _due(conn):
        return
    # Without posix_spawn (Windows) the command sends them itself.
    if os.environ.get(INLINE_ENV) == "1" or not hasattr(os, "posix_spawn"):
        deliver(conn)
        return
    _spawn_flusher()


def _due(conn: sqlite3.Connection) -> bool:
    """Return True when some consumer has events and may deliver them now."""
    now = clock.now_iso()
    row = conn.execute(
        """SELECT 1 FROM event_consumers c
        WHERE c.enabled
            AND (c.retry_at IS NULL OR c.retry_at <= ?)
            AND (c.lease_until IS NULL OR c.lease_until < ?)
            AND EXISTS (SELECT 1 FROM event_outbox o WHERE o.consumer = c.name)
        LIMIT 1""",
        (now, now),
    ).fetchone()
    return row is not None


def _spawn_flusher() -> None:
    """Start `flush()` in its own session, detached: no pipes, nothing awaited."""
    import sys

    quiet = [
        (os.POSIX_SPAWN_OPEN, fd, os.devnull, flags, 0)
        for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY))
    ]
    argv = [sys.executable, "-c", "from cs_core.events import flush; flush()"]
    try:
        os.posix_spawn(
            sys.executable, argv, os.environ, file_actions=quiet, setsid=True
        )
    except OSError as exc:  # the events stay queued for a later command
        log.debug("cannot start the event flusher: %s", exc)


def flush() -> None:
    """Deliver every waiting event within the time budget (the background flusher).

    Failures are recorded on the consumers, as `deliver` does; nothing is printed.
    """
    from .db import connect

    try:
        conn = connect()
    except CsError as exc:
        log.debug("event flusher cannot open the database: %s", exc)
        return
    try:
        deliver(conn)
    finally:
        conn.close()


def _has_waiting(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        """SELECT 1 FROM event_consumers c
        WHERE c.enabled AND EXISTS (SELECT 1 FROM event_outbox o
            WHERE o.consumer = c.name) LIMIT 1"""
    ).fetchone()
    return row is not None


def _waiting_consumers(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        """SELECT c.*, (SELECT COUNT(*) FROM event_outbox o WHERE o.consumer = c.name)
            AS pending
        FROM event_consumers c WHERE c.enabled AND pending > 0 ORDER BY c.name"""
    ).fetchall()


def _sinks() -> dict[str, tuple[str, EventSink]]:
    from .plugins import collect

    registry = collect("register_event_sinks", lambda sink: sink.name)
    return {
        name: (registry.owners[name], sink) for name, sink in registry.items.items()
    }


def _deliver_one(
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    sinks: dict[str, tuple[str, EventSink]],
    deadline: float,
    force: bool,
) -> Delivery:
    name = row["name"]
    result = Delivery(name, pending=row["pending"])
    if name not in sinks:
        result.skipped = "no plugin provides this consumer"
    elif not force and row["retry_at"] and row["retry_at"] > clock.now_iso():
        result.skipped = f"backing off after a failure until {row['retry_at']}"
    elif deadline - time.monotonic() <= 0:
        result.skipped = "out of time"
    elif not _lease(conn, name, deadline):
        result.skipped = "another process is delivering"
    if result.skipped:
        return result
    try:
        _drain(conn, name, sinks[name], deadline, result)
    finally:
        _release(conn, name)
    return result


def _drain(
    conn: sqlite3.Connection,
    name: str,
    owned: tuple[str, EventSink],
    deadline: float,
    result: Delivery,
) -> None:
    from .plugins import call_plugin

    owner, sink = owned
    while (remaining := deadline - time.monotonic()) > 0:
        batch = _batch(conn, name)
        if not batch:
            return
        try:
            call_plugin(owner, sink.deliver, events=batch, timeout_s=remaining)
        except CsError as exc:  # kept and shown by status; the events stay queued
            log.debug("delivery to %s failed: %s", name, exc)
            _failed(conn, name, exc.message)
            result.error = exc.message
            return
        _delivered(conn, name, batch)
        result.delivered += len(batch)
        result.pending -= len(batch)


def _batch(conn: sqlite3.Connection, name: str) -> list[Event]:
    rows = conn.execute(
        "SELECT id, kind, payload, created_at FROM event_outbox WHERE consumer = ?"
        " ORDER BY id LIMIT ?",
        (name, BATCH_SIZE),
    ).fetchall()
    return [
        Event(row["id"], row["kind"], json.loads(row["payload"]), row["created_at"])
        for row in rows
    ]


def _lease(conn: sqlite3.Connection, name: str, deadline: float) -> bool:
    """Claim the right to deliver for a consumer, so no event goes out twice."""
    now = clock.now()
    seconds = max(deadline - time.monotonic(), 0) + LEASE_MARGIN_S
    with transaction(conn):
        cursor = conn.execute(
            """UPDATE event_consumers SET lease_until = ?
            WHERE name = ? AND (lease_until IS NULL OR lease_until < ?)""",
            (clock.to_iso(now + timedelta(seconds=seconds)), name, clock.to_iso(now)),
        )
    return cursor.rowcount == 1


def _release(conn: sqlite3.Connection, name: str) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE event_consumers SET lease_until = NULL WHERE name = ?", (name,)
        )


def _delivered(conn: sqlite3.Connection, name: str, batch: Sequence[Event]) -> None:
    with transaction(conn):
        conn.execute(
            "DELETE FROM event_outbox WHERE consumer = ? AND id <= ?",
            (name, batch[-1].id),
        )
        conn.execute(
            """UPDATE event_consumers SET delivered = delivered + ?,
                last_delivery_at = ?, failures = 0, retry_at = NULL, last_error = NULL
            WHERE name = ?""",
            (len(batch), clock.now_iso(), name),
        )


def _failed(conn: sqlite3.Connection, name: str, message: str) -> None:
    failures = conn.execute(
        "SELECT failures FROM event_consumers WHERE name = ?", (name,)
    ).fetchone()[0]
    wait = min(RETRY_BASE_S * 2 ** min(failures, 16), RETRY_MAX_S)
    with transaction(conn):
        conn.execute(
            """UPDATE event_consumers SET failures = failures + 1, retry_at = ?,
                last_error = ? WHERE name = ?""",
            (clock.to_iso(clock.now() + timedelta(seconds=wait)), message, name),
        )


def backfill(
    conn: sqlite3.Connection, name: str, since: str | None = None
) -> dict[str, int]:
    """Queue the history a consumer never received: calls, sessions, alerts.

    Anything already queued for it (live or by an earlier backfill) is skipped,
    so running this twice sends nothing twice.

    Args:
        conn: An open connection outside any transaction.
        name: An enabled consumer.
        since: Only history from this ISO-8601 instant on.

    Returns:
        How many events of each kind were queued.

    Raises:
        InvalidInputError: The consumer is not enabled.
    """
    row = consumer(conn, name)
    if row is None or not row["enabled"]:
        raise InvalidInputError(f"event consumer '{name}' is not enabled")
    kinds = row["kinds"].split(",")
    start = clock.to_iso(clock.parse_instant(since)) if since else ""
    counts = {}
    with transaction(conn):
        for kind in kinds:
            counts[kind] = _backfill_kind(conn, name, kind, start)
    return counts


_HISTORY = {
    "ai_call": (
        "SELECT id FROM ai_usage WHERE timestamp >= ? ORDER BY id",
        call_payload,
    ),
    "session_start": (
        "SELECT id FROM sessions WHERE start_time >= ? ORDER BY id",
        session_payload,
    ),
    "session_end": (
        "SELECT id FROM sessions WHERE status = 'completed' AND end_time >= ?"
        " ORDER BY id",
        session_payload,
    ),
    "alert": (
        "SELECT id FROM alert_events WHERE fired_at >= ? ORDER BY id",
        alert_payload,
    ),
}


def _backfill_kind(conn: sqlite3.Connection, name: str, kind: str, start: str) -> int:
    query, build = _HISTORY[kind]
    done = {
        ref
        for (ref,) in conn.execute(
            "SELECT ref FROM event_ledger WHERE consumer = ? AND kind = ?", (name, kind)
        )
    }
    todo = [ref for (ref,) in conn.execute(query, (start,)) if ref not in done]
    for ref in todo:
        conn.execute(
            """INSERT INTO event_outbox (consumer, kind, payload, created_at)
            VALUES (?, ?, ?, ?)""",
            (name, kind, json.dumps(build(conn, ref), default=str), clock.now_iso()),
        )
        conn.execute(
            "INSERT INTO event_ledger (consumer, kind, ref) VALUES (?, ?, ?)",
            (name, kind, ref),
        )
    return len(todo)
