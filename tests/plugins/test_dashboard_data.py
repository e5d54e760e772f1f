"""A realistic session database for the dashboard tests, built through `cs` itself.

Three real git repositories, a dozen sessions over four weeks, several providers,
models and agents, notes, commits, file changes and one unpriced call. Every
record goes through the same commands an agent would run, with the clock pinned
through CODESESSION_NOW.
"""

import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cs_core import plugins as plugin_module
from cs_core.cli import run

NOW = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
LOADED = "anthropic,openai,google,mistral,deepseek,git,json,csv,dashboard"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dana Dev",
    "GIT_AUTHOR_EMAIL": "dana@example.test",
    "GIT_COMMITTER_NAME": "Dana Dev",
    "GIT_COMMITTER_EMAIL": "dana@example.test",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
MODELS = [
    ("anthropic", "claude-sonnet-4-5", "claude-code"),
    ("anthropic", "claude-opus-4-6", "claude-code"),
    ("anthropic", "claude-haiku-3.5", "aider"),
    ("openai", "gpt-5", "codex"),
    ("openai", "gpt-4o-mini", "cursor"),
    ("google", "gemini-2.5-pro", "gemini-cli"),
    ("deepseek", "deepseek-v3", "aider"),
]
WORK = {
    "billing-api": [
        ("Add invoice PDF export", ["src/invoices/pdf.py", "tests/test_pdf.py"]),
        ("Fix rounding in tax totals", ["src/tax.py", "tests/test_tax.py"]),
        ("Stripe webhook retries", ["src/webhooks.py", "src/tax.py"]),
        ("Refactor currency helpers", ["src/money.py", "src/tax.py"]),
    ],
    "web-app": [
        ("Dark mode toggle", ["ui/theme.ts", "ui/settings.tsx"]),
        ("Login form validation", ["ui/login.tsx", "ui/theme.ts"]),
        ("Speed up dashboard queries", ["api/queries.ts", "api/cache.ts"]),
        ("Upgrade React to 19", ["package.json", "ui/settings.tsx"]),
    ],
    "infra": [
        ("Terraform state migration", ["main.tf", "modules/db/main.tf"]),
        ("Rotate CI secrets", [".github/workflows/ci.yml", "main.tf"]),
        ("Add staging cluster", ["modules/k8s/main.tf", "main.tf"]),
    ],
}
NOTES = [
    "Tried the simple approach first; tests pass.",
    "Agent went in circles on the fixture, stepped in by hand.",
    "Needs a follow-up for the edge case with empty input.",
    "Reviewed the diff, looks good.",
]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextmanager
def environment(home: Path, cwd: Path | None = None, **extra: str):
    """Set the variables cs reads, and restore them afterwards."""
    wanted = {
        "CODESESSION_HOME": str(home),
        "CODESESSION_TZ": "UTC",
        "CS_LOAD_PLUGINS": LOADED,
        **GIT_ENV,
        **extra,
    }
    saved = {key: os.environ.get(key) for key in [*wanted, "CODESESSION_DB_PATH"]}
    old_cwd = os.getcwd()
    os.environ.pop("CODESESSION_DB_PATH", None)
    os.environ.update(wanted)
    plugin_module._pm = None
    if cwd:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        plugin_module._pm = None


def cs(home: Path, cwd: Path, at: datetime, *argv: str) -> dict:
    """Run one `cs ... --json` in process at a pinned instant; return its JSON."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    saved = sys.stdout
    sys.stdout = out
    try:
        with environment(home, cwd, CODESESSION_NOW=stamp(at)):
            code = run([*argv, "--json"])
    finally:
        sys.stdout = saved
    out.flush()
    text = out.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    assert code == 0, text
    return json.loads(text)


def git(repo: Path, at: datetime, *args: str) -> str:
    env = {
        **os.environ,
        **GIT_ENV,
        "GIT_AUTHOR_DATE": stamp(at),
        "GIT_COMMITTER_DATE": stamp(at),
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def make_repo(root: Path, name: str, at: datetime) -> Path:
    repo = root / name
    repo.mkdir(parents=True)
    git(repo, at, "init", "-q", "-b", "main")
    (repo / "README.md").write_text(f"# {name}\n", encoding="utf-8")
    git(repo, at, "add", "README.md")
    git(repo, at, "commit", "-q", "-m", "Initial commit")
    return repo.resolve()


def edit(repo: Path, path: str, line: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as stream:
        stream.write(line + "\n")


def build_realistic(home: Path, root: Path) -> dict:
    """Fill `home` with a realistic history; return what was made."""
    rng = random.Random(20261120)
    first = NOW - timedelta(days=27)
    repos = {name: make_repo(root, name, first) for name in WORK}
    plan = [(name, task) for name, tasks in WORK.items() for task in tasks]
    rng.shuffle(plan)
    made = {"sessions": 0, "calls": 0}

    for index, (project, (title, files)) in enumerate(plan):
        start = first + timedelta(days=index * 2.3, hours=rng.randint(0, 6))
        last = index == len(plan) - 1
        _one_session(home, repos[project], start, title, files, rng, last, made)
    return {"repos": repos, **made}


def _one_session(home, repo, start, title, files, rng, last, made) -> None:
    cs(home, repo, start, "start", title)
    made["sessions"] += 1
    moment = start
    for step in range(rng.randint(3, 7)):
        moment += timedelta(minutes=rng.randint(4, 25))
        provider, model, agent = rng.choice(MODELS)
        prompt = rng.randint(2_000, 60_000)
        completion = rng.randint(300, 9_000)
        cs(
            home, repo, moment, "log-ai", "-p", provider, "-m", model,
            "--prompt-tokens", str(prompt), "--completion-tokens", str(completion),
            "--agent", agent,
        )  # fmt: skip
        made["calls"] += 1
        if step == 1:
            edit(repo, files[0], f"# {title}: step {step}")
            git(repo, moment, "add", "-A")
            git(repo, moment, "commit", "-q", "-m", f"{title}: first pass")
        if step == 2:
            cs(home, repo, moment, "note", rng.choice(NOTES))
    if made["sessions"] == 3:
        moment += timedelta(minutes=3)
        cs(
            home, repo, moment, "log-ai", "-p", "openai", "-m", "gpt-internal-preview",
            "--prompt-tokens", "4000", "--completion-tokens", "800", "--allow-unpriced",
            "--agent", "codex",
        )  # fmt: skip
        made["calls"] += 1
    edit(repo, files[1], f"# {title}: wrap up")
    if not last:
        git(repo, moment, "add", "-A")
        git(repo, moment, "commit", "-q", "-m", f"{title}: tests and cleanup")
        cs(home, repo, moment + timedelta(minutes=5), "end")


def test_realistic_history_has_what_the_pages_need(tmp_path):
    made = build_realistic(tmp_path / "home", tmp_path / "repos")

    stats = cs(tmp_path / "home", tmp_path, NOW, "stats")

    assert stats["totalSessions"] == made["sessions"] == 11
    assert stats["activeSessions"] == 1
    assert stats["totalCalls"] == made["calls"]
    assert stats["unpricedCalls"] == 1
    assert stats["totalCommits"] > 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dashboard:
    """A `cs dashboard` subprocess and what it printed."""

    proc: subprocess.Popen
    info: dict
    home: Path

    @property
    def url(self) -> str:
        return self.info["url"]

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        finally:
            for stream in (self.proc.stdout, self.proc.stderr):
                stream.close()


def dashboard_env(home: Path, **extra: str) -> dict:
    env = {**os.environ, **GIT_ENV, **extra}
    env.update(
        CODESESSION_HOME=str(home),
        CODESESSION_TZ=extra.get("CODESESSION_TZ", "UTC"),
        CS_LOAD_PLUGINS=LOADED,
        CODESESSION_NOW=stamp(NOW),
    )
    env.pop("CODESESSION_DB_PATH", None)
    return env


def start_dashboard(home: Path, *args: str, port: int | None = None) -> Dashboard:
    """Start `cs dashboard --no-open --json` and wait until it answers."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cs_core", "dashboard", "--no-open", "--json",
         "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dashboard_env(home),
        text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    board = Dashboard(proc, json.loads(line), home)
    _wait_until_up(board)
    return board


def _wait_until_up(board: Dashboard) -> None:
    host, port = board.info["host"], board.info["port"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert board.proc.poll() is None, board.proc.stderr.read()
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the dashboard did not start listening")
