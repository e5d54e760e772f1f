"""The live runner's parts: settings, storing watcher and poller results, and the
two displays. The live process itself is tested in tests/cli/test_start_live.py."""

import io
from pathlib import Path

import pytest
from rich.console import Console

from cs_core import Commit, InvalidInputError
from cs_core.db import connect
from cs_core.live import (
    DEFAULT_POLL_S,
    View,
    elapsed_text,
    plain_line,
    poll_interval,
    record_commits,
    record_files,
    render,
)
from cs_core.sessions import get_session
from cs_core.watch import CREATED, DELETED, MODIFIED, RENAMED, Event

AT = "2026-03-02T10:00:00.000Z"


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [(None, None, DEFAULT_POLL_S), (None, "0.5", 0.5), (2.0, "0.5", 2.0)],
    ids=["default", "environment", "flag-wins"],
)
def test_poll_interval_comes_from_flag_then_environment(
    monkeypatch: pytest.MonkeyPatch,
    flag: float | None,
    env: str | None,
    expected: float,
) -> None:
    if env is not None:
        monkeypatch.setenv("CODESESSION_POLL_INTERVAL", env)

    assert poll_interval(flag) == expected


@pytest.mark.parametrize(
    ("flag", "env"),
    [(0.0, None), (-1.0, None), (3601.0, None), (float("nan"), None), (None, "x")],
    ids=["zero", "negative", "over-an-hour", "nan", "env-not-a-number"],
)
def test_bad_poll_interval_is_rejected(
    monkeypatch: pytest.MonkeyPatch, flag: float | None, env: str | None
) -> None:
    if env is not None:
        monkeypatch.setenv("CODESESSION_POLL_INTERVAL", env)

    with pytest.raises(InvalidInputError):
        poll_interval(flag)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (125, "2m 05s"), (3725, "1h 02m 05s"), (-3, "0s")],
    ids=["zero", "seconds", "minutes", "hours", "negative-clamped"],
)
def test_elapsed_text_counts_seconds(seconds: int, text: str) -> None:
    assert elapsed_text(seconds) == text


@pytest.fixture
def session_id(git_repo: Path, run_cs) -> int:
    return run_cs("start", "live parts", "--json", cwd=git_repo).json["id"]


@pytest.fixture
def conn(cs_home: Path):
    connection = connect()
    yield connection
    connection.close()


def stored(conn) -> list[tuple]:
    return [
        tuple(row)
        for row in conn.execute(
            "SELECT file_path, change_type, old_path, timestamp FROM file_changes"
            " ORDER BY file_path"
        )
    ]


def test_record_files_keeps_one_net_row_per_path(session_id: int, conn) -> None:
    later = "2026-03-02T10:01:00.000Z"

    record_files(conn, session_id, [Event(CREATED, "a"), Event(MODIFIED, "b")], AT)
    record_files(
        conn, session_id, [Event(MODIFIED, "a"), Event(RENAMED, "c", "b")], later
    )
    record_files(conn, session_id, [Event(DELETED, "d")], later)

    assert stored(conn) == [
        ("a", "created", None, later),
        ("c", "renamed", "b", later),
        ("d", "deleted", None, later),
    ]
    session = get_session(conn, session_id)
    assert (session["files_changed"], session["last_activity_at"]) == (3, later)


def test_nothing_is_recorded_after_the_session_ended(
    session_id: int, run_cs, git_repo: Path, conn
) -> None:
    run_cs("end", "--json", cwd=git_repo)
    commit = Commit("a" * 40, "late", "2026-03-02T10:00:00+00:00")

    wrote_files = record_files(conn, session_id, [Event(CREATED, "late.txt")], AT)
    wrote_commits = record_commits(conn, session_id, [commit])

    assert (wrote_files, wrote_commits) == (False, False)
    assert stored(conn) == []
    assert conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0] == 0


def test_record_commits_never_stores_a_hash_twice(session_id: int, conn) -> None:
    first = Commit("a" * 40, "first", "2026-03-02T10:00:00+00:00")
    second = Commit("b" * 40, "second", "2026-03-02T10:01:00+00:00")

    record_commits(conn, session_id, [first])
    record_commits(conn, session_id, [first, second])

    rows = conn.execute("SELECT hash, message FROM commits ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("a" * 40, "first"), ("b" * 40, "second")]
    assert get_session(conn, session_id)["commits"] == 2


VIEW = View(
    session_id=7,
    name="fix [auth] bug",
    scope="/work/repo",
    elapsed_s=125,
    cost_usd=0.0123,
    unpriced_calls=1,
    tokens=12345,
    calls=3,
    files=4,
    commits=None,
    last_call="anthropic/claude-sonnet-4-5, 1,200 tokens, $0.0123 at 10:15:30",
    last_note="halfway (10:16:00)",
    watcher="watching 1,234 files",
)


def test_plain_line_has_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESESSION_NOW", "2026-03-02T10:17:05Z")

    assert plain_line(VIEW) == (
        "[10:17:05] #7 2m 05s | cost $0.0123 (+1 unpriced) | tokens 12,345 | calls 3"
        " | files 4 | commits n/a"
    )


def test_render_shows_the_figures_without_reading_markup() -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)

    console.print(render(VIEW))

    text = console.file.getvalue()
    for expected in (
        "Session #7: fix [auth] bug",
        "Elapsed        2m 05s",
        "AI cost        $0.0123 (+1 unpriced)",
        "Tokens         12,345",
        "Calls          3",
        "Files changed  4",
        "Commits        n/a",
        "Latest call    anthropic/claude-sonnet-4-5, 1,200 tokens, $0.0123 at 10:15:30",
        "Latest note    halfway (10:16:00)",
        "Watcher        watching 1,234 files",
    ):
        assert expected in text
