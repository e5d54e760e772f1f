"""The session service: start, find, log, annotate, end and recover sessions.

Functions take an open connection and return database rows; they raise `CsError`
subclasses and never print. Each write runs in one transaction. Git probes run
before the write transaction opens, so no lock is held while a subprocess runs.
"""

import json
import os
import sqlite3
from datetime import timedelta
from typing import NamedTuple

from . import clock, events, plugins
from .db import transaction
from .errors import (
    InvalidInputError,
    NoActiveSessionError,
    SessionActiveError,
    SessionNotFoundError,
)
from .models import HeadInfo, RepoInfo, ScanResult, VcsBackend
from .text import clean, clean_optional

SESSION_ENV = "CODESESSION_SESSION"
DEFAULT_RECOVER_HOURS = 24


class Scope(NamedTuple):
    """Where a command runs: its working directory and the session scope."""

    working_directory: str
    scope: str
    git_root: str | None
    project_root: str
    backend: VcsBackend | None


def resolve_scope(cwd: str | None = None) -> Scope:
    """Return the scope of `cwd`: its VCS top level, else the folder itself."""
    try:
        here = os.path.realpath(cwd or os.getcwd())
    except FileNotFoundError:
        raise InvalidInputError(
            "the current folder no longer exists", hint="cd into an existing folder."
        ) from None
    for backend in plugins.vcs_backends():
        info: RepoInfo | None = plugins.call_plugin(
            backend.name, backend.find_root, path=here
        )
        if info is not None:
            return Scope(here, info.root, info.root, info.project_root, backend)
    return Scope(here, here, None, here, None)


def backend_for(session: sqlite3.Row) -> VcsBackend | None:
    """Return the VCS backend of a session's repository, if it had one."""
    if not session["git_root"]:
        return None
    return resolve_scope(session["git_root"]).backend


def get_session(conn: sqlite3.Connection, session_id: int) -> sqlite3.Row:
    """Return one session row.

    Raises:
        SessionNotFoundError: No session has that id.
    """
    row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise SessionNotFoundError(f"no session with id {session_id}", id=session_id)
    return row


def latest_session(conn: sqlite3.Connection) -> sqlite3.Row:
    """Return the most recently started session.

    Raises:
        SessionNotFoundError: There are no sessions at all.
    """
    row = conn.execute("SELECT * FROM sessions ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        raise SessionNotFoundError("no sessions recorded yet", hint="Run cs start.")
    return row


def active_in_scope(conn: sqlite3.Connection, scope: str) -> sqlite3.Row | None:
    """Return the active session of a scope, if any."""
    return conn.execute(
        "SELECT * FROM sessions WHERE scope = ? AND status = 'active'"
        " ORDER BY id DESC LIMIT 1",
        (scope,),
    ).fetchone()


def parse_session_id(value: str | int) -> int:
    """Parse a session id given on the command line or in the environment.

    Raises:
        InvalidInputError: Not a positive integer.
    """
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) < 1:
        raise InvalidInputError(f"session id must be a positive integer, not '{text}'")
    return int(text)


def find_session(
    conn: sqlite3.Connection, session_id: str | int | None, scope: Scope
) -> sqlite3.Row:
    """Return the session a command acts on.

    `-s ID` first, then the active session of the scope, then
    `CODESESSION_SESSION` (so a value left in a shell never beats the session
    that is running here). Never another project's session by guesswork.

    Raises:
        SessionNotFoundError: The named session does not exist.
        NoActiveSessionError: Nothing named and no active session in this scope.
    """
    if session_id is not None and str(session_id) != "":
        return get_session(conn, parse_session_id(session_id))
    active = active_in_scope(conn, scope.scope)
    if active is not None:
        return active
    named = os.environ.get(SESSION_ENV, "")
    if named:
        return get_session(conn, parse_session_id(named))
    raise _no_active_session(conn, scope)


def require_active(session: sqlite3.Row) -> sqlite3.Row:
    """Return the session if it is still active.

    Raises:
        InvalidInputError: It has ended: calls and notes would change a closed
            record behind its summary.
    """
    if session["status"] != "active":
        raise InvalidInputError(
            f"session #{session['id']} '{session['name']}' has ended",
            hint="Start a new session, or pass the id of an active one with -s.",
        )
    return session


def _no_active_session(conn: sqlite3.Connection, scope: Scope) -> NoActiveSessionError:
    elsewhere = conn.execute(
        "SELECT id, name, scope FROM sessions WHERE status = 'active' ORDER BY id"
    ).fetchall()
    hint = "Run cs start, or pass -s ID."
    if elsewhere:
        listed = ", ".join(
            f"#{r['id']} {r['name']!r} in {r['scope']}" for r in elsewhere
        )
        hint = f"Active sessions elsewhere: {listed}. Pass -s ID to use one."
    return NoActiveSessionError(
        f"no active session in {scope.scope}",
        hint=hint,
        scope=scope.scope,
        activeElsewhere=[
            {"id": r["id"], "name": r["name"], "scope": r["scope"]} for r in elsewhere
        ],
    )


def is_stale(
    session: sqlite3.Row, max_age_hours: float = DEFAULT_RECOVER_HOURS
) -> bool:
    """Return True when an active session has been idle longer than the age."""
    if session["status"] != "active":
        return False
    last = session["last_activity_at"] or session["start_time"]
    idle = clock.now() - clock.parse_instant(last)
    return idle > timedelta(hours=max_age_hours)


def start_session(
    conn: sqlite3.Connection,
    name: str,
    scope: Scope,
    *,
    resume: bool = False,
    close_stale: bool = False,
) -> tuple[sqlite3.Row, bool]:
    """Start a session in a scope, or return the active one with `resume`.

    Returns:
        The session row and whether it was resumed.

    Raises:
        SessionActiveError: The scope has an active session and neither
            `resume` nor `close_stale` says what to do with it.
    """
    name = clean(name).strip()
    if not name:
        raise InvalidInputError("session name must not be empty")
    active = active_in_scope(conn, scope.scope)
    if active is not None and resume:
        return active, True
    if active is not None and not close_stale:
        raise _session_active(active)
    if active is not None:
        end_at_last_activity(conn, active, "closed_stale")
    head = _probe_head(scope)
    snapshot = _snapshot(scope.backend, scope.git_root)
    with transaction(conn):
        racing = active_in_scope(conn, scope.scope)  # started since we looked
        if racing is not None:
            raise _session_active(racing)
        session_id = _insert_session(conn, name, scope, head, snapshot)
        events.record_session(conn, "session_start", session_id)
    events.deliver_later(conn)
    return get_session(conn, session_id), False


def _session_active(active: sqlite3.Row) -> SessionActiveError:
    stale = " (stale: no activity for over 24 hours)" if is_stale(active) else ""
    return SessionActiveError(
        f"session #{active['id']} '{active['name']}' is already active in "
        f"{active['scope']}{stale}",
        hint="Use --resume to continue it, --close-stale to end it and start anew, "
        "or cs recover to end idle sessions.",
        activeSession={
            "id": active["id"],
            "name": active["name"],
            "startTime": active["start_time"],
            "lastActivityAt": active["last_activity_at"],
        },
        id=active["id"],
    )


def _probe_head(scope: Scope) -> HeadInfo:
    if scope.backend is None or scope.git_root is None:
        return HeadInfo(sha=None, branch=None)
    backend = scope.backend
    return plugins.call_plugin(backend.name, backend.head, root=scope.git_root)


def _snapshot(backend: VcsBackend | None, root: str | None) -> dict[str, str] | None:
    """The backend's record of uncommitted paths and their content, if it has one."""
    take = getattr(backend, "snapshot", None)
    if backend is None or root is None or not callable(take):
        return None
    return plugins.call_plugin(backend.name, take, root=root)


def _insert_session(
    conn: sqlite3.Connection,
    name: str,
    scope: Scope,
    head: HeadInfo,
    snapshot: dict[str, str] | None,
) -> int:
    started = clock.now_iso()
    # Outside a repository nothing can observe files or commits: NULL, not 0.
    observed = 0 if scope.git_root else None
    cursor = conn.execute(
        """INSERT INTO sessions (name, start_time, working_directory, git_root,
            start_git_head, files_changed, commits, ai_cost, ai_tokens, status,
            scope, project_root, branch, last_activity_at, source, start_snapshot)
        VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 'active', ?, ?, ?, ?, 'cli', ?)""",
        (
            name,
            started,
            scope.working_directory,
            scope.git_root,
            head.sha,
            observed,
            observed,
            scope.scope,
            scope.project_root,
            head.branch,
            started,
            None if snapshot is None else json.dumps(snapshot),
        ),
    )
    return int(cursor.lastrowid or 0)


def touch(conn: sqlite3.Connection, session_id: int, at: str | None = None) -> None:
    """Record activity on a session (inside the caller's transaction)."""
    conn.execute(
        "UPDATE sessions SET last_activity_at = ? WHERE id = ?",
        (at or clock.now_iso(), session_id),
    )


def add_note(
    conn: sqlite3.Connection, session: sqlite3.Row, message: str
) -> sqlite3.Row:
    """Add a timestamped annotation to a session."""
    text = clean(message).strip()
    if not text:
        raise InvalidInputError("note must not be empty")
    stamp = clock.now_iso()
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO session_notes (session_id, message, timestamp) "
            "VALUES (?, ?, ?)",
            (session["id"], text, stamp),
        )
        touch(conn, session["id"], stamp)
    return conn.execute(
        "SELECT * FROM session_notes WHERE id = ?", (cursor.lastrowid,)
    ).fetchone()


def scan_session(session: sqlite3.Row, until: str | None = None) -> ScanResult | None:
    """Ask the session's VCS what changed since it started; None when unknown.

    A file that was already uncommitted at the start and is still exactly as
    it was then is not the session's work, so it is left out.
    """
    backend = backend_for(session)
    if backend is None:
        return None
    scan = plugins.call_plugin(
        backend.name,
        backend.scan,
        root=session["git_root"],
        since=session["start_git_head"],
        until=until,
    )
    before = json.loads(session["start_snapshot"] or "{}")
    if scan is None or until is not None or not before:
        return scan
    after = _snapshot(backend, session["git_root"]) or {}
    untouched = {path for path, mark in before.items() if after.get(path) == mark}
    return scan._replace(files=tuple(f for f in scan.files if f.path not in untouched))


def end_session(
    conn: sqlite3.Connection,
    session: sqlite3.Row,
    *,
    notes: str | None = None,
    reason: str = "ended",
    scan: ScanResult | None = None,
) -> sqlite3.Row:
    """End an active session now, recording what its VCS scan found.

    Raises:
        InvalidInputError: The session has already ended.
    """
    if session["status"] != "active":
        raise InvalidInputError(f"session #{session['id']} has already ended")
    if scan is None:
        scan = scan_session(session)
    ended = clock.now_iso()
    return _finish(conn, session, ended, reason, scan, clean_optional(notes))


def end_at_last_activity(
    conn: sqlite3.Connection, session: sqlite3.Row, reason: str
) -> sqlite3.Row:
    """End an abandoned session at its last activity, not now.

    Only commits made up to then count, so work done later in the same tree
    belongs to whatever session comes next.
    """
    ended = session["last_activity_at"] or session["start_time"]
    scan = scan_session(session, until=ended)
    return _finish(conn, session, ended, reason, scan, None)


def _finish(
    conn: sqlite3.Connection,
    session: sqlite3.Row,
    ended: str,
    reason: str,
    scan: ScanResult | None,
    notes: str | None,
) -> sqlite3.Row:
    start = clock.parse_instant(session["start_time"])
    duration = max(int((clock.parse_instant(ended) - start).total_seconds()), 0)
    with transaction(conn):
        current = get_session(conn, session["id"])
        if current["status"] != "active":
            raise InvalidInputError(f"session #{session['id']} has already ended")
        files, commits = _record_scan(conn, session["id"], scan, ended)
        conn.execute(
            """UPDATE sessions SET status = 'completed', end_time = ?, duration = ?,
                end_reason = ?, files_changed = ?, commits = ?,
                notes = COALESCE(?, notes), last_activity_at = ?
            WHERE id = ?""",
            (ended, duration, reason, files, commits, notes, ended, session["id"]),
        )
        events.record_session(conn, "session_end", session["id"])
    events.deliver_later(conn)
    return get_session(conn, session["id"])


def _record_scan(
    conn: sqlite3.Connection, session_id: int, scan: ScanResult | None, at: str
) -> tuple[int | None, int | None]:
    """Store a scan's commits and net file changes; return their counts."""
    if scan is None:
        return _watched_counts(conn, session_id)
    # A live poller may have stored some of these already; one set lookup per
    # commit keeps a scan of thousands of commits linear.
    known = {
        row[0]
        for row in conn.execute(
            "SELECT hash FROM commits WHERE session_id = ?", (session_id,)
        )
    }
    conn.executemany(
        "INSERT INTO commits (session_id, hash, message, timestamp) "
        "VALUES (?, ?, ?, ?)",
        [
            (session_id, commit.hash, commit.message, commit.timestamp)
            for commit in dict.fromkeys(scan.commits)
            if commit.hash not in known
        ],
    )
    _replace_file_changes(conn, session_id, scan, at)
    commits = conn.execute(
        "SELECT COUNT(*) FROM commits WHERE session_id = ?", (session_id,)
    ).fetchone()[0]
    return len(scan.files), commits


def _replace_file_changes(
    conn: sqlite3.Connection, session_id: int, scan: ScanResult, at: str
) -> None:
    """Make the file list the scan's net changes, keeping watcher timestamps."""
    seen = dict(
        conn.execute(
            "SELECT file_path, MAX(timestamp) FROM file_changes"
            " WHERE session_id = ? GROUP BY file_path",
            (session_id,),
        ).fetchall()
    )
    conn.execute("DELETE FROM file_changes WHERE session_id = ?", (session_id,))
    conn.executemany(
        """INSERT INTO file_changes
            (session_id, file_path, change_type, old_path, timestamp)
        VALUES (?, ?, ?, ?, ?)""",
        [
            (session_id, f.path, f.change_type, f.old_path, seen.get(f.path, at))
            for f in scan.files
        ],
    )


def _watched_counts(
    conn: sqlite3.Connection, session_id: int
) -> tuple[int | None, int | None]:
    """Counts when no scan could run: what a live watcher saw, else unknown."""
    watched = conn.execute(
        "SELECT COUNT(DISTINCT file_path) FROM file_changes WHERE session_id = ?",
        (session_id,),
    ).fetchone()[0]
    polled = conn.execute(
        "SELECT COUNT(*) FROM commits WHERE session_id = ?", (session_id,)
    ).fetchone()[0]
    return watched or None, polled or None


def recover(
    conn: sqlite3.Connection, max_age_hours: float, reason: str = "recovered"
) -> list[sqlite3.Row]:
    """End every active session idle for longer than `max_age_hours`."""
    if not max_age_hours >= 0 or max_age_hours > 1_000_000:
        raise InvalidInputError(f"max age must be 0 or more hours, not {max_age_hours}")
    active = conn.execute(
        "SELECT * FROM sessions WHERE status = 'active' ORDER BY id"
    ).fetchall()
    return [
        end_at_last_activity(conn, session, reason)
        for session in active
        if is_stale(session, max_age_hours)
    ]


def delete_session(conn: sqlite3.Connection, session_id: int) -> None:
    """Remove a session and every row that belongs to it."""
    get_session(conn, session_id)
    with transaction(conn):
        for table in ("ai_usage", "file_changes", "commits", "session_notes"):
            conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
        conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def session_detail(
    conn: sqlite3.Connection, session_id: int
) -> dict[str, list[sqlite3.Row]]:
    """Return a session's calls, notes, files and commits, oldest first."""

    def rows(table: str) -> list[sqlite3.Row]:
        return conn.execute(
            f"SELECT * FROM {table} WHERE session_id = ? ORDER BY timestamp, id",
            (session_id,),
        ).fetchall()

    return {
        "calls": rows("ai_usage"),
        "notes": rows("session_notes"),
        "files": rows("file_changes"),
        "commits": rows("commits"),
    }


def unpriced(conn: sqlite3.Connection, session_id: int) -> tuple[int, int]:
    """Return how many calls of a session have no known cost, and their tokens."""
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM ai_usage"
        " WHERE session_id = ? AND cost IS NULL",
        (session_id,),
    ).fetchone()
    return row[0], row[1]
