"""The Claude Code reader: every trap of the transcript format, on hand-written
fixtures (tests/fixtures/claude), imported into a real database."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "claude"
SESSION = "11111111-1111-4111-8111-111111111111"
MAIN = f"projects/-nonexistent-alice-myrepo/{SESSION}.jsonl"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A copy of the Claude Code fixture tree, safe to change."""
    target = tmp_path / "claude"
    shutil.copytree(FIXTURES, target)
    return target


def db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "sessions.db")
    conn.row_factory = sqlite3.Row
    return conn


def calls(home: Path) -> dict[str, dict]:
    rows = db(home).execute("SELECT * FROM ai_usage ORDER BY id").fetchall()
    return {row["external_id"]: dict(row) for row in rows}


def imported(run_cs, path: Path) -> dict:
    result = run_cs("import", "claude-code", "--path", str(path), "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.json


def assistant(message_id: str, *, output: int, stamp: str, cwd: str = "/x") -> str:
    """One assistant line as Claude Code writes it (abridged)."""
    return json.dumps(
        {
            "isSidechain": False,
            "cwd": cwd,
            "sessionId": "99999999-9999-4999-8999-999999999999",
            "version": "2.1.47",
            "type": "assistant",
            "timestamp": stamp,
            "requestId": f"req_{message_id}",
            "message": {
                "id": message_id,
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "text", "text": "hi"}],
                "usage": {"input_tokens": 1000, "output_tokens": output},
            },
        }
    )


def test_each_request_is_stored_once_with_its_exact_tokens_and_cost(
    run_cs, cs_home, logs
):
    imported(run_cs, logs)

    found = calls(cs_home)

    assert sorted(found) == [
        "msg_01AAAA",
        "msg_01BBBB",
        "msg_01CCCC",
        "msg_02SSSS",
        "msg_03CCCC",
    ]
    first = found["msg_01AAAA"]
    assert (first["prompt_tokens"], first["completion_tokens"]) == (3, 120)
    assert (first["cache_read_tokens"], first["cache_write_tokens"]) == (2000, 1000)
    assert first["cache_write_1h_tokens"] == 0
    assert (first["tokens"], first["cost"]) == (3123, 0.006159)
    assert first["model"] == "claude-sonnet-4-5"
    assert first["model_requested"] == "claude-sonnet-4-5-20250929"
    assert first["provider"] == "anthropic"
    assert first["source"] == "claude-code"
    assert first["cost_source"] == "built-in"
    assert first["timestamp"] == "2026-02-19T02:08:37.500Z"


def test_streamed_copies_keep_the_most_complete_one_not_the_last(run_cs, cs_home, logs):
    imported(run_cs, logs)

    row = calls(cs_home)["msg_01AAAA"]

    # Three copies: output 1, 120, then 1 again (a placeholder written late).
    assert row["completion_tokens"] == 120


def test_one_hour_cache_writes_come_from_the_ttl_breakdown(run_cs, cs_home, logs):
    imported(run_cs, logs)

    row = calls(cs_home)["msg_01BBBB"]

    assert (row["cache_write_tokens"], row["cache_write_1h_tokens"]) == (0, 500)
    assert (row["tokens"], row["cost"]) == (3560, 0.0078)
    assert row["model"] == "claude-opus-4-6"


def test_a_subagent_replay_of_a_parent_message_is_dropped(run_cs, cs_home, logs):
    report = imported(run_cs, logs)

    rows = calls(cs_home)

    assert rows["msg_01AAAA"]["agent_name"] == "claude-code"
    assert report["calls"] == {
        "found": 6,
        "imported": 5,
        "duplicates": 1,
        "unpriced": 1,
    }


def test_subagent_calls_are_attributed_to_the_subagent(run_cs, cs_home, logs):
    imported(run_cs, logs)

    row = calls(cs_home)["msg_02SSSS"]

    assert row["agent_name"] == "subagent:a1b2c3"
    assert (row["tokens"], row["cost"]) == (150, 0.00054)


def test_usage_inside_a_tool_result_is_not_a_call(run_cs, cs_home, logs):
    imported(run_cs, logs)

    rows = calls(cs_home)

    # The Task tool's result repeats the subagent's usage (20 in, 30 out):
    # only the subagent's own line is a call.
    assert [r["external_id"] for r in rows.values() if r["prompt_tokens"] == 20] == [
        "msg_02SSSS"
    ]


def test_unknown_models_are_stored_unpriced_never_free(run_cs, cs_home, logs):
    report = imported(run_cs, logs)

    row = calls(cs_home)["msg_01CCCC"]

    assert (row["cost"], row["cost_source"], row["tokens"]) == (None, None, 110)
    assert report["warnings"][0] == {
        "code": "unpriced_model",
        "message": "no price for model 'claude-mystery-9' of provider 'anthropic': "
        "1 calls stored with an unknown cost",
    }


def test_broken_lines_are_counted_and_skipped(run_cs, logs):
    report = imported(run_cs, logs)

    assert report["brokenLines"] == 1
    assert report["warnings"][1]["code"] == "broken_lines"


def test_synthetic_messages_and_lines_without_usage_are_ignored(run_cs, cs_home, logs):
    imported(run_cs, logs)

    rows = calls(cs_home)

    assert "msg_synthetic1" not in rows
    assert "msg_01NOUSAGE" not in rows


def test_each_agent_session_becomes_a_completed_session(run_cs, cs_home, logs):
    imported(run_cs, logs)

    row = (
        db(cs_home)
        .execute("SELECT * FROM sessions WHERE external_id = ?", (SESSION,))
        .fetchone()
    )

    assert dict(row) | {"id": 0} == dict(row) | {
        "id": 0,
        "name": "Claude Code 11111111",
        "status": "completed",
        "source": "claude-code",
        "start_time": "2026-02-19T02:08:37.500Z",
        "end_time": "2026-02-19T02:10:00.000Z",
        "duration": 82,
        "working_directory": "/nonexistent/alice/myrepo",
        "scope": "/nonexistent/alice/myrepo",
        "git_root": None,
        "branch": "feature/login",
        "ai_tokens": 6943,
        "files_changed": None,
        "commits": None,
    }
    assert row["ai_cost"] == pytest.approx(0.014499, abs=1e-12)


def test_a_session_in_an_existing_repository_is_scoped_to_its_git_root(
    run_cs, cs_home, tmp_path, git_repo
):
    folder = git_repo / "src"
    folder.mkdir()
    log = tmp_path / "t" / "s.jsonl"
    log.parent.mkdir()
    line = assistant(
        "msg_R", output=10, stamp="2026-03-01T10:00:00.000Z", cwd=str(folder)
    )
    log.write_text(line + "\n")

    imported(run_cs, log)

    row = db(cs_home).execute("SELECT * FROM sessions").fetchone()
    assert (row["scope"], row["git_root"]) == (str(git_repo), str(git_repo))
    assert row["working_directory"] == str(folder)


def test_a_call_the_proxy_already_logged_is_not_stored_again(
    run_cs, cs_home, logs, git_repo
):
    started = run_cs("start", "work", "--json", cwd=git_repo)
    assert started.exit_code == 0
    conn = db(cs_home)
    conn.execute(
        "INSERT INTO ai_usage (session_id, provider, model, tokens, cost, timestamp,"
        " source, external_id) VALUES (1, 'anthropic', 'claude-opus-4-6', 3560, 0.0078,"
        " '2026-02-19T02:09:20.000Z', 'proxy', 'msg_01BBBB')"
    )
    conn.commit()

    report = imported(run_cs, logs)

    rows = (
        db(cs_home)
        .execute(
            "SELECT session_id, source FROM ai_usage WHERE external_id = 'msg_01BBBB'"
        )
        .fetchall()
    )
    assert [tuple(r) for r in rows] == [(1, "proxy")]
    assert report["calls"]["duplicates"] == 2


def test_a_copy_completed_after_the_last_run_replaces_the_early_one(
    run_cs, cs_home, tmp_path
):
    log = tmp_path / "s.jsonl"
    log.write_text(
        assistant("msg_S", output=1, stamp="2026-03-01T10:00:00.000Z") + "\n"
    )
    imported(run_cs, log)

    with log.open("a") as handle:
        handle.write(
            assistant("msg_S", output=300, stamp="2026-03-01T10:00:02.000Z") + "\n"
        )
    imported(run_cs, log)

    row = calls(cs_home)["msg_S"]
    assert (row["completion_tokens"], row["tokens"]) == (300, 1300)
    session = db(cs_home).execute("SELECT ai_tokens, ai_cost FROM sessions").fetchone()
    assert tuple(session) == (1300, pytest.approx(0.0075, abs=1e-12))


def test_a_line_still_being_written_waits_for_the_next_run(run_cs, cs_home, tmp_path):
    log = tmp_path / "s.jsonl"
    whole = assistant("msg_T", output=5, stamp="2026-03-01T10:00:00.000Z")
    log.write_text(whole[:40])

    first = imported(run_cs, log)
    log.write_text(whole + "\n")
    second = imported(run_cs, log)

    assert (first["calls"]["found"], first["brokenLines"]) == (0, 0)
    assert second["calls"]["imported"] == 1


def test_claude_config_dir_lists_several_homes(run_cs, cs_home, tmp_path, logs):
    other = tmp_path / "second"
    (other / "projects" / "p").mkdir(parents=True)
    line = assistant("msg_X", output=7, stamp="2026-03-01T10:00:00.000Z")
    (other / "projects" / "p" / "s.jsonl").write_text(line + "\n")

    result = run_cs(
        "import", "claude-code", "--json", env={"CLAUDE_CONFIG_DIR": f"{logs}, {other}"}
    )

    assert result.json["calls"]["imported"] == 6
    assert "msg_X" in calls(cs_home)


def test_the_default_homes_are_dot_claude_and_dot_config(
    run_cs, cs_home, tmp_path, logs
):
    home = tmp_path / "home"
    shutil.copytree(logs, home / ".claude")
    (home / ".config" / "claude" / "projects" / "p").mkdir(parents=True)
    line = assistant("msg_Y", output=7, stamp="2026-03-01T10:00:00.000Z")
    (home / ".config" / "claude" / "projects" / "p" / "s.jsonl").write_text(line + "\n")

    result = run_cs("import", "claude-code", "--json", env={"HOME": str(home)})

    assert result.json["calls"]["imported"] == 6
    assert result.json["files"]["found"] == 4


def test_a_huge_line_without_usage_is_skipped_and_the_next_one_read(
    run_cs, cs_home, tmp_path, monkeypatch
):
    from cs_core import importing

    monkeypatch.setattr(importing, "CHUNK_BYTES", 64)
    monkeypatch.setattr(importing, "LONG_LINE_BYTES", 128)
    snapshot = json.dumps({"type": "file-history-snapshot", "blob": "x" * 5000})
    usage_late = assistant("msg_L", output=9, stamp="2026-03-01T10:00:00.000Z")
    log = tmp_path / "s.jsonl"
    log.write_text(snapshot + "\n" + usage_late + "\n")

    report = imported(run_cs, log)

    assert report["calls"]["imported"] == 1
    assert calls(cs_home)["msg_L"]["completion_tokens"] == 9


@pytest.mark.parametrize(
    "stamp",
    ["0001-01-01T00:00:00.000Z", "2014-12-31T23:59:59.999Z", "2026-06-03T00:00:00Z"],
    ids=["year-one", "before-2015", "two-days-ahead"],
)
def test_implausible_timestamps_are_broken_lines(run_cs, cs_home, tmp_path, stamp):
    path = tmp_path / "claude" / "projects" / "-x" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        assistant("msg_bad", output=5, stamp=stamp)
        + "\n"
        + assistant("msg_good", output=7, stamp="2026-05-31T10:00:00.000Z")
        + "\n"
    )
    env = {"CODESESSION_NOW": "2026-06-01T00:00:00.000Z"}

    result = run_cs(
        "import", "claude-code", "--path", str(path.parent), "--json", env=env
    )

    assert result.exit_code == 0, result.stdout
    assert result.json["brokenLines"] == 1
    assert list(calls(cs_home)) == ["msg_good"]
    started = db(cs_home).execute("SELECT start_time FROM sessions").fetchall()
    assert [row[0] for row in started] == ["2026-05-31T10:00:00.000Z"]


def test_a_timestamp_less_than_a_day_ahead_is_kept(run_cs, cs_home, tmp_path):
    path = tmp_path / "claude" / "projects" / "-x" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        assistant("msg_soon", output=5, stamp="2026-06-01T23:00:00Z") + "\n"
    )
    env = {"CODESESSION_NOW": "2026-06-01T00:00:00.000Z"}

    result = run_cs(
        "import", "claude-code", "--path", str(path.parent), "--json", env=env
    )

    assert result.json["brokenLines"] == 0
    assert calls(cs_home)["msg_soon"]["timestamp"] == "2026-06-01T23:00:00.000Z"


def test_auto_log_skips_implausible_timestamps(run_cs, cs_home, tmp_path, git_repo):
    import io
    import sys

    transcript = tmp_path / "t.jsonl"
    transcript.write_text(
        assistant(
            "msg_old", output=5, stamp="0001-01-01T00:00:00.000Z", cwd=str(git_repo)
        )
        + "\n"
        + assistant("msg_now", output=7, stamp="2026-06-01T00:10:00.000Z")
        + "\n"
    )
    env = {"CODESESSION_NOW": "2026-06-01T00:00:00.000Z"}
    assert run_cs("start", "work", "--json", cwd=git_repo, env=env).exit_code == 0
    hook = {"session_id": "s", "transcript_path": str(transcript), "cwd": str(git_repo)}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(json.dumps(hook)))
        result = run_cs("auto-log", "--json", cwd=git_repo, env=env)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert list(calls(cs_home)) == ["msg_now"]
    assert any(w["code"] == "broken_lines" for w in result.json.get("warnings", []))
