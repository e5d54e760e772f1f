"""`cs start` without `--json`: the live process, run for real as a subprocess.

Each test starts `cs start` in a temporary folder, changes files (names with spaces
and non-ASCII characters), commits, and ends the session one of the three ways:
Ctrl+C (SIGINT), SIGTERM, or `cs end` from another process. Waits poll the
database with a deadline; nothing sleeps blindly.
"""

import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import commit_file, git

DEADLINE_S = 15.0


class LiveProcess:
    """A `cs start` subprocess whose stdout is collected line by line."""

    def __init__(
        self, *argv: str, cwd: Path, env: dict[str, str] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cs_core", "start", *argv],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode("utf-8"))

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> None:
        """Wait until the watcher has its baseline and reports it."""
        wait_until(lambda: "Watcher: watching" in self.stdout, what="watcher ready")

    def finish(self, send: int | None = None) -> tuple[int, str, str]:
        """Optionally signal the process, then wait for it to exit."""
        if send is not None:
            self.proc.send_signal(send)
        code = self.proc.wait(timeout=DEADLINE_S)
        self.reader.join(DEADLINE_S)
        assert self.proc.stderr is not None
        return code, self.stdout, self.proc.stderr.read().decode("utf-8")

    def close(self) -> None:
        """Kill the process if it still runs, and close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE_S)
        self.reader.join(DEADLINE_S)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def wait_until(check: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> Any:
    """Poll `check` every 50 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Iterator[Callable[..., LiveProcess]]:
    """Start live processes; kill any still running at the end of the test."""
    started: list[LiveProcess] = []

    def start(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> LiveProcess:
        process = LiveProcess(*argv, cwd=cwd, env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()


def query(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home / "sessions.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def files_of(home: Path) -> set[tuple[str, str, str | None]]:
    return set(query(home, "SELECT file_path, change_type, old_path FROM file_changes"))


def commits_of(home: Path) -> list[tuple[str, str]]:
    return query(home, "SELECT hash, message FROM commits ORDER BY id")


def session_of(home: Path) -> dict[str, Any]:
    conn = sqlite3.connect(home / "sessions.db")
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM sessions ORDER BY id DESC").fetchone())
    finally:
        conn.close()


def status_runs(trace: Path) -> int:
    """How many end-of-session scans a trace shows.

    A scan compares the index with the start (`diff-index --cached
    --name-status`); the start snapshot also runs `git status`, so that is not
    what is counted.
    """
    if not trace.exists():
        return 0
    lines = trace.read_text(encoding="utf-8", errors="replace").splitlines()
    return sum(
        "built-in: git diff-index --cached" in line and "--name-status" in line
        for line in lines
    )


@pytest.fixture
def repo(git_repo: Path) -> Path:
    """The shared repository plus tracked files to change and an ignore file."""
    (git_repo / ".gitignore").write_text("*.log\nbuild/\n", encoding="utf-8")
    (git_repo / "keep.txt").write_text("keep\n", encoding="utf-8")
    (git_repo / "gone.txt").write_text("gone\n", encoding="utf-8")
    (git_repo / "old name.txt").write_text("moving\n", encoding="utf-8")
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "tracked files")
    return git_repo


def change_tree(repo: Path) -> str:
    """Create, modify, delete, rename, ignore and commit; return the commit hash."""
    (repo / "new file ü.txt").write_text("new\n", encoding="utf-8")
    with (repo / "keep.txt").open("a", encoding="utf-8") as handle:
        handle.write("more\n")
    (repo / "gone.txt").unlink()
    git(repo, "mv", "old name.txt", "renamed ü.txt")
    (repo / "debug.log").write_text("ignored\n", encoding="utf-8")
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_bytes(b"\0ignored")
    return commit_file(repo, "src/committed.py", "x = 1\n", "add committed.py")


EXPECTED_REPO_FILES = {
    ("new file ü.txt", "created", None),
    ("keep.txt", "modified", None),
    ("gone.txt", "deleted", None),
    ("renamed ü.txt", "renamed", "old name.txt"),
    ("src/committed.py", "created", None),
}


def test_ctrl_c_ends_the_session_with_exactly_one_scan(
    repo: Path, cs_home: Path, tmp_path: Path, live
) -> None:
    trace = tmp_path / "git-trace.txt"
    process = live("ctrl-c", "--poll-interval", "0.3", cwd=repo,
                   env={"GIT_TRACE": str(trace)})  # fmt: skip
    process.wait_ready()

    head = change_tree(repo)
    watched = wait_until(
        lambda: files_of(cs_home) == EXPECTED_REPO_FILES and commits_of(cs_home),
        what="watcher and poller rows",
    )
    before_end = status_runs(trace)
    code, out, err = process.finish(signal.SIGINT)

    assert watched == [(head, "add committed.py")]
    assert before_end == 0
    assert (code, err) == (0, "")
    assert status_runs(trace) == 1
    assert files_of(cs_home) == EXPECTED_REPO_FILES
    assert commits_of(cs_home) == [(head, "add committed.py")]
    session = session_of(cs_home)
    assert (session["status"], session["end_reason"]) == ("completed", "interrupted")
    assert (session["files_changed"], session["commits"]) == (5, 1)
    assert "completed (interrupted)" in out
    assert "renamed   renamed ü.txt" in out


def test_sigterm_ends_the_session_outside_a_repository(
    tmp_path: Path, cs_home: Path, live
) -> None:
    folder = tmp_path / "plain folder"
    folder.mkdir()
    for name in ("edit me.txt", "delete me.txt", "move me.txt", "saved.txt"):
        (folder / name).write_text("start\n", encoding="utf-8")
    process = live("sigterm", cwd=folder)
    process.wait_ready()

    (folder / "café notes.md").write_text("new\n", encoding="utf-8")
    (folder / "edit me.txt").write_text("changed\n", encoding="utf-8")
    (folder / "delete me.txt").unlink()
    (folder / "move me.txt").rename(folder / "moved ü.txt")
    (folder / "scratch.tmp").write_text("gone soon\n", encoding="utf-8")
    (folder / "scratch.tmp").unlink()
    # An editor's save: write a temporary file, then rename it over the original.
    (folder / ".saved.txt.swp").write_text("saved\n", encoding="utf-8")
    os.replace(folder / ".saved.txt.swp", folder / "saved.txt")
    expected = {
        ("café notes.md", "created", None),
        ("edit me.txt", "modified", None),
        ("delete me.txt", "deleted", None),
        ("moved ü.txt", "renamed", "move me.txt"),
        ("saved.txt", "modified", None),
    }
    wait_until(lambda: files_of(cs_home) == expected, what="watcher rows")
    code, out, err = process.finish(signal.SIGTERM)

    assert (code, err) == (0, "")
    assert files_of(cs_home) == expected
    session = session_of(cs_home)
    assert (session["status"], session["end_reason"]) == ("completed", "interrupted")
    assert (session["files_changed"], session["commits"]) == (5, None)
    assert "Files changed │ 5" in out


def test_a_change_just_before_sigterm_is_kept(
    tmp_path: Path, cs_home: Path, live
) -> None:
    folder = tmp_path / "last second"
    folder.mkdir()
    process = live("last second", cwd=folder)
    process.wait_ready()

    (folder / "last.txt").write_text("x\n", encoding="utf-8")
    code, _, _ = process.finish(signal.SIGTERM)

    assert code == 0
    assert files_of(cs_home) == {("last.txt", "created", None)}
    assert list((cs_home / "live").iterdir()) == []


def test_watcher_survives_a_file_name_that_is_not_utf8(
    tmp_path: Path, cs_home: Path, live
) -> None:
    folder = tmp_path / "bytes"
    folder.mkdir()
    process = live("bytes", cwd=folder)
    process.wait_ready()

    # watchfiles raises on this name; the watcher starts again and catches up.
    (folder / os.fsdecode(b"bad\xff.txt")).write_bytes(b"x")
    (folder / "same batch.txt").write_text("x\n", encoding="utf-8")
    wait_until(lambda: files_of(cs_home), what="the first row")
    (folder / "later.txt").write_text("x\n", encoding="utf-8")
    expected = {("same batch.txt", "created", None), ("later.txt", "created", None)}
    wait_until(lambda: files_of(cs_home) == expected, what="rows after the restart")
    code, _, err = process.finish(signal.SIGTERM)

    assert (code, err) == (0, "")
    assert files_of(cs_home) == expected


def test_cs_end_elsewhere_stops_the_live_process_without_a_second_scan(
    repo: Path, cs_home: Path, tmp_path: Path, live
) -> None:
    trace = tmp_path / "git-trace.txt"
    process = live("ended elsewhere", "--poll-interval", "0.3", cwd=repo,
                   env={"GIT_TRACE": str(trace)})  # fmt: skip
    process.wait_ready()
    head = change_tree(repo)
    wait_until(lambda: commits_of(cs_home), what="the poller's commit row")

    ended = subprocess.run(
        [sys.executable, "-m", "cs_core", "end", "--json"],
        cwd=repo, capture_output=True, timeout=DEADLINE_S, check=False,
    )  # fmt: skip
    ended_at = time.monotonic()
    code, out, err = process.finish()
    noticed_s = time.monotonic() - ended_at

    assert ended.returncode == 0, ended.stderr
    assert (code, err) == (0, "")
    assert noticed_s < 2.0
    assert status_runs(trace) == 0
    assert files_of(cs_home) == EXPECTED_REPO_FILES
    assert commits_of(cs_home) == [(head, "add committed.py")]
    session = session_of(cs_home)
    assert (session["end_reason"], session["files_changed"], session["commits"]) == (
        "ended", 5, 1,
    )  # fmt: skip
    assert "completed (ended)" in out


def test_resume_reattaches_to_the_active_session(
    repo: Path, cs_home: Path, run_cs, live
) -> None:
    started = run_cs("start", "first", "--json", cwd=repo).json
    process = live("ignored name", "--resume", cwd=repo)
    process.wait_ready()

    (repo / "after resume.txt").write_text("x\n", encoding="utf-8")
    wait_until(lambda: files_of(cs_home), what="watcher row")
    code, out, _ = process.finish(signal.SIGINT)

    assert code == 0
    assert f"Resumed session #{started['id']} 'first'" in out
    assert files_of(cs_home) == {("after resume.txt", "created", None)}
    assert query(cs_home, "SELECT COUNT(*) FROM sessions") == [(1,)]


def test_a_second_live_process_views_without_watching_twice(
    repo: Path, cs_home: Path, live
) -> None:
    first = live("watched", cwd=repo)
    first.wait_ready()
    second = live("ignored name", "--resume", cwd=repo)
    wait_until(lambda: "watched by another cs process" in second.stdout, "view only")

    (repo / "once.txt").write_text("x\n", encoding="utf-8")
    (repo / "once.txt").unlink()
    (repo / "kept.txt").write_text("x\n", encoding="utf-8")
    wait_until(lambda: files_of(cs_home), what="the watcher row")
    code, out, _ = second.finish(signal.SIGINT)
    first_code, first_out, _ = first.finish()

    assert (code, first_code) == (0, 0)
    assert files_of(cs_home) == {("kept.txt", "created", None)}
    assert "completed (interrupted)" in out
    assert "completed (interrupted)" in first_out


def test_piped_output_gets_plain_lines(repo: Path, cs_home: Path, live) -> None:
    process = live("piped", cwd=repo)
    process.wait_ready()

    code, out, _ = process.finish(signal.SIGINT)

    assert code == 0
    assert "\x1b[" not in out
    assert out.splitlines()[:2] == [
        f"Started session #1 'piped' in {repo}.",
        "Watcher: starting.",
    ]
    assert "| cost $0.00 | tokens 0 | calls 0 | files 0 | commits 0" in out


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--poll-interval", "0"], {}, "poll interval must be above 0"),
        (["--poll-interval", "-1"], {}, "poll interval must be above 0"),
        ([], {"CODESESSION_POLL_INTERVAL": "soon"}, "must be a number of seconds"),
    ],
    ids=["zero", "negative", "env-not-a-number"],
)
def test_bad_poll_interval_is_invalid_input_and_starts_nothing(
    repo: Path, run_cs, argv: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cs("start", "x", *argv, cwd=repo, env=env)

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert run_cs("status", "--json", cwd=repo).json["error"]["code"] == (
        "no_active_session"
    )


class Tmux:
    """A private tmux server (its own socket) for one test."""

    def __init__(self, socket: Path) -> None:
        self.base = ["tmux", "-S", str(socket), "-f", os.devnull]

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=DEADLINE_S
        )
        return done.stdout

    def screen(self, pane: str) -> str:
        return self("capture-pane", "-p", "-t", pane)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    server = Tmux(tmp_path / "tmux.sock")
    yield server
    server("kill-server")


def test_live_view_updates_under_tmux_when_log_ai_runs_in_another_pane(
    repo: Path, tmux: Tmux
) -> None:
    # The pane's own size, not a COLUMNS/LINES inherited from the test run.
    cs = f"env -u COLUMNS -u LINES {shlex.quote(sys.executable)} -m cs_core"
    tmux("new-session", "-d", "-s", "cs", "-x", "120", "-y", "40", "-c", str(repo),
         f"trap true INT; {cs} start 'tmux demo'; echo exit=$?")  # fmt: skip
    tmux("set-option", "-t", "cs", "remain-on-exit", "on")
    wait_until(lambda: "Watcher        watching" in tmux.screen("cs:0.0"), "view")
    first = tmux.screen("cs:0.0")

    tmux("split-window", "-t", "cs", "-l", "8", "-c", str(repo),
         f"{cs} log-ai -p anthropic -m claude-sonnet-4-5 --prompt-tokens 12000"
         " --completion-tokens 800 --agent claude-code && sleep 60")  # fmt: skip
    updated = wait_until(
        lambda: "$0.048" in (screen := tmux.screen("cs:0.0")) and screen,
        what="the view to show the call",
    )
    tmux("send-keys", "-t", "cs:0.0", "C-c")
    # The shell prints the exit code: tmux 3.3 does not always reap a pane's
    # process, leaving #{pane_dead_status} empty (seen with a trivial program).
    ended = wait_until(
        lambda: "exit=" in (screen := tmux.screen("cs:0.0")) and screen,
        what="the live process to exit",
    )

    assert "AI cost        $0.00 " in first
    assert "Calls          0 " in first
    for line in ("AI cost        $0.048", "Tokens         12,800", "Calls          1"):
        assert line in updated
    assert (
        "anthropic/claude-sonnet-4-5, 12,800 tokens, $0.048 by claude-code" in updated
    )
    assert "exit=0" in ended
    assert "completed (interrupted)" in ended
