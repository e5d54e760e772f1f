"""`cs auto-log`: a Claude Code hook logs the transcript's new calls into the
active session of its folder."""

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CLAUDE_SESSION = "77777777-7777-4777-8777-777777777777"


def assistant(message_id: str, stamp: str, cwd: Path, **extra: object) -> str:
    """One assistant line as Claude Code writes it (abridged)."""
    record = {
        "isSidechain": False,
        "cwd": str(cwd),
        "sessionId": CLAUDE_SESSION,
        "version": "2.1.47",
        "type": "assistant",
        "timestamp": stamp,
        "requestId": f"req_{message_id}",
        "message": {
            "id": message_id,
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {
                "input_tokens": 1000,
                "output_tokens": 100,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
            },
        },
        **extra,
    }
    return json.dumps(record) + "\n"


@pytest.fixture
def transcript(tmp_path: Path, git_repo: Path) -> Path:
    """A transcript with one call before 10:00 and one after."""
    path = tmp_path / "claude" / "projects" / "-repo" / f"{CLAUDE_SESSION}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        assistant("msg_before", "2026-03-01T09:00:00.000Z", git_repo)
        + assistant("msg_after", "2026-03-01T10:30:00.000Z", git_repo)
    )
    return path


@pytest.fixture
def hook(run_cs, monkeypatch):
    """Run `cs auto-log` with a hook document on stdin."""

    def invoke(document: dict | str, *args: str, cwd: Path | None = None):
        text = document if isinstance(document, str) else json.dumps(document)
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
        return run_cs("auto-log", *args, cwd=cwd)

    return invoke


def start(run_cs, repo: Path, at: str = "2026-03-01T10:00:00.000Z") -> int:
    result = run_cs("start", "work", "--json", cwd=repo, env={"CODESESSION_NOW": at})
    assert result.exit_code == 0, result.stdout
    return result.json["id"]


def hook_input(transcript: Path, repo: Path, event: str = "Stop") -> dict:
    return {
        "session_id": CLAUDE_SESSION,
        "transcript_path": str(transcript),
        "cwd": str(repo),
        "hook_event_name": event,
    }


def usage_rows(home: Path) -> list[tuple]:
    conn = sqlite3.connect(home / "sessions.db")
    return conn.execute(
        "SELECT session_id, external_id, agent_name, tokens, cost FROM ai_usage"
        " ORDER BY id"
    ).fetchall()


def test_new_calls_go_into_the_active_session_of_the_hook_folder(
    run_cs, cs_home, hook, transcript, git_repo
):
    session = start(run_cs, git_repo)

    result = hook(hook_input(transcript, git_repo), "--json")

    assert result.exit_code == 0, result.stdout
    assert usage_rows(cs_home) == [(session, "msg_after", "claude-code", 1100, 0.0045)]
    assert result.json["session"] == {"id": session, "aiCost": 0.0045, "aiTokens": 1100}
    assert result.json["sessions"]["created"] == 0


def test_the_next_hook_reads_only_what_was_added(
    run_cs, cs_home, hook, transcript, git_repo
):
    start(run_cs, git_repo)
    hook(hook_input(transcript, git_repo), "--json")
    with transcript.open("a") as handle:
        handle.write(assistant("msg_later", "2026-03-01T10:45:00.000Z", git_repo))

    result = hook(hook_input(transcript, git_repo), "--json")

    assert result.json["calls"]["found"] == 1
    assert result.json["session"]["aiTokens"] == 2200
    assert [row[1] for row in usage_rows(cs_home)] == ["msg_after", "msg_later"]


def test_subagent_transcripts_of_the_session_are_logged_as_their_agent(
    run_cs, cs_home, hook, transcript, git_repo
):
    start(run_cs, git_repo)
    folder = transcript.with_suffix("") / "subagents"
    folder.mkdir(parents=True)
    line = assistant(
        "msg_sub", "2026-03-01T10:40:00.000Z", git_repo, isSidechain=True, agentId="b7"
    )
    (folder / "agent-b7.jsonl").write_text(line)

    hook(hook_input(transcript, git_repo, "SubagentStop"), "--json")

    agents = {row[1]: row[2] for row in usage_rows(cs_home)}
    assert agents == {"msg_after": "claude-code", "msg_sub": "subagent:b7"}


def test_without_an_active_session_nothing_is_logged(
    run_cs, cs_home, hook, transcript, git_repo
):
    result = hook(hook_input(transcript, git_repo), "--json")

    assert result.exit_code == 0
    assert result.json["warnings"] == [
        {
            "code": "no_active_session",
            "message": f"no active session in {git_repo}: nothing logged",
        }
    ]
    assert usage_rows(cs_home) == []


def test_calls_outside_a_session_are_not_given_to_a_later_one(
    run_cs, cs_home, hook, transcript, git_repo
):
    hook(hook_input(transcript, git_repo), "--json")
    session = start(run_cs, git_repo, at="2026-03-01T11:00:00.000Z")
    with transcript.open("a") as handle:
        handle.write(assistant("msg_in", "2026-03-01T11:05:00.000Z", git_repo))

    hook(hook_input(transcript, git_repo), "--json")

    assert [row[:2] for row in usage_rows(cs_home)] == [(session, "msg_in")]


def test_a_later_import_does_not_duplicate_auto_logged_calls(
    run_cs, cs_home, hook, transcript, git_repo
):
    start(run_cs, git_repo)
    hook(hook_input(transcript, git_repo), "--json")

    result = run_cs("import", "claude-code", "--path", str(transcript.parent), "--json")

    assert result.json["calls"]["duplicates"] == 1
    assert [row[1] for row in usage_rows(cs_home)] == ["msg_after", "msg_before"]


@pytest.mark.parametrize(
    "stdin",
    ["", "not json", "[1, 2]", '{"session_id": "x"}'],
    ids=["empty", "not-json", "not-object", "no-transcript"],
)
def test_bad_hook_input_is_invalid_input(hook, stdin):
    result = hook(stdin, "--json")

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "invalid_input"


def test_the_installed_command_reads_stdin(cs_home, transcript, git_repo, run_cs):
    start(run_cs, git_repo)

    done = subprocess.run(
        [sys.executable, "-m", "cs_core", "auto-log", "--json"],
        input=json.dumps(hook_input(transcript, git_repo)),
        capture_output=True,
        text=True,
        cwd=git_repo,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["calls"]["imported"] == 1


def test_a_budget_crossed_by_logged_calls_fires_its_alert(
    run_cs, cs_home, hook, transcript, git_repo
):
    start(run_cs, git_repo)
    assert run_cs("budget", "set", "--total", "0.001", "--json").exit_code == 0

    result = hook(hook_input(transcript, git_repo), "--json")

    assert [w["code"] for w in result.json["warnings"]] == ["budget_exceeded"]
