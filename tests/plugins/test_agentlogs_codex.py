"""The Codex reader: running totals, repeats, forks and archives, on hand-written
fixtures (tests/fixtures/codex), imported into a real database."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "codex"
MAIN_ID = "33333333-3333-4333-8333-333333333333"
FORK_ID = "44444444-4444-4444-8444-444444444444"
ARCHIVED_ID = "55555555-5555-4555-8555-555555555555"
MAIN = f"sessions/2026/05/13/rollout-2026-05-13T09-00-00-{MAIN_ID}.jsonl"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A copy of the Codex fixture home, safe to change."""
    target = tmp_path / "codex-home"
    shutil.copytree(FIXTURES, target)
    return target


def db(cs_home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(cs_home / "sessions.db")
    conn.row_factory = sqlite3.Row
    return conn


def rows(cs_home: Path, session: str) -> list[tuple]:
    return [
        tuple(row)
        for row in db(cs_home).execute(
            "SELECT u.external_id, u.model, u.prompt_tokens, u.cache_read_tokens,"
            " u.completion_tokens, u.reasoning_tokens, u.tokens, u.cost"
            " FROM ai_usage u JOIN sessions s ON s.id = u.session_id"
            " WHERE s.external_id = ? ORDER BY u.id",
            (session,),
        )
    ]


def run_import(run_cs, home: Path) -> dict:
    result = run_cs("import", "codex", "--json", env={"CODEX_HOME": str(home)})
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.json


def test_calls_are_the_differences_of_the_running_total(run_cs, cs_home, home):
    run_import(run_cs, home)

    assert rows(cs_home, MAIN_ID) == [
        (f"codex:{MAIN_ID}:1", "gpt-5.2-codex", 1000, 200, 100, 40, 1100, 0.002835),
        (f"codex:{MAIN_ID}:3", "gpt-5.2-codex", 1500, 1000, 50, 0, 1550, 0.00175),
        (f"codex:{MAIN_ID}:4", "gpt-7-imaginary", 500, 0, 50, 20, 550, None),
    ]


def test_a_repeated_total_is_not_a_new_call(run_cs, cs_home, home):
    run_import(run_cs, home)

    ids = [row[0] for row in rows(cs_home, MAIN_ID)]

    # Event 2 repeats event 1's total 12 ms later (a rate-limit refresh).
    assert f"codex:{MAIN_ID}:2" not in ids


def test_a_forked_session_counts_only_what_follows_the_replayed_history(
    run_cs, cs_home, home
):
    run_import(run_cs, home)

    assert rows(cs_home, FORK_ID) == [
        (f"codex:{FORK_ID}:2", "gpt-5.2-codex", 1500, 800, 150, 60, 1650, 0.003465)
    ]


def test_archived_sessions_are_read_but_a_live_file_hides_its_archived_twin(
    run_cs, cs_home, home
):
    report = run_import(run_cs, home)

    assert rows(cs_home, ARCHIVED_ID) == [
        (f"codex:{ARCHIVED_ID}:0", "gpt-5-codex", 2000, 0, 100, 0, 2100, 0.0035)
    ]
    assert report["files"]["found"] == 3
    assert report["tokens"] == 1100 + 1550 + 550 + 1650 + 2100


def test_events_without_info_broken_lines_and_unknown_models(run_cs, home):
    report = run_import(run_cs, home)

    assert report["brokenLines"] == 1
    assert report["calls"]["unpriced"] == 1
    assert report["warnings"][0]["message"] == (
        "no price for model 'gpt-7-imaginary' of provider 'openai': "
        "1 calls stored with an unknown cost"
    )


def test_each_codex_session_is_a_completed_session(run_cs, cs_home, home):
    run_import(run_cs, home)

    row = (
        db(cs_home)
        .execute(
            "SELECT name, status, source, start_time, end_time, duration, scope,"
            " ai_tokens, ai_cost FROM sessions WHERE external_id = ?",
            (MAIN_ID,),
        )
        .fetchone()
    )

    assert tuple(row) == (
        "Codex 33333333",
        "completed",
        "codex",
        "2026-05-13T09:00:05.000Z",
        "2026-05-13T09:01:30.000Z",
        85,
        "/nonexistent/alice/codexrepo",
        3200,
        pytest.approx(0.004585, abs=1e-12),
    )


def test_the_running_total_resumes_where_the_last_run_stopped(run_cs, cs_home, home):
    log = home / MAIN
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:6]))
    first = run_import(run_cs, home)

    log.write_text("".join(lines))
    second = run_import(run_cs, home)

    assert first["calls"]["imported"] == 3
    assert second["calls"] == {
        "found": 2,
        "imported": 2,
        "duplicates": 0,
        "unpriced": 1,
    }
    assert [row[2:6] for row in rows(cs_home, MAIN_ID)] == [
        (1000, 200, 100, 40),
        (1500, 1000, 50, 0),
        (500, 0, 50, 20),
    ]


def test_codex_home_lists_several_homes(run_cs, cs_home, home, tmp_path):
    other = tmp_path / "other-home"
    (other / "sessions").mkdir(parents=True)
    shutil.copy(home / MAIN, other / "sessions" / "copy.jsonl")
    shutil.rmtree(home / "sessions")

    result = run_cs("import", "codex", "--json", env={"CODEX_HOME": f"{home},{other}"})

    assert result.json["files"]["found"] == 3
    assert result.json["sessions"]["created"] == 2


def test_path_reads_one_folder_instead_of_the_homes(run_cs, cs_home, home):
    result = run_cs(
        "import", "codex", "--path", str(home / "archived_sessions"), "--json"
    )

    assert result.json["files"]["found"] == 2


def test_a_spawned_subagent_session_is_baselined_like_a_fork(run_cs, cs_home, home):
    fork = home / f"sessions/2026/05/13/rollout-2026-05-13T10-00-00-{FORK_ID}.jsonl"
    parent = json.dumps({"parent_thread_id": MAIN_ID}, separators=(",", ":"))
    spawned = '"source":{"subagent":{"thread_spawn":' + parent + "}}"
    text = fork.read_text().replace(f'"forked_from_id":"{MAIN_ID}",', "")
    fork.write_text(text.replace('"source":"cli"', spawned, 1))

    run_import(run_cs, home)

    assert [row[2:6] for row in rows(cs_home, FORK_ID)] == [(1500, 800, 150, 60)]


def test_an_unreadable_file_is_tried_again_next_time(
    run_cs, cs_home, home, monkeypatch
):
    from pathlib import Path as RealPath

    real_open = RealPath.open

    def refuse(self, *args, **kwargs):
        if self.name.endswith(f"{ARCHIVED_ID}.jsonl"):
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(RealPath, "open", refuse)
    first = run_import(run_cs, home)
    monkeypatch.setattr(RealPath, "open", real_open)
    second = run_import(run_cs, home)

    assert first["files"]["skipped"] == 1
    assert second["files"]["read"] == 1
    assert rows(cs_home, ARCHIVED_ID)[0][6] == 2100


@pytest.mark.parametrize(
    "stamp",
    ["0001-01-01T00:00:00.000Z", "2014-06-01T00:00:00Z", "2030-01-01T00:00:00.000Z"],
    ids=["year-one", "before-2015", "years-ahead"],
)
def test_implausible_timestamps_are_broken_lines(run_cs, cs_home, home, stamp):
    total = {"input_tokens": 9000, "output_tokens": 900, "total_tokens": 9900}
    line = {
        "timestamp": stamp,
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "info": {"total_token_usage": total, "last_token_usage": total},
        },
    }
    with (home / MAIN).open("a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")

    report = run_import(run_cs, home)

    assert report["brokenLines"] == 2
    assert [row[0] for row in rows(cs_home, MAIN_ID)] == [
        f"codex:{MAIN_ID}:1",
        f"codex:{MAIN_ID}:3",
        f"codex:{MAIN_ID}:4",
    ]
    earliest = db(cs_home).execute("SELECT MIN(start_time) FROM sessions").fetchone()
    assert earliest[0] >= "2026-"
