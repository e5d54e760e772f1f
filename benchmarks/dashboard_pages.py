"""Server time of every dashboard page on a big database.

Run: python benchmarks/dashboard_pages.py [--sessions 100000] [--calls 1000000]
     [--runs 5] [--keep DIR]

It fills a throw-away data folder with sessions, AI calls, file changes,
commits and notes spread over a year (bulk inserts with executemany, about a
minute), starts `cs dashboard` on 127.0.0.1 and times each page: the first
request (cold caches) and the median of the next runs. The goal is under
200 ms per page.
"""

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

NOW = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
GOAL_MS = 200
MODELS = [
    ("anthropic", "claude-sonnet-4-5", 3.0, 15.0),
    ("anthropic", "claude-opus-4-6", 5.0, 25.0),
    ("anthropic", "claude-haiku-3.5", 0.8, 4.0),
    ("openai", "gpt-5", 1.25, 10.0),
    ("openai", "gpt-4o-mini", 0.15, 0.6),
    ("google", "gemini-2.5-pro", 1.25, 10.0),
    ("deepseek", "deepseek-v3", 0.27, 1.1),
    ("openai", "internal-preview", None, None),
]
AGENTS = ["claude-code", "codex", "cursor", "aider", "gemini-cli", None]
PROJECTS = [f"/home/dev/src/project-{n:02d}" for n in range(40)]
FILES = [f"src/module_{n:03d}.py" for n in range(400)]
TASKS = ["Fix", "Add", "Refactor", "Speed up", "Document", "Test", "Remove"]
THINGS = ["login", "billing", "search", "cache", "export", "parser", "CLI", "API"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def fill(path: Path, sessions: int, calls: int, seed: int = 7) -> None:
    """Create the schema through cs, then bulk-insert a year of history."""
    os.environ["CODESESSION_HOME"] = str(path.parent)
    from cs_core.db import connect

    connect(path).close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    starts = _sessions(conn, rng, sessions)
    _calls(conn, rng, starts, calls)
    _files_commits_notes(conn, rng, starts)
    _budgets(conn)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _sessions(conn: sqlite3.Connection, rng: random.Random, count: int) -> list:
    first = NOW - timedelta(days=365)
    starts = []
    rows = []
    for sid in range(1, count + 1):
        start = first + timedelta(seconds=rng.randrange(365 * 86400 - 7200))
        duration = rng.randrange(300, 4 * 3600)
        active = sid > count - 3
        project = rng.choice(PROJECTS)
        starts.append((sid, start, duration))
        rows.append(
            (
                sid,
                f"{rng.choice(TASKS)} {rng.choice(THINGS)} #{sid}",
                iso(start),
                None if active else iso(start + timedelta(seconds=duration)),
                None if active else duration,
                project,
                project,
                rng.randrange(0, 12),
                rng.randrange(0, 4),
                "active" if active else "completed",
                project,
                project,
                "main",
                None if active else "ended",
            )
        )
    conn.executemany(
        """INSERT INTO sessions (id, name, start_time, end_time, duration,
            working_directory, git_root, files_changed, commits, status, scope,
            project_root, branch, end_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        rows,
    )
    return starts


def _calls(
    conn: sqlite3.Connection, rng: random.Random, starts: list, count: int
) -> None:
    totals: dict[int, list[float]] = {}
    batch = []
    for cid in range(1, count + 1):
        sid, start, duration = starts[rng.randrange(len(starts))]
        # About one call in a hundred is of a model without a price.
        provider, model, price_in, price_out = MODELS[
            -1 if rng.random() < 0.01 else rng.randrange(len(MODELS) - 1)
        ]
        prompt, completion = rng.randrange(500, 60_000), rng.randrange(100, 8_000)
        cost = None
        if price_in is not None:
            cost = round((prompt * price_in + completion * price_out) / 1e6, 10)
        at = start + timedelta(seconds=rng.randrange(duration))
        source = "built-in" if cost is not None else None
        batch.append(
            (cid, sid, provider, model, prompt + completion, prompt, completion, cost,
             iso(at), rng.choice(AGENTS), model, source)
        )  # fmt: skip
        total = totals.setdefault(sid, [0.0, 0])
        total[0] += cost or 0
        total[1] += prompt + completion
        if len(batch) == 50_000:
            _insert_calls(conn, batch)
            batch = []
    _insert_calls(conn, batch)
    conn.executemany(
        "UPDATE sessions SET ai_cost = ?, ai_tokens = ? WHERE id = ?",
        [(cost, tokens, sid) for sid, (cost, tokens) in totals.items()],
    )


def _insert_calls(conn: sqlite3.Connection, batch: list) -> None:
    conn.executemany(
        """INSERT INTO ai_usage (id, session_id, provider, model, tokens, prompt_tokens,
            completion_tokens, cost, timestamp, agent_name, model_requested,
            cost_source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        batch,
    )


def _files_commits_notes(
    conn: sqlite3.Connection, rng: random.Random, starts: list
) -> None:
    files, commits, notes = [], [], []
    for sid, start, duration in starts:
        end = iso(start + timedelta(seconds=duration))
        for path in rng.sample(FILES, rng.randrange(0, 5)):
            files.append(
                (sid, path, rng.choice(["created", "modified", "deleted"]), end)
            )
        for n in range(rng.randrange(0, 3)):
            commits.append(
                (sid, f"{rng.getrandbits(160):040x}", f"Commit {n} of #{sid}", end)
            )
        if rng.random() < 0.3:
            notes.append((sid, f"Note on session {sid}", end))
    conn.executemany(
        "INSERT INTO file_changes (session_id, file_path, change_type, timestamp)"
        " VALUES (?,?,?,?)",
        files,
    )
    conn.executemany(
        "INSERT INTO commits (session_id, hash, message, timestamp) VALUES (?,?,?,?)",
        commits,
    )
    conn.executemany(
        "INSERT INTO session_notes (session_id, message, timestamp) VALUES (?,?,?)",
        notes,
    )


def _budgets(conn: sqlite3.Connection) -> None:
    stamp = iso(NOW)
    conn.executemany(
        """INSERT OR REPLACE INTO budgets (scope, period, limit_usd, warn_at_percent,
            created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)""",
        [
            ("", "daily", 25.0, 80.0, stamp, stamp),
            ("", "monthly", 500.0, 80.0, stamp, stamp),
            ("", "total", 50_000.0, None, stamp, stamp),
            (PROJECTS[0], "weekly", 50.0, None, stamp, stamp),
        ],
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(home: Path) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ,
        "CODESESSION_HOME": str(home),
        "CODESESSION_TZ": "Europe/Paris",
        "CODESESSION_NOW": iso(NOW),
    }
    env.pop("CODESESSION_DB_PATH", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cs_core", "dashboard", "--no-open", "--json",
         "--port", str(free_port())],
        stdout=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    info = json.loads(proc.stdout.readline())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", info["port"]), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, info["url"].rstrip("/")


def pages(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        busy = conn.execute(
            "SELECT session_id FROM ai_usage GROUP BY session_id ORDER BY COUNT(*) DESC"
            " LIMIT 1"
        ).fetchone()[0]
    return [
        ("Overview", "/"),
        ("Sessions", "/-/cs/sessions"),
        ("Sessions sorted by cost", "/-/cs/sessions?sort=cost&dir=desc"),
        ("Sessions search", "/-/cs/sessions?q=billing"),
        ("Sessions page 2000", "/-/cs/sessions?page=2000"),
        ("Session", f"/-/cs/sessions/{busy}"),
        ("Models", "/-/cs/models"),
        ("Insights", "/-/cs/insights"),
        ("Alerts", "/-/cs/alerts"),
        ("Alerts status (poll)", "/-/cs/alerts/status.json"),
        ("Start Fresh", "/-/cs/fresh"),
    ]


def server_ms(response: httpx.Response) -> tuple[float, float]:
    """Return the dashboard's Server-Timing figures: wall and CPU milliseconds."""
    header = response.headers["server-timing"]
    parts = dict(item.strip().split(";dur=") for item in header.split(","))
    return float(parts["app"]), float(parts["cpu"])


def measure(base: str, targets: list[tuple[str, str]], runs: int) -> list[tuple]:
    """Time each page: server time of the first request and medians of the rest.

    CPU is the server process's CPU time during the request (all its threads),
    which other load on the machine disturbs less than wall time. Each request
    opens a new connection, so the client's wall time has no keep-alive
    delayed-ACK stall in it.
    """
    results = []
    for name, path in targets:
        server, cpu, wall = [], [], []
        for _ in range(runs + 1):
            start = time.perf_counter()
            response = httpx.get(base + path, timeout=120)
            wall.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            elapsed, used = server_ms(response)
            server.append(elapsed)
            cpu.append(used)
        medians = [statistics.median(values[1:]) for values in (server, cpu, wall)]
        results.append((name, server[0], *medians))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="reuse or keep the data folder here")
    args = parser.parse_args()

    home = args.keep or Path(tempfile.mkdtemp(prefix="cs-bench-dashboard-"))
    db = home / "sessions.db"
    if not db.exists():
        home.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        fill(db, args.sessions, args.calls)
        print(f"filled {db} in {time.perf_counter() - start:.0f} s")
    proc, base = serve(home)
    try:
        results = measure(base, pages(db), args.runs)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)

    print(f"{'page':26} {'first':>7} {'median':>7} {'cpu':>7} {'client':>7}")
    for name, first, median, cpu, wall in results:
        mark = "ok" if median < GOAL_MS else "over the goal"
        print(f"{name:26} {first:7.0f} {median:7.0f} {cpu:7.0f} {wall:7.0f}   {mark}")
    load = os.getloadavg()[0]
    print(
        "ms: server time of the first request and median of the rest, server CPU"
        f" and client wall time (medians); goal < {GOAL_MS} ms server time."
        f" Load average {load:.1f} on {os.cpu_count()} CPUs."
    )


if __name__ == "__main__":
    main()
