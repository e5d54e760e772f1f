"""The scenario of shared/acceptance/core-workflow.md, step by step."""

from pathlib import Path

import pytest

from tests.conftest import commit_file, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "work"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_file(repo, "a.txt", "a\n", "add a")
    commit_file(repo, "src/b.txt", "b\n", "add b")
    return repo.resolve()


def test_core_workflow(repo: Path, run_cs) -> None:
    src = repo / "src"

    started = run_cs("start", "fix auth", "--json", cwd=src)
    assert started.exit_code == 0
    assert started.json["gitRoot"] == str(repo)
    assert started.json["branch"] == "main"
    assert started.json["schemaVersion"] == 1

    again = run_cs("start", "again", "--json", cwd=src)
    assert again.exit_code == 1
    assert again.json["error"]["code"] == "session_active"

    first = run_cs(
        "log-ai", "-p", "anthropic", "-m", "claude-sonnet-4", "--prompt-tokens", "8000",
        "--completion-tokens", "2000", "--agent", "Bug Fixer", "--json", cwd=src,
    )  # fmt: skip
    assert first.json["logged"]["cost"] == 0.054

    second = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "5000",
        "--completion-tokens", "1500", "-c", "0.04", "--json", cwd=repo,
    )  # fmt: skip
    assert second.json["logged"]["cost"] == 0.04
    assert second.json["session"]["aiCost"] == 0.094

    unknown = run_cs(
        "log-ai", "-p", "openai", "-m", "no-such-model-x", "--prompt-tokens", "1",
        "--completion-tokens", "1", "--json", cwd=src,
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert unknown.json["error"]["code"] == "unknown_model"

    negative = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "-5",
        "--completion-tokens", "1", "--json", cwd=src,
    )  # fmt: skip
    assert negative.exit_code == 1
    assert negative.json["error"]["code"] == "invalid_input"

    note = run_cs("note", "analyzing auth flow", "--json", cwd=src)
    assert note.json["message"] == "analyzing auth flow"

    (repo / "a.txt").write_text("a\nfix\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "fix login")
    (src / "c.txt").write_text("c\n", encoding="utf-8")

    status = run_cs("status", "--json", cwd=src)
    assert status.json["aiCost"] == 0.094
    assert status.json["aiTokens"] == 16500
    assert len(status.json["aiUsage"]) == 2

    ended = run_cs("end", "-n", "done", "--json", cwd=src)
    assert ended.json["status"] == "completed"
    assert ended.json["commits"][0]["message"] == "fix login"
    assert sorted(f["filePath"] for f in ended.json["files"]) == ["a.txt", "src/c.txt"]
    assert ended.json["annotations"][0]["message"] == "analyzing auth flow"

    after = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "1",
        "--completion-tokens", "1", "--json", cwd=src,
    )  # fmt: skip
    assert after.exit_code == 1
    assert after.json["error"]["code"] == "no_active_session"

    human = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "1",
        "--completion-tokens", "1", cwd=src,
    )  # fmt: skip
    assert human.exit_code == 1
    assert human.stdout == ""
    assert human.stderr.startswith("Error: no active session")

    stats = run_cs("stats", "--json", cwd=src)
    assert stats.json["totalSessions"] == 1
    assert stats.json["totalAICost"] == 0.094

    csv_out = run_cs("export", "--format", "csv", cwd=src)
    assert csv_out.stdout.startswith("id,name,status,startTime,endTime,duration")

    json_out = run_cs("export", "--format", "json", cwd=src)
    assert len(json_out.json) == 1

    prices = run_cs("pricing", "list", "--json", cwd=src)
    for key in (
        "gpt-5.3-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini", "codex-mini-latest",
        "claude-sonnet-4", "deepseek-v3", "gemini-2.5-pro",
    ):  # fmt: skip
        assert key in prices.json["models"]


def test_notes_and_names_may_start_with_a_dash(git_repo, run_cs) -> None:
    started = run_cs("start", "- refactor", "--json", cwd=git_repo)
    noted = run_cs("note", "- fixed the bug", "--json", cwd=git_repo)
    ended = run_cs("end", "-n", "- all done", "--json", cwd=git_repo)

    assert started.json["name"] == "- refactor"
    assert noted.json["message"] == "- fixed the bug"
    assert ended.json["notes"] == "- all done"


def test_an_ended_session_takes_no_more_calls(git_repo, run_cs) -> None:
    run_cs("start", "first", "--json", cwd=git_repo)
    run_cs("end", "--json", cwd=git_repo)
    run_cs("start", "second", "--json", cwd=git_repo)

    explicit = run_cs("log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "5", "-c", "1",
                      "-s", "1", "--json", cwd=git_repo)  # fmt: skip
    stale_env = run_cs("log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "5", "-c", "1",
                       "--json", cwd=git_repo,
                       env={"CODESESSION_SESSION": "1"})  # fmt: skip

    assert explicit.json["error"]["code"] == "invalid_input"
    assert "has ended" in explicit.json["error"]["message"]
    # A CODESESSION_SESSION left in the shell never beats the session running here.
    assert stale_env.json["session"]["id"] == 2


@pytest.mark.parametrize(
    ("agent", "stored"),
    [("", None), ("  bot  ", "bot"), ("bot", "bot")],
    ids=["empty", "padded", "plain"],
)
def test_agent_names_are_trimmed_and_empty_means_none(git_repo, run_cs, agent, stored):
    run_cs("start", "agents", "--json", cwd=git_repo)

    result = run_cs("log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "5", "-c", "1",
                    "--agent", agent, "--json", cwd=git_repo)  # fmt: skip

    assert result.json["logged"]["agentName"] == stored


def test_an_agent_name_longer_than_200_characters_is_refused(git_repo, run_cs):
    run_cs("start", "agents", "--json", cwd=git_repo)

    result = run_cs("log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "5", "-c", "1",
                    "--agent", "x" * 201, "--json", cwd=git_repo)  # fmt: skip

    assert result.json["error"]["code"] == "invalid_input"
