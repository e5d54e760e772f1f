"""Shared fixtures: an isolated data folder per test, real git repositories, and
`run_cs`, which runs the `cs` App in process and captures what it prints."""

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cs_core import plugins as plugin_module
from cs_core.cli import run

BUNDLED = (
    "anthropic,openai,google,mistral,deepseek,git,json,csv,"
    "dashboard,alerts,agentlogs,otel,proxy"
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def cs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point cs at an empty data folder and load only the bundled plugins."""
    home = tmp_path / "cs-home"
    monkeypatch.setenv("CODESESSION_HOME", str(home))
    monkeypatch.delenv("CODESESSION_DB_PATH", raising=False)
    monkeypatch.delenv("CODESESSION_SESSION", raising=False)
    monkeypatch.delenv("CODESESSION_AGENT_NAME", raising=False)
    monkeypatch.delenv("CODESESSION_NOW", raising=False)
    monkeypatch.setenv("CODESESSION_TZ", "UTC")
    monkeypatch.setenv("CS_LOAD_PLUGINS", BUNDLED)
    # Commands deliver events themselves, so tests see them right away.
    monkeypatch.setenv("CODESESSION_EVENTS_INLINE", "1")
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    plugin_module._pm = None  # each test loads the plugins its environment selects
    yield home
    plugin_module._pm = None


@dataclass
class Result:
    """What one `cs` invocation did."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


class _Capture(io.TextIOWrapper):
    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", newline="")

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


@pytest.fixture
def run_cs(monkeypatch: pytest.MonkeyPatch):
    """Run `cs ARGS...` in process, optionally in a folder; returns a Result."""

    def invoke(
        *argv: str, cwd: Path | str | None = None, env: dict | None = None
    ) -> Result:
        out, err = _Capture(), _Capture()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", out)
            patch.setattr(sys, "stderr", err)
            patch.setenv("COLUMNS", "120")
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            if cwd is not None:
                patch.chdir(cwd)
            code = run(list(argv))
        return Result(code, out.text(), err.text())

    return invoke


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` and return its stdout."""
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    )
    return done.stdout


def commit_file(repo: Path, path: str, content: str, message: str) -> str:
    """Write a file, commit it, and return the new commit's hash."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A real git repository on branch main with one commit (`README.md`)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_file(repo, "README.md", "hello\n", "initial")
    return repo.resolve()
