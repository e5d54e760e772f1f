"""Cases B11, B12, B13, B16, B17 and B18 of lifecycle-git-safety-cases.md."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import commit_file, git

GPT4O_CALL = ("-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "100000",
              "--completion-tokens", "10000")  # fmt: skip


def cs_process(
    *argv: str, cwd: Path, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the real `cs` in a subprocess with the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "cs_core", *argv],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        timeout=60,
    )


def test_b11_parallel_agents_lose_nothing(git_repo: Path) -> None:
    call = ["log-ai", "-p", "anthropic", "-m", "claude-haiku-4-5", "--prompt-tokens",
            "1000", "--completion-tokens", "100", "--json"]  # fmt: skip
    assert cs_process("start", "b11", "--json", cwd=git_repo).returncode == 0

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(
                lambda n: cs_process(*call, "--agent", f"agent-{n}", cwd=git_repo),
                range(50),
            )
        )

    assert [r.returncode for r in results] == [0] * 50
    assert all(b"Traceback" not in r.stderr for r in results)
    shown = json.loads(cs_process("show", "--json", cwd=git_repo).stdout)
    assert len(shown["aiUsage"]) == 50
    assert len({call["agentName"] for call in shown["aiUsage"]}) == 50
    assert shown["aiCost"] == 0.075
    assert shown["aiTokens"] == 55000


def test_b11_first_run_migrates_once_under_concurrency(
    git_repo: Path, cs_home: Path
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: cs_process("stats", "--json", cwd=git_repo), range(8))
        )

    assert [r.returncode for r in results] == [0] * 8
    import sqlite3

    conn = sqlite3.connect(cs_home / "sessions.db")
    names = [row[0] for row in conn.execute("SELECT name FROM _cs_migrations")]
    assert len(names) == len(set(names))


def at(moment: str) -> dict:
    return {"CODESESSION_NOW": moment}


def test_b12_abandoned_session_is_stale_and_recovers_at_last_activity(
    git_repo: Path, run_cs
) -> None:
    run_cs("start", "refactor", "--json", cwd=git_repo, env=at("2025-06-01T09:00:00Z"))
    run_cs(
        "log-ai", *GPT4O_CALL, "--json", cwd=git_repo, env=at("2025-06-01T09:10:00Z")
    )
    later = at("2025-06-04T09:00:00Z")

    status = run_cs("status", "--json", cwd=git_repo, env=later).json
    refused = run_cs("start", "new task", "--json", cwd=git_repo, env=later)
    recovered = run_cs(
        "recover", "--json", cwd=git_repo, env=at("2025-06-04T09:01:00Z")
    )
    shown = run_cs("show", "1", "--json", cwd=git_repo).json
    stats = run_cs("stats", "--daily", "--json", cwd=git_repo).json

    assert status["stale"] is True
    assert refused.json["error"]["code"] == "session_active"
    assert "refactor" in refused.json["error"]["message"]
    assert "cs recover" in refused.json["error"]["hint"]
    assert recovered.json["recovered"] == 1
    assert shown["endTime"] == "2025-06-01T09:10:00.000Z"
    assert shown["endReason"] == "recovered"
    assert shown["duration"] == 600
    assert shown["aiCost"] == 0.35
    assert stats["avgSessionTime"] == 600
    assert [(r["key"], r["cost"]) for r in stats["breakdown"]] == [("2025-06-01", 0.35)]


def test_b12_recovered_session_keeps_later_commits_out(git_repo: Path, run_cs) -> None:
    run_cs("start", "refactor", "--json", cwd=git_repo, env=at("2025-06-01T09:00:00Z"))
    run_cs("note", "working", cwd=git_repo, env=at("2025-06-01T09:10:00Z"))
    date_env = {"GIT_AUTHOR_DATE": "2025-06-04T09:00:00Z",
                "GIT_COMMITTER_DATE": "2025-06-04T09:00:00Z"}  # fmt: skip
    for key, value in date_env.items():
        os.environ[key] = value
    try:
        commit_file(git_repo, "later.txt", "x\n", "later work")
    finally:
        for key in date_env:
            del os.environ[key]

    run_cs("recover", "--json", cwd=git_repo, env=at("2025-06-04T09:01:00Z"))
    shown = run_cs("show", "1", "--commits", "--files", "--json", cwd=git_repo).json

    assert shown["commits"] == []
    assert shown["files"] == []


@pytest.fixture
def worktrees(tmp_path: Path) -> tuple[Path, Path]:
    app = tmp_path / "b13" / "app"
    app.mkdir(parents=True)
    git(app, "init", "-q", "-b", "main")
    git(app, "commit", "-q", "--allow-empty", "-m", "root")
    git(app, "worktree", "add", "-q", "../app-feat", "-b", "feat")
    return app.resolve(), (tmp_path / "b13" / "app-feat").resolve()


def test_b13_worktrees_are_separate_scopes_of_one_project(worktrees, run_cs) -> None:
    app, feat = worktrees
    run_cs("start", "main work", "--json", cwd=app)
    run_cs("start", "feature work", "--json", cwd=feat)
    commit_file(feat, "f.txt", "x\n", "feat: f")
    commit_file(app, "m.txt", "y\n", "main: m")
    (feat / "sub" / "dir").mkdir(parents=True)

    deep = run_cs("status", "--json", cwd=feat / "sub" / "dir").json
    run_cs("log-ai", *GPT4O_CALL, "--json", cwd=feat)
    feature = run_cs("end", "--json", cwd=feat).json
    main = run_cs("end", "--json", cwd=app).json
    projects = run_cs("stats", "--by", "project", "--json", cwd=app).json["breakdown"]
    listed = run_cs("list", "--json", cwd=app).json

    assert deep["name"] == "feature work"
    assert [c["message"] for c in feature["commits"]] == ["feat: f"]
    assert [f["filePath"] for f in feature["files"]] == ["f.txt"]
    assert feature["aiCost"] == 0.35
    assert [c["message"] for c in main["commits"]] == ["main: m"]
    assert [f["filePath"] for f in main["files"]] == ["m.txt"]
    assert main["aiCost"] == 0
    assert [(p["key"], p["cost"], p["sessions"]) for p in projects] == [
        (str(app), 0.35, 2)
    ]
    assert {s["projectRoot"] for s in listed} == {str(app)}


def test_b16a_outside_git_fields_are_unknown(tmp_path: Path, run_cs) -> None:
    plain = tmp_path / "b16a"
    (plain / "sub").mkdir(parents=True)

    started = run_cs("start", "plain dir", "--json", cwd=plain).json
    run_cs("log-ai", *GPT4O_CALL, cwd=plain)
    (plain / "new.txt").write_text("x")
    elsewhere = run_cs("status", "--json", cwd=plain / "sub")
    ended = run_cs("end", "--json", cwd=plain).json

    assert (started["gitRoot"], started["branch"], started["headSha"]) == (
        None,
        None,
        None,
    )
    assert started["directory"] == str(plain.resolve())
    assert elsewhere.json["error"]["code"] == "no_active_session"
    # Nothing could observe files or commits: unknown, never a made-up 0 or [].
    assert (ended["filesChanged"], ended["commits"], ended["files"]) == (
        None,
        None,
        None,
    )
    assert ended["aiCost"] == 0.35


def test_b16a_without_git_on_path(git_repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {"PATH": str(empty)}

    started = cs_process("start", "no git", "--json", cwd=git_repo, env=env)
    ended = cs_process("end", "--json", cwd=git_repo, env=env)

    assert started.returncode == 0, started.stdout
    assert ended.returncode == 0, ended.stdout
    assert b"Traceback" not in started.stderr + ended.stderr
    # Inside a repository git could not be asked: files and commits are unknown.
    assert json.loads(ended.stdout)["filesChanged"] is None


def test_b16b_unborn_head(tmp_path: Path, run_cs) -> None:
    repo = tmp_path / "b16b"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")

    started = run_cs("start", "first", "--json", cwd=repo).json
    commit_file(repo, "a.txt", "x\n", "first")
    ended = run_cs("end", "--json", cwd=repo).json

    assert started["headSha"] is None
    assert len(ended["commits"]) == 1
    assert [f["filePath"] for f in ended["files"]] == ["a.txt"]


def test_b16c_detached_head(git_repo: Path, run_cs) -> None:
    git(git_repo, "checkout", "-q", "--detach")

    started = run_cs("start", "detached", "--json", cwd=git_repo).json
    commit_file(git_repo, "d.txt", "x\n", "detached work")
    ended = run_cs("end", "--json", cwd=git_repo).json

    assert started["branch"] is None
    assert (
        started["headSha"] == git(git_repo, "rev-parse", "--short=7", "HEAD~1").strip()
    )
    assert len(ended["commits"]) == 1
    assert [f["filePath"] for f in ended["files"]] == ["d.txt"]


def test_b16d_subdirectory_finds_the_repository_session(git_repo: Path, run_cs) -> None:
    deep = git_repo / "src" / "deep"
    deep.mkdir(parents=True)

    run_cs("start", "deep", "--json", cwd=deep)
    status = run_cs("status", "--json", cwd=git_repo).json
    ended = run_cs("end", "--json", cwd=git_repo).json

    assert status["name"] == "deep"
    assert ended["status"] == "completed"


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"], ids=["LC_ALL=C", "LC_ALL=C.UTF-8"])
def test_b17_non_utf8_bytes_survive(tmp_path: Path, locale: str) -> None:
    repo = tmp_path / "b17"
    repo.mkdir()
    env = {"LC_ALL": locale}
    git(repo, "init", "-q", "-b", "main")
    commit_file(repo, "good.txt", "1\n", "init")
    assert cs_process("start", "b17", "--json", cwd=repo, env=env).returncode == 0
    (repo / os.fsdecode(b"bad\xff.txt")).write_bytes(b"x")
    (repo / "good.txt").write_text("1\n2\n")
    git(repo, "add", "-A")
    message = tmp_path / "msg"
    message.write_bytes(b"caf\xe9 msg\n")
    git(repo, "-c", "i18n.commitEncoding=UTF-8", "commit", "-q", "-F", str(message))
    note = subprocess.run(
        [sys.executable, "-m", "cs_core", "note", os.fsdecode(b"caf\xe9 note")],
        cwd=repo, env={**os.environ, **env}, capture_output=True,
    )  # fmt: skip

    runs = [cs_process(*argv, cwd=repo, env=env) for argv in (
        ["end"], ["show", "--json", "--files", "--commits"],
        ["export", "--format", "csv"],
        ["export", "--format", "json"])]  # fmt: skip

    assert note.returncode == 0, note.stderr
    assert [r.returncode for r in runs] == [0, 0, 0, 0]
    shown = json.loads(runs[1].stdout.decode("utf-8"))
    assert sorted(f["filePath"] for f in shown["files"]) == [
        "bad\ufffd.txt",
        "good.txt",
    ]
    # The case allows either a replacement character or a latin-1 reading.
    assert [c["message"] for c in shown["commits"]] in (["caf\ufffd msg"], ["café msg"])
    assert [a["message"] for a in shown["annotations"]] == ["caf\ufffd note"]
    json.loads(runs[3].stdout.decode("utf-8"))
    runs[2].stdout.decode("utf-8")


B18_REJECTED = [
    ("negative-tokens", ["--prompt-tokens", "100", "--completion-tokens", "-100"]),
    (
        "negative-cost",
        ["--prompt-tokens", "100", "--completion-tokens", "10", "-c", "-0.50"],
    ),
    ("nan-cost", ["--prompt-tokens", "100", "--completion-tokens", "10", "-c", "nan"]),
    ("inf-cost", ["--prompt-tokens", "100", "--completion-tokens", "10", "-c", "inf"]),
    (
        "2^63-tokens",
        ["--prompt-tokens", "9223372036854775808", "--completion-tokens", "0"],
    ),
    ("fraction", ["--prompt-tokens", "1.5", "--completion-tokens", "0"]),
    ("words", ["--prompt-tokens", "many", "--completion-tokens", "0"]),
]


@pytest.mark.parametrize(
    "args", [a for _, a in B18_REJECTED], ids=[i for i, _ in B18_REJECTED]
)
def test_b18_absurd_values_are_rejected(git_repo: Path, run_cs, args) -> None:
    run_cs("start", "b18", "--json", cwd=git_repo)

    result = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", *args, "--json", cwd=git_repo
    )

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "invalid_input"
    assert run_cs("status", "--json", cwd=git_repo).json["aiUsage"] == []


def test_b18_session_total(git_repo: Path, run_cs) -> None:
    run_cs("start", "b18", "--json", cwd=git_repo)
    base = ("log-ai", "-p", "openai", "--json")

    mismatch = run_cs(*base, "-m", "gpt-4o", "--prompt-tokens", "2331",
                      "--completion-tokens", "61", "-t", "10",
                      cwd=git_repo)  # fmt: skip
    router = run_cs(*base, "-m", "openrouter/auto", "--prompt-tokens", "2331",
                    "--completion-tokens", "61", "--allow-unpriced",
                    cwd=git_repo)  # fmt: skip
    valid = run_cs(*base, "-m", "gpt-4o", "--prompt-tokens", "2331",
                   "--completion-tokens", "61", cwd=git_repo)  # fmt: skip
    huge = run_cs(*base, "-m", "gpt-4o", "--prompt-tokens", "2000000000",
                  "--completion-tokens", "0", cwd=git_repo)  # fmt: skip
    shown = run_cs("show", "--json", cwd=git_repo).json
    csv_out = run_cs("export", "--format", "csv", "--calls", cwd=git_repo).stdout

    assert mismatch.json["logged"]["cost"] == 0.0064375
    assert [w["code"] for w in mismatch.json["warnings"]] == ["total_mismatch"]
    assert router.json["logged"]["cost"] is None
    assert valid.json["logged"]["cost"] == 0.0064375
    assert huge.json["logged"]["cost"] == 5000
    assert "context_window_exceeded" in [w["code"] for w in huge.json["warnings"]]
    assert shown["aiCost"] == 5000.012875
    assert len(shown["aiUsage"]) == 4
    assert all(c["cost"] is None or c["cost"] >= 0 for c in shown["aiUsage"])
    assert "5000" in csv_out and "e+" not in csv_out


def test_b18_negative_custom_price_is_refused(git_repo: Path, run_cs, cs_home) -> None:
    refused = run_cs("pricing", "set", "my-model", "-1", "2", "--json")
    cs_home.mkdir(exist_ok=True)
    (cs_home / "pricing.json").write_text('{"gpt-4o": {"input": -2.5, "output": 10}}')
    run_cs("start", "b18", "--json", cwd=git_repo)

    strict = run_cs("log-ai", *GPT4O_CALL, "--json", cwd=git_repo)
    result = run_cs("log-ai", *GPT4O_CALL, "--allow-unpriced", "--json", cwd=git_repo)

    assert refused.json["error"]["code"] == "invalid_input"
    assert strict.json["error"]["code"] == "unknown_model"
    assert "'gpt-4o' is invalid" in strict.json["error"]["hint"]
    # The refused price makes the model unpriced, not silently built-in.
    assert result.json["logged"]["cost"] is None
    assert [w["code"] for w in result.json["warnings"]] == [
        "unpriced_model",
        "invalid_price",
    ]
    listed = run_cs("pricing", "list", "--json").json
    assert "gpt-4o" in listed["refused"]


def test_b18_token_sums_never_overflow(git_repo: Path, run_cs) -> None:
    run_cs("start", "b18", "--json", cwd=git_repo)
    biggest = str(2**63 - 1)
    base = ("log-ai", "-p", "openai", "-m", "gpt-4o", "--json")

    parts = run_cs(*base, "--prompt-tokens", biggest, "--completion-tokens", "1",
                   cwd=git_repo)  # fmt: skip
    first = run_cs(*base, "--prompt-tokens", biggest, "--completion-tokens", "0",
                   cwd=git_repo)  # fmt: skip
    second = run_cs(*base, "-t", "1", "-c", "0", cwd=git_repo)
    shown = run_cs("show", "--json", cwd=git_repo).json

    assert parts.json["error"]["code"] == "invalid_input"
    assert first.exit_code == 0
    assert second.json["error"]["code"] == "invalid_input"
    assert shown["aiTokens"] == 2**63 - 1
    assert run_cs("stats", "--by", "day", "--json", cwd=git_repo).exit_code == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["pricing", "set", "m1", "1e400", "1"],
        ["pricing", "set", "m1", "1_000", "1"],
        ["log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "5", "-c", "1_0"],
    ],
    ids=["price-1e400", "price-underscore", "cost-underscore"],
)
def test_b18_implausible_money_is_refused(git_repo: Path, run_cs, argv) -> None:
    run_cs("start", "b18", "--json", cwd=git_repo)

    result = run_cs(*argv, "--json", cwd=git_repo)

    assert result.json["error"]["code"] == "invalid_input"


def test_b10_stored_costs_are_exact_to_ten_decimals(git_repo: Path, run_cs) -> None:
    run_cs("start", "tiny", "--json", cwd=git_repo)
    for cost in ("1e-11", "5e-11", "0.00000000015"):
        run_cs("log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "1", "-c", cost,
               cwd=git_repo)  # fmt: skip

    shown = run_cs("show", "--json", cwd=git_repo).json

    assert [c["cost"] for c in shown["aiUsage"]] == [0.0, 0.0, 2e-10]
    assert shown["aiCost"] == sum(c["cost"] for c in shown["aiUsage"]) == 2e-10
