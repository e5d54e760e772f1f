"""The foreground of `cs start`: a live view, a file watcher and a commit poller.

`run_live` keeps a session in view until it ends, one of three ways:

- Ctrl+C, SIGTERM or SIGHUP: this process ends the session itself, with its VCS
  scan, exactly once;
- `cs end` in another terminal: the database says the session is completed, and
  this process notices within `_TICK_S`, prints the summary and scans nothing;
- the same, after `cs recover` or `cs start --close-stale`.

Two background threads feed a queue: the watcher (file events, already netted per
debounced batch) and the poller (commits since the start). Only the main thread
writes the database, each batch in one transaction that first checks the session
is still active, so nothing lands after another process ended it.

rich (about 40 ms) and watchfiles (about 30 ms) are imported only here, inside the
functions that need them.
"""

import contextlib
import logging
import os
import queue
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import clock, output, plugins, watch
from .db import data_home, transaction
from .errors import CsError, InvalidInputError
from .models import Commit
from .sessions import backend_for, end_session, get_session, session_detail, touch

log = logging.getLogger(__name__)

POLL_ENV = "CODESESSION_POLL_INTERVAL"
DEFAULT_POLL_S = 3.0
MAX_POLL_S = 3600.0

# How often the main loop drains the feeds and looks for an end from elsewhere.
_TICK_S = 0.5
# The view redraws at least this often (elapsed time), sooner when a figure moves.
_REDRAW_S = 1.0
# Without a terminal, a line when a figure changed, at most this often...
_PLAIN_EVERY_S = 5.0
# ...and one anyway after this long, so a log shows the process is alive.
_PLAIN_HEARTBEAT_S = 60.0
# watchfiles groups events until this long passes without one (an editor's
# write-and-rename takes a few milliseconds), and never longer than the debounce.
_WATCH_STEP_MS = 100
_WATCH_DEBOUNCE_MS = 1000
# How long the watcher blocks in Rust before handing control back to Python.
_WATCH_TIMEOUT_MS = 500
_JOIN_TIMEOUT_S = 5.0
# Long enough for the watcher's quiet period (_WATCH_STEP_MS) and one batch.
_SETTLE_S = 0.3
# A failed watch is started again this many times, this long apart.
_WATCH_RESTARTS = 50
_WATCH_RESTART_PAUSE_S = 0.2
_END_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def poll_interval(value: float | None) -> float:
    """Return the commit poller's interval: the flag, the environment, or 3 s.

    Raises:
        InvalidInputError: Not a number of seconds above 0 and up to an hour.
    """
    if value is None:
        text = os.environ.get(POLL_ENV, "").strip()
        if not text:
            return DEFAULT_POLL_S
        try:
            value = float(text)
        except ValueError:
            raise InvalidInputError(
                f"{POLL_ENV} must be a number of seconds, not '{text}'"
            ) from None

    if not 0 < value <= MAX_POLL_S:
        raise InvalidInputError(
            f"poll interval must be above 0 and at most {MAX_POLL_S:g} seconds, "
            f"not {value:g}"
        )
    return value


@dataclass(frozen=True)
class View:
    """What the live view shows; equal views need no redraw."""

    session_id: int
    name: str
    scope: str
    elapsed_s: int
    cost_usd: float | None
    unpriced_calls: int
    tokens: int
    calls: int
    files: int | None
    commits: int | None
    last_call: str | None
    last_note: str | None
    watcher: str


def run_live(
    conn: sqlite3.Connection,
    session: sqlite3.Row,
    *,
    poll_interval_s: float = DEFAULT_POLL_S,
    resumed: bool = False,
) -> sqlite3.Row:
    """Stay in the foreground with a session until it ends; print its summary.

    Args:
        conn: An open database connection.
        session: The active session to follow.
        poll_interval_s: Seconds between looks for new commits.
        resumed: The session was already active (`cs start --resume`).

    Returns:
        The ended session row.
    """
    runner = _Runner(conn, session, poll_interval_s)
    display = _TerminalDisplay() if _interactive() else _PlainDisplay()
    how = "error"
    with _end_signals(runner.stop_requested):
        try:
            with display:
                display.started(session, resumed)
                runner.start()
                how = runner.loop(display)
        finally:
            # After Ctrl+C the last edits may still sit in the watcher's batch.
            runner.close(settle=how == "signal")
        ended = runner.finish(how)
    _forget_lock(session["id"])
    _print_summary(conn, ended)
    return ended


def _interactive() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _print_summary(conn: sqlite3.Connection, ended: sqlite3.Row) -> None:
    from .commands.end import print_summary

    detail = session_detail(conn, ended["id"])
    print_summary(output.session_document(dict(ended), detail))


@contextlib.contextmanager
def _end_signals(on_signal: Callable[[], None]) -> Iterator[None]:
    """Turn Ctrl+C, SIGTERM and SIGHUP into a request to end, while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        on_signal()

    previous = {}
    for name in _END_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


class _Runner:
    """The main loop: apply what the feeds found, and watch for the end."""

    def __init__(
        self, conn: sqlite3.Connection, session: sqlite3.Row, poll_interval_s: float
    ) -> None:
        self.conn = conn
        self.session_id: int = session["id"]
        self.wake = threading.Event()
        self.signalled = False
        self.feeds = _Feeds(session, poll_interval_s)
        self.seen_commits: set[str] = set()

    def stop_requested(self) -> None:
        """Signal handler side: ask the loop to end the session."""
        self.signalled = True
        self.wake.set()

    def start(self) -> None:
        """Start the feeds, unless another live process already runs them."""
        self.feeds.start()

    def close(self, *, settle: bool = False) -> None:
        """Stop the feeds; with `settle`, let the watcher hand over its last batch."""
        if settle:
            time.sleep(_SETTLE_S)
        self.feeds.close()

    def loop(self, display: "_Display") -> str:
        """Run until a signal ("signal") or an end elsewhere ("external")."""
        while True:
            if self.signalled:
                return "signal"
            current = self._apply(self.feeds.drain())
            if current["status"] != "active":
                return "external"
            display.show(_snapshot(self.conn, current, self.feeds.status))
            self.wake.wait(_TICK_S)
            self.wake.clear()

    def finish(self, how: str) -> sqlite3.Row:
        """End the session after a signal; after an end elsewhere, just reread it."""
        current = self._apply(self.feeds.drain())
        if how != "signal" or current["status"] != "active":
            return current
        try:
            return end_session(self.conn, current, reason="interrupted")
        except InvalidInputError:
            # `cs end` got there between our check and our scan: it scanned.
            return get_session(self.conn, self.session_id)

    def _apply(self, items: list[tuple[str, Any]]) -> sqlite3.Row:
        """Write what the feeds found; return the session as it now stands."""
        for kind, payload in items:
            if kind == "files":
                record_files(self.conn, self.session_id, payload, clock.now_iso())
            elif kind == "commits":
                self._record_new_commits(payload)
            elif kind == "ready":
                _mark_observed(self.conn, self.session_id)
        return get_session(self.conn, self.session_id)

    def _record_new_commits(self, commits: tuple[Commit, ...]) -> None:
        fresh = [c for c in commits if c.hash not in self.seen_commits]
        if fresh and record_commits(self.conn, self.session_id, fresh):
            self.seen_commits.update(c.hash for c in fresh)


def record_files(
    conn: sqlite3.Connection, session_id: int, events: list[watch.Event], at: str
) -> bool:
    """Fold file events into a session's `file_changes`, one row per path.

    Returns:
        False when the session is no longer active (nothing is written).
    """
    with transaction(conn):
        if not _active(conn, session_id):
            return False

        rows = _net_rows(conn, session_id)
        before = dict(rows)
        for event in events:
            watch.apply_event(rows, event, at)

        changed = {
            p for p in before.keys() | rows.keys() if before.get(p) != rows.get(p)
        }
        _write_rows(conn, session_id, rows, changed)

        conn.execute(
            "UPDATE sessions SET files_changed = (SELECT COUNT(*) FROM file_changes"
            " WHERE session_id = ?) WHERE id = ?",
            (session_id, session_id),
        )
        touch(conn, session_id, at)
    return True


def _net_rows(conn: sqlite3.Connection, session_id: int) -> dict[str, watch.NetChange]:
    found = conn.execute(
        "SELECT file_path, change_type, old_path, timestamp FROM file_changes"
        " WHERE session_id = ? ORDER BY id",
        (session_id,),
    ).fetchall()
    return {row[0]: watch.NetChange(row[1], row[2], row[3]) for row in found}


def _write_rows(
    conn: sqlite3.Connection,
    session_id: int,
    rows: dict[str, watch.NetChange],
    paths: set[str],
) -> None:
    for path in sorted(paths):
        conn.execute(
            "DELETE FROM file_changes WHERE session_id = ? AND file_path = ?",
            (session_id, path),
        )
        change = rows.get(path)
        if change is not None:
            conn.execute(
                """INSERT INTO file_changes
                    (session_id, file_path, change_type, old_path, timestamp)
                VALUES (?, ?, ?, ?, ?)""",
                (
                    session_id,
                    path,
                    change.change_type,
                    change.old_path,
                    change.timestamp,
                ),
            )


def record_commits(
    conn: sqlite3.Connection, session_id: int, commits: list[Commit]
) -> bool:
    """Store commits not yet recorded for a session (never twice by hash).

    Returns:
        False when the session is no longer active (nothing is written).
    """
    with transaction(conn):
        if not _active(conn, session_id):
            return False

        for commit in commits:
            conn.execute(
                """INSERT INTO commits (session_id, hash, message, timestamp)
                SELECT ?, ?, ?, ? WHERE NOT EXISTS
                    (SELECT 1 FROM commits WHERE session_id = ? AND hash = ?)""",
                (session_id, commit.hash, commit.message, commit.timestamp,
                 session_id, commit.hash),
            )  # fmt: skip

        conn.execute(
            "UPDATE sessions SET commits = (SELECT COUNT(*) FROM commits"
            " WHERE session_id = ?) WHERE id = ?",
            (session_id, session_id),
        )
        touch(conn, session_id)
    return True


def _mark_observed(conn: sqlite3.Connection, session_id: int) -> None:
    """A watcher now observes this session: no file changes is a real 0."""
    with transaction(conn):
        conn.execute(
            "UPDATE sessions SET files_changed = (SELECT COUNT(*) FROM file_changes"
            " WHERE session_id = ?) WHERE id = ? AND status = 'active'"
            " AND files_changed IS NULL",
            (session_id, session_id),
        )


def _active(conn: sqlite3.Connection, session_id: int) -> bool:
    row = conn.execute(
        "SELECT status FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return row is not None and row[0] == "active"


class _Feeds:
    """The watcher and poller threads, and the queue they fill."""

    def __init__(self, session: sqlite3.Row, poll_interval_s: float) -> None:
        self.session = session
        self.poll_interval_s = poll_interval_s
        self.items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.status = "starting"
        self._lock: Any = None

    def start(self) -> None:
        """Start both threads; only one process per session runs them."""
        self._lock = _claim(self.session["id"])
        if self._lock is None:
            self.status = "watched by another cs process"
            return
        backend = backend_for(self.session)
        self._spawn(self._watch_files, backend)
        if backend is not None:
            self._spawn(self._poll_commits, backend)

    def close(self) -> None:
        """Stop the threads and wait for them, briefly."""
        self.stop.set()
        for thread in self.threads:
            thread.join(_JOIN_TIMEOUT_S)
        if self._lock is not None:
            self._lock.close()

    def drain(self) -> list[tuple[str, Any]]:
        """Take everything the threads found so far."""
        found = []
        with contextlib.suppress(queue.Empty):
            while True:
                found.append(self.items.get_nowait())
        return found

    def _spawn(self, target: Callable[[Any], None], backend: Any) -> None:
        thread = threading.Thread(target=target, args=(backend,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _watch_files(self, backend: Any) -> None:
        root = self.session["scope"]
        tracker = watch.Tracker(
            root, watch.IgnoreRules(root, watch.checker_for(backend))
        )

        for attempt in range(_WATCH_RESTARTS + 1):
            try:
                self._watch_loop(tracker, resync=attempt > 0)
                return
            except Exception as exc:  # a dead watcher must not end the session
                # watchfiles raises on a file name that is not UTF-8, for one;
                # a new watch plus a comparison with the tree recovers the batch.
                log.debug("file watcher failed", exc_info=True)
                self.status = f"file watcher stopped: {exc}"
            if self.stop.wait(_WATCH_RESTART_PAUSE_S):
                return

    def _watch_loop(self, tracker: watch.Tracker, *, resync: bool) -> None:
        from watchfiles import watch as watch_tree  # about 30 ms

        batches = watch_tree(
            tracker.root,
            watch_filter=lambda _change, path: _not_vcs(tracker, path),
            debounce=_WATCH_DEBOUNCE_MS,
            step=_WATCH_STEP_MS,
            stop_event=self.stop,
            rust_timeout=_WATCH_TIMEOUT_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
            ignore_permission_denied=True,
        )

        ready = False
        for changes in batches:
            if not ready:
                # The first yield means the OS watch is in place: list the files
                # now, and whatever changes from here on arrives as an event.
                self._first_look(tracker, resync)
                ready = True
                continue
            self._put_files(tracker, tracker.batch(p for _change, p in changes))

    def _first_look(self, tracker: watch.Tracker, resync: bool) -> None:
        if resync:
            self._put_files(tracker, tracker.resync())
            self.status = _watching(len(tracker.known))
            return

        count = tracker.scan_baseline()
        self.status = _watching(count)
        self.items.put(("ready", count))

    def _put_files(self, tracker: watch.Tracker, events: list[watch.Event]) -> None:
        if events:
            self.status = _watching(len(tracker.known))
            self.items.put(("files", events))

    def _poll_commits(self, backend: Any) -> None:
        root, since = self.session["git_root"], self.session["start_git_head"]
        while not self.stop.is_set():
            try:
                commits = plugins.call_plugin(
                    backend.name, backend.commits_since, root=root, since=since
                )
                self.items.put(("commits", tuple(commits)))
            except CsError as exc:
                log.debug("commit poll failed: %s", exc.message)
            self.stop.wait(self.poll_interval_s)


def _watching(count: int) -> str:
    return f"watching {count:,} file{'' if count == 1 else 's'}"


def _not_vcs(tracker: watch.Tracker, path: str) -> bool:
    rel = tracker.relative(path)
    return rel is not None and not watch.is_vcs_path(rel)


def _claim(session_id: int) -> Any:
    """Lock the session's live file; None when another process holds it."""
    try:
        import fcntl
    except ImportError:  # no advisory locks here: assume we are alone
        return open(os.devnull)
    path = _lock_path(session_id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    handle = open(path, "a")  # noqa: SIM115 - the lock lives until _Feeds.close
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _lock_path(session_id: int) -> Path:
    return data_home() / "live" / f"{session_id}.lock"


def _forget_lock(session_id: int) -> None:
    """Remove an ended session's lock file: nobody can watch it any more."""
    with contextlib.suppress(OSError):
        _lock_path(session_id).unlink()


def _snapshot(conn: sqlite3.Connection, session: sqlite3.Row, watcher: str) -> View:
    calls, unpriced = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(cost IS NULL), 0) FROM ai_usage"
        " WHERE session_id = ?",
        (session["id"],),
    ).fetchone()
    started = clock.parse_instant(session["start_time"])
    elapsed = max(int((clock.now() - started).total_seconds()), 0)

    return View(
        session_id=session["id"],
        name=session["name"],
        scope=session["scope"] or session["working_directory"],
        elapsed_s=elapsed,
        cost_usd=session["ai_cost"] or 0,
        unpriced_calls=unpriced,
        tokens=session["ai_tokens"] or 0,
        calls=calls,
        files=session["files_changed"],
        commits=session["commits"],
        last_call=_last_call(conn, session["id"]),
        last_note=_last_note(conn, session["id"]),
        watcher=watcher,
    )


def _last_call(conn: sqlite3.Connection, session_id: int) -> str | None:
    row = conn.execute(
        "SELECT provider, model, tokens, cost, agent_name, timestamp FROM ai_usage"
        " WHERE session_id = ? ORDER BY timestamp DESC, id DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    if row is None:
        return None
    agent = f" by {row['agent_name']}" if row["agent_name"] else ""
    return (
        f"{row['provider']}/{row['model']}, {output.format_tokens(row['tokens'])} "
        f"tokens, {output.format_usd(row['cost'])}{agent} at {_local(row['timestamp'])}"
    )


def _last_note(conn: sqlite3.Connection, session_id: int) -> str | None:
    row = conn.execute(
        "SELECT message, timestamp FROM session_notes WHERE session_id = ?"
        " ORDER BY timestamp DESC, id DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    return None if row is None else f"{row['message']} ({_local(row['timestamp'])})"


def _local(stamp: str) -> str:
    zone, _ = clock.display_zone()
    return clock.parse_instant(stamp).astimezone(zone).strftime("%H:%M:%S")


def elapsed_text(seconds: int) -> str:
    """Format a running time to the second: `1h 02m 05s`, `2m 05s`, `45s`."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _cost(view: View) -> str:
    text = output.format_usd(view.cost_usd)
    if view.unpriced_calls:
        text += f" (+{view.unpriced_calls} unpriced)"
    return text


def plain_line(view: View) -> str:
    """One line of figures, for output that is not a terminal."""
    return (
        f"[{clock.to_iso(clock.now())[11:19]}] #{view.session_id} "
        f"{elapsed_text(view.elapsed_s)} | cost {_cost(view)} | tokens "
        f"{output.format_tokens(view.tokens)} | calls {view.calls} | files "
        f"{_count(view.files)} | commits {_count(view.commits)}"
    )


def render(view: View) -> Any:
    """Build the rich renderable of the live view."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")

    rows = (
        ("Folder", view.scope),
        ("Elapsed", elapsed_text(view.elapsed_s)),
        ("AI cost", _cost(view)),
        ("Tokens", output.format_tokens(view.tokens)),
        ("Calls", str(view.calls)),
        ("Files changed", _count(view.files)),
        ("Commits", _count(view.commits)),
        ("Latest call", view.last_call or "-"),
        ("Latest note", view.last_note or "-"),
        ("Watcher", view.watcher),
    )
    for label, value in rows:
        grid.add_row(Text(label), Text(output.printable(value)))

    title = Text(output.printable(f"Session #{view.session_id}: {view.name}"))
    subtitle = Text("Ctrl+C or cs end finishes the session")
    return Panel(grid, title=title, subtitle=subtitle, title_align="left")


class _Display:
    """Where the view goes; a context manager around the loop."""

    def __enter__(self) -> "_Display":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def started(self, session: sqlite3.Row, resumed: bool) -> None:
        """Say which session is being followed."""
        verb = "Resumed" if resumed else "Started"
        output.write_stdout(
            f"{verb} session #{session['id']} '{session['name']}' in "
            f"{session['scope']}.\n"
        )

    def show(self, view: View) -> None:
        """Show the latest figures."""


class _TerminalDisplay(_Display):
    """A rich Live panel redrawn in place, about once a second."""

    def __init__(self) -> None:
        self.live: Any = None
        self.last: View | None = None
        self.drawn_at = 0.0

    def __enter__(self) -> "_Display":
        from rich.live import Live

        # Redrawn by hand: no refresh thread, and no redraw when nothing moved.
        self.live = Live(console=output.console(), auto_refresh=False, transient=False)
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def started(self, session: sqlite3.Row, resumed: bool) -> None:
        """The panel's title names the session; nothing else to print."""

    def show(self, view: View) -> None:
        """Redraw when a figure changed or a second has passed."""
        now = time.monotonic()
        if view == self.last and now - self.drawn_at < _REDRAW_S:
            return
        self.live.update(render(view), refresh=True)
        self.last, self.drawn_at = view, now


class _PlainDisplay(_Display):
    """Plain lines on stdout when it is a pipe or a file."""

    def __init__(self) -> None:
        self.last: tuple[Any, ...] | None = None
        self.printed_at = 0.0
        self.watcher = ""

    def show(self, view: View) -> None:
        """Print a line when a figure changed (rate-limited), or as a heartbeat."""
        # The file count in "watching N files" moves with every batch: not news.
        kind = view.watcher.split(" ", 1)[0]
        if kind != self.watcher:
            self.watcher = kind
            output.write_stdout(f"Watcher: {view.watcher}.\n")

        figures = (view.cost_usd, view.tokens, view.calls, view.files, view.commits)
        now = time.monotonic()
        due = now - self.printed_at
        if (
            figures != self.last and due >= _PLAIN_EVERY_S
        ) or due >= _PLAIN_HEARTBEAT_S:
            output.write_stdout(plain_line(view) + "\n")
            self.last, self.printed_at = figures, now
