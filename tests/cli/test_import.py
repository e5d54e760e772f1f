"""`cs import claude-code|codex`: the report, incremental runs, --since, --dry-run."""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    target = tmp_path / "claude"
    shutil.copytree(FIXTURES / "claude", target)
    return target


def counts(home: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(home / "sessions.db")
    return tuple(
        conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("sessions", "ai_usage", "import_state")
    )


def test_json_report_of_a_first_import(run_cs, logs):
    result = run_cs("import", "claude-code", "--path", str(logs), "--json")

    assert result.exit_code == 0
    assert result.json == {
        "schemaVersion": 1,
        "codesessionVersion": result.json["codesessionVersion"],
        "source": "claude-code",
        "dryRun": False,
        "files": {"found": 3, "read": 3, "unchanged": 0, "skipped": 0},
        "calls": {"found": 6, "imported": 5, "duplicates": 1, "unpriced": 1},
        "sessions": {"created": 2, "ids": [1, 2]},
        "tokens": 8143,
        "cost": 0.020499,
        "brokenLines": 1,
        "warnings": [
            {
                "code": "unpriced_model",
                "message": "no price for model 'claude-mystery-9' of provider "
                "'anthropic': 1 calls stored with an unknown cost",
            },
            {
                "code": "broken_lines",
                "message": "1 lines could not be read and were skipped",
            },
        ],
    }
    assert result.stderr == ""


def test_human_report_is_one_line_with_warnings_on_stderr(run_cs, logs):
    result = run_cs("import", "claude-code", "--path", str(logs))

    assert result.exit_code == 0
    assert result.stdout == (
        "Imported 5 new claude-code calls (1 already recorded) from 3 of 3 files "
        "into 2 new sessions: 8,143 tokens, $0.0205\n"
    )
    assert "Warning: no price for model 'claude-mystery-9'" in result.stderr


def test_a_second_run_with_nothing_new_only_stats_the_files(
    run_cs, cs_home, logs, monkeypatch
):
    run_cs("import", "claude-code", "--path", str(logs), "--json")
    opened = []
    real_open = Path.open
    monkeypatch.setattr(
        Path,
        "open",
        lambda self, *a, **k: opened.append(self) or real_open(self, *a, **k),
    )

    result = run_cs("import", "claude-code", "--path", str(logs), "--json")

    assert result.json["files"] == {"found": 3, "read": 0, "unchanged": 3, "skipped": 0}
    assert result.json["calls"]["found"] == 0
    assert [path for path in opened if path.suffix == ".jsonl"] == []


def test_appended_lines_are_read_from_where_the_last_run_stopped(run_cs, cs_home, logs):
    run_cs("import", "claude-code", "--path", str(logs), "--json")
    log = logs / "projects" / "-nonexistent-bob-other"
    log = log / "22222222-2222-4222-8222-222222222222.jsonl"
    line = log.read_text().replace("msg_03CCCC", "msg_04DDDD")
    with log.open("a") as handle:
        handle.write(line.replace("08:00:00.000Z", "09:00:00.000Z"))

    result = run_cs("import", "claude-code", "--path", str(logs), "--json")

    assert result.json["files"]["read"] == 1
    assert result.json["calls"] == {
        "found": 1,
        "imported": 1,
        "duplicates": 0,
        "unpriced": 0,
    }
    assert result.json["sessions"] == {"created": 0, "ids": [2]}


def test_deleted_logs_lose_nothing_already_imported(run_cs, cs_home, logs):
    run_cs("import", "claude-code", "--path", str(logs), "--json")
    before = counts(cs_home)
    shutil.rmtree(logs / "projects" / "-nonexistent-alice-myrepo")

    result = run_cs("import", "claude-code", "--path", str(logs), "--json")

    assert result.exit_code == 0
    assert counts(cs_home)[:2] == before[:2]
    total = sqlite3.connect(cs_home / "sessions.db").execute(
        "SELECT SUM(ai_tokens) FROM sessions"
    )
    assert total.fetchone()[0] == 8143


def test_a_replaced_file_is_read_again_without_duplicates(run_cs, cs_home, logs):
    run_cs("import", "claude-code", "--path", str(logs), "--json")
    log = next((logs / "projects" / "-nonexistent-bob-other").iterdir())
    fresh = log.with_suffix(".new")
    fresh.write_text(log.read_text())
    fresh.replace(log)  # a new inode, as when a tool rewrites the file

    result = run_cs("import", "claude-code", "--path", str(logs), "--json")

    assert result.json["calls"] == {
        "found": 1,
        "imported": 0,
        "duplicates": 1,
        "unpriced": 0,
    }


def test_dry_run_counts_and_stores_nothing(run_cs, cs_home, logs):
    result = run_cs("import", "claude-code", "--path", str(logs), "--dry-run", "--json")

    assert result.json["dryRun"] is True
    assert result.json["calls"]["imported"] == 5
    assert result.json["sessions"] == {"created": 2, "ids": []}
    assert result.json["cost"] == 0.020499
    assert counts(cs_home) == (0, 0, 0)


def test_since_leaves_older_calls_out_until_a_run_without_it(run_cs, cs_home, logs):
    recent = run_cs(
        "import", "claude-code", "--path", str(logs), "--since", "2026-02-01", "--json"
    )

    everything = run_cs("import", "claude-code", "--path", str(logs), "--json")

    assert recent.json["calls"]["imported"] == 4
    assert everything.json["calls"]["imported"] == 1
    assert everything.json["files"]["read"] == 1


def test_since_skips_files_last_changed_before_it(run_cs, cs_home, logs):
    for path in logs.rglob("*.jsonl"):
        os.utime(path, (1_000_000_000, 1_000_000_000))

    result = run_cs(
        "import", "claude-code", "--path", str(logs), "--since", "2026-02-01", "--json"
    )

    assert result.json["files"] == {"found": 3, "read": 0, "unchanged": 0, "skipped": 3}


def test_a_bad_since_is_invalid_input(run_cs, logs):
    result = run_cs(
        "import", "claude-code", "--path", str(logs), "--since", "yesterday", "--json"
    )

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "invalid_input"


def test_codex_import_report(run_cs, tmp_path):
    home = tmp_path / "codex"
    shutil.copytree(FIXTURES / "codex", home)

    result = run_cs("import", "codex", "--json", env={"CODEX_HOME": str(home)})

    assert result.json["calls"] == {
        "found": 5,
        "imported": 5,
        "duplicates": 0,
        "unpriced": 1,
    }
    assert (result.json["tokens"], result.json["cost"]) == (6950, 0.01155)


def test_imported_calls_show_up_in_stats_by_agent(run_cs, logs):
    run_cs("import", "claude-code", "--path", str(logs), "--json")

    result = run_cs("stats", "--by", "agent", "--json")

    agents = {row["key"]: row["calls"] for row in result.json["breakdown"]}
    assert agents == {"claude-code": 4, "subagent:a1b2c3": 1}


def test_import_has_help(run_cs):
    result = run_cs("import", "--help")

    assert result.exit_code == 0
    assert "claude-code" in result.stdout
    assert "codex" in result.stdout


@pytest.mark.parametrize("agent", ["claude-code", "codex"], ids=["claude", "codex"])
def test_a_missing_path_is_invalid_input(run_cs, tmp_path, agent):
    result = run_cs("import", agent, "--path", str(tmp_path / "nope"), "--json")

    assert result.exit_code == 1
    assert result.json["error"] == {
        "code": "invalid_input",
        "message": f"no such file or folder: '{tmp_path / 'nope'}'",
    }


def test_no_logs_at_all_is_an_empty_import(run_cs, tmp_path):
    home = {"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": ""}

    result = run_cs("import", "claude-code", "--json", env=home)

    assert result.json["files"] == {"found": 0, "read": 0, "unchanged": 0, "skipped": 0}
    assert result.json["cost"] == 0


def test_the_progress_bar_shows_only_on_a_terminal(monkeypatch):
    import io
    import sys

    from cs_core import importing

    class Terminal(io.TextIOWrapper):  # has a .buffer, like the real stderr
        def isatty(self) -> bool:
            return True

    screen = Terminal(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", screen)
    with importing._ProgressBar(enabled=True) as progress:
        assert progress is not None
        progress(512, 1024)
    with importing._ProgressBar(enabled=False) as hidden:
        assert hidden is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with importing._ProgressBar(enabled=True) as piped:
        assert piped is None


def test_two_imports_at_once_store_everything_once(cs_home, logs):
    import subprocess
    import sys

    argv = [
        sys.executable,
        "-m",
        "cs_core",
        "import",
        "claude-code",
        "--path",
        str(logs),
    ]
    runs = [
        subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]

    errors = [run.communicate()[1] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], errors
    assert counts(cs_home)[:2] == (2, 5)


def test_a_relative_path_finds_its_read_positions_from_another_folder(
    run_cs, logs, tmp_path
):
    run_cs("import", "claude-code", "--path", "claude", "--json", cwd=tmp_path)

    again = run_cs(
        "import",
        "claude-code",
        "--path",
        "../claude",
        "--json",
        cwd=tmp_path / "cs-home",
    )

    assert again.json["files"]["unchanged"] == 3
