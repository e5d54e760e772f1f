"""Importing AI calls from agents' own log files, incrementally and without duplicates.

The core knows no log format. A reader (from a plugin) lists the files, names the
bytes a useful line must contain, and turns lines into `FoundCall`s. This module
does the rest: it skips files that did not change since the last run (one `stat`
each), reads only the appended part of the others, resolves each model's price
once, and stores the calls with `INSERT OR IGNORE` on `ai_usage.external_id`, so
a call already logged by any other way (a proxy, a hook, an earlier import) is
never stored twice.

Each agent session becomes a completed `cs` session with `source` = the reader's
name and `external_id` = the agent's session id, unless a target session is given
(`cs auto-log`), which then receives every call.
"""

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from . import clock
from .db import transaction
from .errors import InvalidInputError
from .models import Usage
from .pricing import PriceBook, PriceSource, Resolved
from .sessions import Scope, resolve_scope, touch

CHUNK_BYTES = 1 << 22
# A line longer than this that holds none of the needles is skipped without
# being kept in memory (Claude Code's file-history snapshots reach hundreds of MB).
LONG_LINE_BYTES = 1 << 23
BATCH_ROWS = 5000
# Log lines stamped outside these bounds are broken (clock resets, corruption).
EARLIEST_TIMESTAMP = "2015-01-01T00:00:00.000Z"
MAX_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class FoundCall:
    """One real request found in a log, with the provider's own token counts."""

    external_id: str
    session_key: str
    provider: str
    model: str
    timestamp: str
    prompt_tokens: int
    completion_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    agent_name: str | None = None


@dataclass
class FoundSession:
    """What a reader learned about one agent session."""

    key: str
    name: str
    cwd: str | None = None
    branch: str | None = None


@dataclass
class FileResult:
    """What one read of one file produced.

    Args:
        calls: The calls, deduplicated within this read.
        sessions: The agent sessions the calls belong to, by key.
        resume: What the reader needs to continue from the end of this read.
        broken_lines: Lines that were not valid JSON or not the expected shape.
    """

    calls: list[FoundCall] = field(default_factory=list)
    sessions: dict[str, FoundSession] = field(default_factory=dict)
    resume: dict[str, Any] | None = None
    broken_lines: int = 0


class LogReader(Protocol):
    """An agent's log format, provided by a plugin."""

    name: str
    needles: tuple[bytes, ...]

    def files(self) -> list[str]:
        """Return the paths of the log files to read, in reading order."""

    def parse(
        self, path: Path, lines: Iterable[bytes], resume: dict[str, Any] | None
    ) -> FileResult:
        """Turn the new lines of one file into calls.

        Args:
            path: The file.
            lines: Its complete new lines that contain a needle, in order.
            resume: What the previous read of this file returned, if it resumes.
        """


@dataclass(frozen=True)
class FileState:
    """How far one file was read, and how it looked then."""

    size: int
    mtime_ns: int
    inode: int
    offset: int
    resume: dict[str, Any] | None


@dataclass
class ImportReport:
    """What an import found and stored."""

    reader: str
    dry_run: bool
    files_found: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_skipped: int = 0
    calls_found: int = 0
    calls_imported: int = 0
    broken_lines: int = 0
    tokens: int = 0
    cost: Decimal = Decimal(0)
    unpriced_calls: int = 0
    sessions_created: int = 0
    session_ids: set[int] = field(default_factory=set)
    unpriced_models: dict[tuple[str, str], int] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def calls_duplicate(self) -> int:
        """Calls found that were already stored."""
        return self.calls_found - self.calls_imported

    def warnings(self) -> list[dict[str, str]]:
        """Return the contract's warnings for this import."""
        found = [{"code": a["code"], "message": a["message"]} for a in self.alerts]
        for (provider, model), count in sorted(self.unpriced_models.items()):
            found.append(
                {
                    "code": "unpriced_model",
                    "message": f"no price for model '{model}' of provider "
                    f"'{provider}': {count} calls stored with an unknown cost",
                }
            )

        if self.broken_lines:
            found.append(
                {
                    "code": "broken_lines",
                    "message": f"{self.broken_lines} lines could not be read "
                    "and were skipped",
                }
            )

        return found


@dataclass
class ImportOptions:
    """How to run an import.

    Args:
        since: Only calls at or after this instant (ISO-8601 UTC).
        dry_run: Read and count, store nothing.
        target: Store every call in this session instead of one per agent session.
        progress: Called with the number of bytes read so far, and the total.
        state_name: Whose read positions to use; default the reader's name.
        record_skipped: Record how far files were read even when `since` left
            calls out (they are not wanted later either).
    """

    since: str | None = None
    dry_run: bool = False
    target: sqlite3.Row | None = None
    progress: Callable[[int, int], None] | None = None
    state_name: str | None = None
    record_skipped: bool = False


def run_import(
    conn: sqlite3.Connection, book: PriceBook, reader: LogReader, options: ImportOptions
) -> ImportReport:
    """Import every new call that `reader` finds.

    Each file is stored in its own transaction together with how far it was
    read, so an interrupted import loses nothing and repeats nothing.

    Returns:
        Counts of files, calls, tokens and cost.
    """
    report = ImportReport(reader.name, options.dry_run)
    states = load_states(conn, options.state_name or reader.name)
    store = _Store(conn, book, reader.name, options, report)

    pending = _pending_files(reader.files(), states, options.since, report)
    total = sum(stat.st_size - start for _, stat, start, _ in pending)

    done = 0
    for path, stat, start, resume in pending:
        done += stat.st_size - start
        read = _read_file(reader, path, start, resume, options.since)
        if read is None:
            # Unreadable now (removed, no permission): try again next time.
            report.files_skipped += 1
            continue
        result, end, skipped = read
        store.add(path, result, _state_after(stat, end, result), skipped)
        if options.progress:
            options.progress(done, total)

    return report


def _pending_files(
    paths: list[str],
    states: dict[str, FileState],
    since: str | None,
    report: ImportReport,
) -> list[tuple[Path, os.stat_result, int, dict[str, Any] | None]]:
    pending = []
    since_ns = _instant_ns(since) if since else None

    for path in paths:
        report.files_found += 1
        try:
            stat = os.stat(path)
        except OSError:
            report.files_skipped += 1
            continue

        state = states.get(path)
        if state and _unchanged(state, stat):
            report.files_unchanged += 1
            continue
        if since_ns is not None and stat.st_mtime_ns < since_ns:
            report.files_skipped += 1
            continue

        start, resume = _resume_point(state, stat)
        pending.append((Path(path), stat, start, resume))
    return pending


def _unchanged(state: FileState, stat: os.stat_result) -> bool:
    return (
        state.size == stat.st_size
        and state.mtime_ns == stat.st_mtime_ns
        and state.inode == stat.st_ino
    )


def _resume_point(
    state: FileState | None, stat: os.stat_result
) -> tuple[int, dict[str, Any] | None]:
    # A replaced or truncated file is read again from the start; external ids
    # keep what it repeats from being stored twice.
    if state is None or state.inode != stat.st_ino or stat.st_size < state.offset:
        return 0, None
    return state.offset, state.resume


def _instant_ns(text: str) -> int:
    return int(clock.parse_instant(text).timestamp() * 1_000_000_000)


def _state_after(stat: os.stat_result, end: int, result: FileResult) -> FileState:
    return FileState(stat.st_size, stat.st_mtime_ns, stat.st_ino, end, result.resume)


def _read_file(
    reader: LogReader,
    path: Path,
    start: int,
    resume: dict[str, Any] | None,
    since: str | None,
) -> tuple[FileResult, int, bool] | None:
    """Parse the new part of one file.

    Returns:
        The result, the offset reached and whether `since` left calls out; None
        when the file cannot be read.
    """
    position = [start]
    try:
        with path.open("rb") as handle:
            lines = matching_lines(handle, start, reader.needles, position)
            result = reader.parse(path, lines, resume)
    except OSError:
        return None

    if since is None:
        return result, position[0], False
    kept = [call for call in result.calls if call.timestamp >= since]
    skipped = len(kept) != len(result.calls)
    result.calls = kept
    return result, position[0], skipped


def matching_lines(
    handle: Any, start: int, needles: tuple[bytes, ...], position: list[int]
) -> Iterator[bytes]:
    """Yield the complete lines from `start` on that contain one of `needles`.

    Only lines that end with a newline count: a line still being written is left
    for the next run. `position[0]` is kept at the offset just past the last
    complete line seen, which is where the next run starts.

    Args:
        handle: A binary file.
        start: The byte offset to start at (the start of a line).
        needles: Byte strings; a line with none of them is skipped unparsed.
        position: A one-item list updated with the offset reached.
    """
    handle.seek(start)
    base, pending = start, b""
    while True:
        chunk = handle.read(CHUNK_BYTES)
        if not chunk:
            return

        buffer = pending + chunk
        last = buffer.rfind(b"\n")
        if last >= 0:
            yield from _lines_with(buffer[: last + 1], needles)
            base += last + 1
            position[0] = base
            pending = buffer[last + 1 :]
            continue

        if len(buffer) < LONG_LINE_BYTES:
            pending = buffer
            continue

        scanned = _scan_long_line(handle, buffer, needles)
        if scanned is None:
            return
        length, found = scanned

        if found:
            handle.seek(base)
            yield handle.read(length)[:-1]
        base += length
        position[0] = base
        handle.seek(base)
        pending = b""


def _scan_long_line(
    handle: Any, head: bytes, needles: tuple[bytes, ...]
) -> tuple[int, bool] | None:
    """Read to the end of a long line without keeping it.

    Returns:
        The line's length with its newline and whether it holds a needle, or
        None when the file ends first (the line is still being written).
    """
    keep = max(len(needle) for needle in needles) - 1
    length, found, tail = len(head), any(n in head for n in needles), head[-keep:]

    while True:
        chunk = handle.read(CHUNK_BYTES)
        if not chunk:
            return None

        newline = chunk.find(b"\n")
        part = chunk if newline < 0 else chunk[: newline + 1]
        found = found or any(n in tail + part for n in needles)
        length += len(part)
        if newline >= 0:
            return length, found
        tail = (tail + part)[-keep:]


def _lines_with(block: bytes, needles: tuple[bytes, ...]) -> Iterator[bytes]:
    """Yield each line of `block` (which ends with a newline) holding a needle."""
    hits = sorted(
        {line_start for needle in needles for line_start in _hit_lines(block, needle)}
    )
    for line_start in hits:
        end = block.find(b"\n", line_start)
        yield block[line_start:end]


def _hit_lines(block: bytes, needle: bytes) -> Iterator[int]:
    at = block.find(needle)
    while at >= 0:
        line_start = block.rfind(b"\n", 0, at) + 1
        yield line_start
        end = block.find(b"\n", at)
        at = block.find(needle, end + 1)


def load_states(conn: sqlite3.Connection, reader: str) -> dict[str, FileState]:
    """Return how far each file of one reader was read, by path."""
    rows = conn.execute(
        "SELECT path, size, mtime_ns, inode, byte_offset, resume FROM import_state"
        " WHERE reader = ?",
        (reader,),
    )
    return {
        row[0]: FileState(row[1], row[2], row[3], row[4], _loads(row[5]))
        for row in rows
    }


def _loads(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def _save_state(
    conn: sqlite3.Connection, reader: str, path: Path, state: FileState
) -> None:
    conn.execute(
        """INSERT INTO import_state (reader, path, size, mtime_ns, inode, byte_offset,
            resume, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (reader, path) DO UPDATE SET size = excluded.size,
            mtime_ns = excluded.mtime_ns, inode = excluded.inode,
            byte_offset = excluded.byte_offset, resume = excluded.resume,
            updated_at = excluded.updated_at""",
        (
            reader,
            str(path),
            state.size,
            state.mtime_ns,
            state.inode,
            state.offset,
            json.dumps(state.resume) if state.resume is not None else None,
            clock.now_iso(),
        ),
    )


_INSERT = """INSERT OR IGNORE INTO ai_usage (
    session_id, provider, model, model_requested, tokens, prompt_tokens,
    completion_tokens, cost, timestamp, agent_name, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, cost_source,
    estimated, input_rate, output_rate, cache_read_rate, cache_write_rate,
    cache_write_1h_rate, reasoning_rate, tier_above, source, external_id
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

# A log can hold an early, incomplete copy of a call (streaming) and, in a later
# run, the complete one; the complete copy replaces what this importer stored.
# Calls stored by anything else (a proxy, a hook, by hand) are never touched.
_UPGRADE = """UPDATE ai_usage SET tokens = ?, prompt_tokens = ?, completion_tokens = ?,
    cost = ?, cache_read_tokens = ?, cache_write_tokens = ?,
    cache_write_1h_tokens = ?, reasoning_tokens = ?
WHERE external_id = ? AND source = ? AND session_id = ? AND tokens < ?"""


class _Pricer:
    """Prices calls, resolving each provider and model once per import."""

    def __init__(self, book: PriceBook) -> None:
        self.book = book
        self._cache: dict[tuple[str, str], tuple[PriceSource, Resolved | None]] = {}

    def lookup(self, provider: str, model: str) -> tuple[PriceSource, Resolved | None]:
        key = (provider, model)
        if key not in self._cache:
            source = self.book.source_for(provider)
            self._cache[key] = (source, self.book.resolve(provider, model))
        return self._cache[key]

    def row(self, session_id: int, reader: str, call: FoundCall) -> tuple[Any, ...]:
        """Return the `ai_usage` values of one call, priced."""
        source, resolved = self.lookup(call.provider, call.model)
        usage = _usage(call, source)
        tokens = source.total_tokens(usage)

        rates: tuple[float | None, ...]
        if resolved is None:
            cost, cost_source, rates, tier = None, None, (None,) * 6, None
        else:
            priced = source.cost(usage, resolved.price)
            cost, cost_source = float(priced.cost_usd), resolved.source
            rates = tuple(float(getattr(priced.rates, name)) for name in _RATES)
            tier = priced.tier_above

        return (
            session_id, call.provider, resolved.model if resolved else call.model,
            call.model, tokens, usage.prompt_tokens, usage.completion_tokens, cost,
            call.timestamp, call.agent_name, usage.cache_read_tokens,
            usage.cache_write_tokens, usage.cache_write_1h_tokens,
            usage.reasoning_tokens, cost_source, *rates, tier, reader,
            call.external_id,
        )  # fmt: skip


_RATES = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning")


def _usage(call: FoundCall, source: PriceSource) -> Usage:
    """Build the call's `Usage`, clamping counts that break the provider's rules."""
    prompt, completion = call.prompt_tokens, call.completion_tokens
    read = call.cache_read_tokens
    if source.cache_in_prompt:
        read = min(read, prompt)

    reasoning = call.reasoning_tokens
    if source.reasoning_in_completion:
        reasoning = min(reasoning, completion)

    return Usage(
        provider=call.provider,
        model=call.model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cache_read_tokens=read,
        cache_write_tokens=call.cache_write_tokens,
        cache_write_1h_tokens=call.cache_write_1h_tokens,
        reasoning_tokens=reasoning,
    )


class _Store:
    """Writes what the files produced: sessions, calls, totals and file states."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        book: PriceBook,
        reader: str,
        options: ImportOptions,
        report: ImportReport,
    ) -> None:
        self.conn = conn
        self.reader = reader
        self.options = options
        self.report = report
        self.pricer = _Pricer(book)
        self.scopes: dict[str, Scope] = {}
        self._sessions: dict[str, int] | None = None
        self._dry_seen: set[str] = set()

    def add(
        self, path: Path, result: FileResult, state: FileState, skipped: bool
    ) -> None:
        """Store one file's calls and state in one transaction."""
        report = self.report
        report.files_read += 1
        report.broken_lines += result.broken_lines
        report.calls_found += len(result.calls)

        if self.options.dry_run:
            self._store_calls(result, write=False)
            return

        with transaction(self.conn):
            last_id = self.conn.execute("SELECT MAX(id) FROM ai_usage").fetchone()[0]
            touched = self._store_calls(result, write=True)
            self._refresh(touched)
            if self.options.target is not None:
                self._announce(last_id or 0)
            # A --since run that left calls out must read them again later.
            if self.options.record_skipped or not skipped:
                name = self.options.state_name or self.reader
                _save_state(self.conn, name, path, state)

    def _store_calls(self, result: FileResult, *, write: bool) -> set[int]:
        """Insert the calls not stored yet; upgrade our own incomplete copies."""
        known = self._existing([call.external_id for call in result.calls])
        if not write:
            # Nothing is stored in a dry run: remember what earlier files gave.
            known |= self._dry_seen & {call.external_id for call in result.calls}
            self._dry_seen.update(call.external_id for call in result.calls)

        touched = self._upgrade([c for c in result.calls if c.external_id in known])

        by_session: dict[int, list[tuple[Any, ...]]] = {}
        for call in result.calls:
            if call.external_id in known:
                continue
            session_id = self._session_for(call, result.sessions, write=write)
            row = self.pricer.row(session_id, self.reader, call)
            by_session.setdefault(session_id, []).append(row)
            self._count(row)

        if write:
            for rows in by_session.values():
                for start in range(0, len(rows), BATCH_ROWS):
                    self.conn.executemany(_INSERT, rows[start : start + BATCH_ROWS])

        return touched | set(by_session)

    def _announce(self, after_id: int) -> None:
        """Queue events and check budgets for calls logged into a live session.

        Like `cs log-ai`, in the transaction that stored them, so each budget
        threshold fires once. A bulk import of past sessions does neither.
        """
        from . import budgets, events

        target_id = int(self.options.target["id"])  # type: ignore[index]
        new = self.conn.execute(
            "SELECT id, timestamp FROM ai_usage WHERE session_id = ? AND id > ?"
            " ORDER BY id",
            (target_id, after_id),
        ).fetchall()
        if not new:
            return
        for row in new:
            events.record_call(self.conn, row[0])
        session = self.conn.execute(
            "SELECT * FROM sessions WHERE id = ?", (target_id,)
        ).fetchone()
        alerts = budgets.evaluate(self.conn, session, new[-1][0], new[-1][1])
        self.report.alerts.extend(alerts)

    def _existing(self, external_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(external_ids), 500):
            chunk = external_ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT external_id FROM ai_usage WHERE external_id IN ({marks})",
                chunk,
            )
            found.update(row[0] for row in rows)

        return found

    def _upgrade(self, calls: list[FoundCall]) -> set[int]:
        """Replace incomplete copies this importer stored earlier (streaming)."""
        touched = set()

        for call in calls:
            session_id = self._existing_session(call)
            if session_id is None:
                continue
            row = self.pricer.row(session_id, self.reader, call)
            values = (*row[4:8], *row[10:14], row[23], row[22], row[0], row[4])
            if (
                not self.options.dry_run
                and self.conn.execute(_UPGRADE, values).rowcount
            ):
                touched.add(session_id)

        return touched

    def _existing_session(self, call: FoundCall) -> int | None:
        if self.options.target is not None:
            return int(self.options.target["id"])
        return self._known_sessions().get(call.session_key)

    def _count(self, row: tuple[Any, ...]) -> None:
        report = self.report
        report.calls_imported += 1
        report.tokens += row[4]
        if row[7] is None:
            report.unpriced_calls += 1
            key = (row[1], row[3])
            report.unpriced_models[key] = report.unpriced_models.get(key, 0) + 1
        else:
            report.cost += Decimal(repr(row[7]))

    def _session_for(
        self, call: FoundCall, found: dict[str, FoundSession], *, write: bool
    ) -> int:
        if self.options.target is not None:
            return int(self.options.target["id"])

        sessions = self._known_sessions()
        key = call.session_key
        if key not in sessions:
            # Asked again inside the write lock: another import may have made it.
            row = self.conn.execute(
                "SELECT id FROM sessions WHERE source = ? AND external_id = ?",
                (self.reader, key),
            ).fetchone()
            if row is not None:
                sessions[key] = row[0]
                return sessions[key]

            info = found.get(key) or FoundSession(key, "")
            sessions[key] = self._create_session(info, call.timestamp) if write else 0
            self.report.sessions_created += 1
        return sessions[key]

    def _known_sessions(self) -> dict[str, int]:
        if self._sessions is None:
            rows = self.conn.execute(
                "SELECT external_id, id FROM sessions WHERE source = ?", (self.reader,)
            )
            self._sessions = {row[0]: row[1] for row in rows}
        return self._sessions

    def _create_session(self, info: FoundSession, stamp: str) -> int:
        scope = self._scope(info.cwd)
        # Nothing watched the agent's files or commits: NULL, not a made-up 0.
        cursor = self.conn.execute(
            """INSERT INTO sessions (name, start_time, end_time, duration,
                working_directory, git_root, files_changed, commits, ai_cost,
                ai_tokens, status, scope, project_root, branch, last_activity_at,
                end_reason, source, external_id)
            VALUES (?, ?, ?, 0, ?, ?, NULL, NULL, 0, 0, 'completed', ?, ?, ?, ?,
                'ended', ?, ?)""",
            (
                info.name or f"{self.reader} {info.key[:8]}",
                stamp,
                stamp,
                scope.working_directory,
                scope.git_root,
                scope.scope,
                scope.project_root,
                info.branch,
                stamp,
                self.reader,
                info.key,
            ),
        )

        return int(cursor.lastrowid or 0)

    def _scope(self, cwd: str | None) -> Scope:
        """The scope of an agent's folder: its repository while it still exists."""
        folder = cwd or ""
        if folder not in self.scopes:
            if folder and os.path.isdir(folder):
                self.scopes[folder] = resolve_scope(folder)
            else:
                self.scopes[folder] = Scope(folder, folder, None, folder, None)
        return self.scopes[folder]

    def _refresh(self, sessions: set[int]) -> None:
        """Recompute the totals (and for imported sessions the span) of sessions."""
        for session_id in sessions:
            self.report.session_ids.add(session_id)
            self.conn.execute(_TOTALS, (session_id, session_id, session_id))
            if self.options.target is None:
                self.conn.execute(_SPAN, (session_id, session_id))
            else:
                touch(self.conn, session_id)


_TOTALS = """UPDATE sessions SET
    ai_cost = (SELECT COALESCE(SUM(cost), 0) FROM ai_usage WHERE session_id = ?),
    ai_tokens = (SELECT COALESCE(SUM(tokens), 0) FROM ai_usage WHERE session_id = ?)
WHERE id = ?"""

_SPAN = """UPDATE sessions SET
    start_time = span.first, end_time = span.last, last_activity_at = span.last,
    duration = CAST(ROUND((julianday(span.last) - julianday(span.first)) * 86400000)
        AS INTEGER) / 1000
FROM (SELECT MIN(timestamp) AS first, MAX(timestamp) AS last FROM ai_usage
      WHERE session_id = ?) AS span
WHERE sessions.id = ? AND span.first IS NOT NULL"""


def normalize_timestamp(value: Any) -> str | None:
    """Return a log timestamp as the stored form (`2026-03-02T10:15:30.123Z`).

    A time before any AI coding agent existed, or later than tomorrow, is a
    broken line too: stored, it would stretch a session over centuries and
    make every per-day report walk through them.

    Returns:
        The timestamp, or None when it is not a plausible ISO-8601 instant.
    """
    if not isinstance(value, str):
        return None
    if len(value) == 24 and value[10] == "T" and value[23] == "Z" and value[19] == ".":
        stamp = value
    else:
        try:
            stamp = clock.to_iso(clock.parse_instant(value))
        except InvalidInputError:
            return None
    # Stored timestamps sort as strings, so plain comparisons bound them.
    if not EARLIEST_TIMESTAMP <= stamp <= _latest_timestamp():
        return None
    return stamp


_latest: dict[tuple[str | None, int], str] = {}


def _latest_timestamp() -> str:
    """Return the latest plausible timestamp: now plus a day.

    Computed once a minute (per pinned `CODESESSION_NOW`), since a log holds
    hundreds of thousands of lines and a minute's drift is nothing next to a day.
    """
    key = (os.environ.get(clock.NOW_ENV), int(time.time()) // 60)
    if key not in _latest:
        _latest.clear()
        _latest[key] = clock.to_iso(clock.now() + MAX_AHEAD)
    return _latest[key]


def since_bound(text: str | None) -> str | None:
    """Turn a `--since` value (a date or an instant) into a stored-timestamp bound.

    Raises:
        InvalidInputError: Not a date or an instant.
    """
    if not text:
        return None
    from .periods import parse_bound

    zone, _ = clock.display_zone()
    return parse_bound(text, zone, end=False)


def import_logs(
    reader: LogReader, *, since: str | None, dry_run: bool, json_mode: bool
) -> None:
    """Run `cs import <agent>`: import every new call of one reader and report.

    Raises:
        InvalidInputError: `since` is not a date or an instant.
    """
    from . import output
    from .db import connect
    from .pricing import load_price_book

    bound = since_bound(since)
    conn = connect()
    with _ProgressBar(enabled=not json_mode) as progress:
        options = ImportOptions(since=bound, dry_run=dry_run, progress=progress)
        report = run_import(conn, load_price_book(), reader, options)
    payload = report_payload(report)
    if json_mode:
        output.emit_json(output.envelope({**payload, "warnings": report.warnings()}))
        return
    output.write_stdout(_summary_line(report) + "\n")
    output.warn(report.warnings())


def report_payload(report: ImportReport) -> dict[str, Any]:
    """Return the JSON keys of an import report (camelCase, as the contract)."""
    from . import output

    return {
        "source": report.reader,
        "dryRun": report.dry_run,
        "files": {
            "found": report.files_found,
            "read": report.files_read,
            "unchanged": report.files_unchanged,
            "skipped": report.files_skipped,
        },
        "calls": {
            "found": report.calls_found,
            "imported": report.calls_imported,
            "duplicates": report.calls_duplicate,
            "unpriced": report.unpriced_calls,
        },
        "sessions": {
            "created": report.sessions_created,
            "ids": sorted(report.session_ids),
        },
        "tokens": report.tokens,
        "cost": output.money(report.cost),
        "brokenLines": report.broken_lines,
    }


def _summary_line(report: ImportReport) -> str:
    from . import output

    verb = "Would import" if report.dry_run else "Imported"
    return (
        f"{verb} {report.calls_imported:,} new {report.reader} calls "
        f"({report.calls_duplicate:,} already recorded) from {report.files_read:,} "
        f"of {report.files_found:,} files into {report.sessions_created:,} new "
        f"sessions: {output.format_tokens(report.tokens)} tokens, "
        f"{output.format_usd(report.cost)}"
    )


class _ProgressBar:
    """A rich progress bar on stderr, only for a person watching a terminal."""

    def __init__(self, *, enabled: bool) -> None:
        import sys

        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.enabled:
            return None
        # rich costs about 40 ms to import: only a terminal run pays for it.
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        from . import output

        self.bar = Progress(
            TextColumn("Reading logs"),
            BarColumn(),
            DownloadColumn(),
            console=output.console(stderr=True),
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("read", total=None)
        return self._update

    def _update(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def log_into_active_session(
    reader: LogReader, cwd: str | None, *, json_mode: bool
) -> None:
    """Run `cs auto-log`: import a transcript's new calls into the active session.

    Only calls made since the session started count. Without an active session
    nothing is read and nothing is recorded, so a later session does not
    inherit calls made outside it.
    """
    from . import output
    from .db import connect
    from .pricing import load_price_book
    from .sessions import active_in_scope, get_session, parse_session_id

    conn = connect()
    scope = resolve_scope(cwd)
    explicit = os.environ.get("CODESESSION_SESSION")
    target: sqlite3.Row | None
    if explicit:
        target = get_session(conn, parse_session_id(explicit))
    else:
        target = active_in_scope(conn, scope.scope)
    if target is None:
        _report_no_session(scope, json_mode)
        return
    options = ImportOptions(
        since=target["start_time"],
        target=target,
        state_name=f"auto-log:{reader.name}",
        record_skipped=True,
    )
    report = run_import(conn, load_price_book(), reader, options)
    _deliver(conn, report, json_mode)
    session = get_session(conn, int(target["id"]))
    payload = {
        **report_payload(report),
        "session": {
            "id": session["id"],
            "aiCost": output.money(session["ai_cost"]),
            "aiTokens": session["ai_tokens"],
        },
    }
    if json_mode:
        output.emit_json(output.envelope({**payload, "warnings": report.warnings()}))
        return
    output.write_stdout(
        f"Logged {report.calls_imported:,} {reader.name} calls into session "
        f"#{session['id']}: {output.format_tokens(report.tokens)} tokens, "
        f"{output.format_usd(report.cost)}\n"
    )
    output.warn(report.warnings())


def _deliver(conn: sqlite3.Connection, report: ImportReport, json_mode: bool) -> None:
    """After the commit: hand queued events and fired budget alerts to their sinks."""
    from . import budgets, events

    events.deliver_later(conn)
    if budgets.deliver(conn, report.alerts, terminal=not json_mode):
        # The terminal sink has shown them; do not print them again.
        report.alerts.clear()


def _report_no_session(scope: Scope, json_mode: bool) -> None:
    from . import output

    warning = {
        "code": "no_active_session",
        "message": f"no active session in {scope.scope}: nothing logged",
    }
    if json_mode:
        output.emit_json(output.envelope({"session": None, "warnings": [warning]}))
    else:
        output.warn([warning])
