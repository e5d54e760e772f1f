"""Processes killed mid-write and many writers at once: the database stays intact,
every acknowledged call is stored, and totals stay exact."""

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CALL = [sys.executable, "-m", "cs_core", "log-ai", "-p", "anthropic", "-m",
        "claude-haiku-4-5", "--prompt-tokens", "1000", "--completion-tokens", "100",
        "--json"]  # fmt: skip


def start(repo: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "cs_core", "start", "crash", "--json"],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


def killed_at_random(repo: Path, delay_s: float) -> int | None:
    """Run one log-ai, SIGKILL it after `delay_s`.

    Returns the call id if acknowledged.
    """
    proc = subprocess.Popen(
        CALL, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(delay_s)
    with contextlib.suppress(ProcessLookupError):  # it finished first
        os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    if proc.returncode != 0 or not out:
        return None
    return json.loads(out)["logged"]["id"]


def test_killed_writers_leave_the_database_intact(
    git_repo: Path, cs_home: Path
) -> None:
    start(git_repo)
    rng = random.Random(20261204)
    delays = [rng.uniform(0.0, 0.4) for _ in range(40)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        acknowledged = [
            i for i in pool.map(lambda d: killed_at_random(git_repo, d), delays) if i
        ]

    conn = sqlite3.connect(cs_home / "sessions.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {row[0] for row in conn.execute("SELECT id FROM ai_usage")}
    assert set(acknowledged) <= stored
    count, cost, tokens = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(cost), 0), COALESCE(SUM(tokens), 0)"
        " FROM ai_usage"
    ).fetchone()
    session_cost, session_tokens = conn.execute(
        "SELECT ai_cost, ai_tokens FROM sessions"
    ).fetchone()
    assert round(session_cost, 10) == round(cost, 10) == round(0.0015 * count, 10)
    assert session_tokens == tokens == 1100 * count


def test_eight_processes_logging_at_once(git_repo: Path, cs_home: Path) -> None:
    start(git_repo)
    script = (
        "import sys\n"
        "from cs_core.cli import run\n"
        "for n in range(25):\n"
        "    assert run(sys.argv[1:-1] + ['--agent', f'w{sys.argv[-1]}-{n}']) == 0\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, *CALL[3:], str(w)],
                         cwd=git_repo, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
        for w in range(8)
    ]  # fmt: skip

    errors = [w.communicate()[1] for w in workers]

    assert [w.returncode for w in workers] == [0] * 8, errors
    assert not any(b"locked" in e for e in errors)
    conn = sqlite3.connect(cs_home / "sessions.db")
    count, cost = conn.execute("SELECT COUNT(*), SUM(cost) FROM ai_usage").fetchone()
    assert count == 200
    assert round(cost, 10) == 0.3
    assert round(conn.execute("SELECT ai_cost FROM sessions").fetchone()[0], 10) == 0.3
