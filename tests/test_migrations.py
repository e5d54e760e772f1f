"""A codesession-cli 2.4 database opens in place, migrates, and keeps every row."""

import sqlite3
from pathlib import Path

import sqlite_utils

from cs_core.db import connect
from cs_core.migrations import MIGRATIONS

# The original created tables as below and added later columns with ALTER TABLE,
# so in an old database they sit at the end.
ORIGINAL_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
    start_time TEXT NOT NULL, end_time TEXT, duration INTEGER,
    working_directory TEXT NOT NULL, files_changed INTEGER DEFAULT 0,
    commits INTEGER DEFAULT 0, ai_cost REAL DEFAULT 0, ai_tokens INTEGER DEFAULT 0,
    notes TEXT, status TEXT DEFAULT 'active');
ALTER TABLE sessions ADD COLUMN git_root TEXT;
ALTER TABLE sessions ADD COLUMN start_git_head TEXT;
CREATE TABLE ai_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL,
    provider TEXT NOT NULL, model TEXT NOT NULL, tokens INTEGER NOT NULL,
    cost REAL NOT NULL, timestamp TEXT NOT NULL);
ALTER TABLE ai_usage ADD COLUMN prompt_tokens INTEGER;
ALTER TABLE ai_usage ADD COLUMN completion_tokens INTEGER;
ALTER TABLE ai_usage ADD COLUMN agent_name TEXT;
CREATE TABLE file_changes (id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL, file_path TEXT NOT NULL, change_type TEXT NOT NULL,
    timestamp TEXT NOT NULL);
CREATE TABLE commits (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL,
    hash TEXT NOT NULL, message TEXT NOT NULL, timestamp TEXT NOT NULL);
CREATE TABLE session_notes (id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL, message TEXT NOT NULL, timestamp TEXT NOT NULL);
"""

ROWS = """
INSERT INTO sessions VALUES (7, 'old work', '2025-01-02T10:00:00.000Z',
    '2025-01-02T11:00:00.000Z', 3600, '/src/app', 2, 1, 0.25, 12000, 'done',
    'completed', '/src/app', 'abc1234');
INSERT INTO sessions VALUES (9, 'left open', '2025-01-03T10:00:00.000Z', NULL, NULL,
    '/src/other', 0, 0, 0.1, 100, NULL, 'active', NULL, NULL);
INSERT INTO ai_usage VALUES (3, 7, 'anthropic', 'claude-sonnet-4', 10000, 0.2,
    '2025-01-02T10:10:00.000Z', 8000, 2000, 'Bug Fixer');
INSERT INTO ai_usage VALUES (4, 7, 'openai', 'gpt-4o', 2000, 0.05,
    '2025-01-02T10:20:00.000Z', NULL, NULL, NULL);
INSERT INTO ai_usage VALUES (5, 9, 'openai', 'gpt-4o', 100, -0.5,
    '2025-01-03T10:05:00.000Z', 50, 50, NULL);
INSERT INTO file_changes VALUES
    (1, 7, 'src/a.ts', 'modified', '2025-01-02T10:30:00.000Z');
INSERT INTO file_changes VALUES
    (2, 7, 'src/b.ts', 'created', '2025-01-02T10:31:00.000Z');
INSERT INTO commits VALUES
    (1, 7, 'abcdef0123456789', 'fix login', '2025-01-02T10:40:00+01:00');
INSERT INTO session_notes VALUES (1, 7, 'started', '2025-01-02T10:01:00.000Z');
INSERT INTO ai_usage VALUES (6, 99, 'openai', 'gpt-4o', 5, 0.01,
    '2025-01-04T10:05:00.000Z', 3, 2, NULL);
INSERT INTO session_notes VALUES (2, 98, 'orphan note', '2025-01-04T10:01:00.000Z');
"""


def original_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(ORIGINAL_SCHEMA + ROWS)
    conn.commit()
    conn.close()
    return path


def test_original_database_migrates_keeping_every_row(tmp_path: Path) -> None:
    path = original_db(tmp_path / "sessions.db")
    before = {
        table: sqlite_utils.Database(path)[table].count
        for table in (
            "sessions",
            "ai_usage",
            "file_changes",
            "commits",
            "session_notes",
        )
    }

    connect(path).close()

    db = sqlite_utils.Database(path)
    after = {table: db[table].count for table in before}
    assert after == before
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    calls = {row["id"]: row for row in db["ai_usage"].rows}
    assert calls[3]["cost"] == 0.2
    assert calls[3]["agent_name"] == "Bug Fixer"
    assert calls[3]["prompt_tokens"] == 8000
    assert calls[3]["cost_source"] == "legacy"
    assert calls[5]["cost"] is None  # the original's negative cost becomes unknown
    assert calls[6]["session_id"] == 99  # an orphan of a hand-deleted session stays
    assert [fk.other_table for fk in db["session_notes"].foreign_keys] == ["sessions"]
    session = db["sessions"].get(7)
    assert (session["scope"], session["project_root"], session["end_reason"]) == (
        "/src/app", "/src/app", "ended",
    )  # fmt: skip
    assert db["sessions"].get(9)["scope"] == "/src/other"
    # Session 9's only call had a negative cost, now unknown: its sum follows.
    assert (db["sessions"].get(9)["ai_cost"], db["sessions"].get(9)["ai_tokens"]) == (
        0,
        100,
    )


def test_migrated_database_serves_the_cli(tmp_path: Path, run_cs, monkeypatch) -> None:
    path = original_db(tmp_path / "old.db")
    monkeypatch.setenv("CODESESSION_DB_PATH", str(path))

    shown = run_cs("show", "7", "--json", "--files", "--commits").json
    listed = run_cs("list", "--json").json

    assert shown["aiCost"] == 0.25
    assert [c["cost"] for c in shown["aiUsage"]] == [0.2, 0.05]
    assert [f["filePath"] for f in shown["files"]] == ["src/a.ts", "src/b.ts"]
    assert shown["commits"][0]["hash"] == "abcdef0"
    assert [s["id"] for s in listed] == [9, 7]


def test_migrations_run_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"

    connect(path).close()
    connect(path).close()

    names = [
        r[0]
        for r in sqlite3.connect(path).execute(
            "SELECT name FROM _cs_migrations ORDER BY rowid"
        )
    ]
    assert names == [fn.__name__ for fn in MIGRATIONS]


def test_new_schema_enforces_checks(tmp_path: Path) -> None:
    conn = connect(tmp_path / "checks.db")
    conn.execute(
        "INSERT INTO sessions (name, start_time, working_directory)"
        " VALUES ('s', 't', '/')"
    )

    for bad in ("cost", "tokens", "prompt_tokens"):
        values = {"cost": 0.1, "tokens": 1, "prompt_tokens": 1, bad: -1}
        try:
            conn.execute(
                "INSERT INTO ai_usage (session_id, provider, model, tokens,"
                " prompt_tokens, cost, timestamp)"
                " VALUES (1, 'p', 'm', :tokens, :prompt_tokens, :cost, 't')",
                values,
            )
        except sqlite3.IntegrityError:
            continue
        raise AssertionError(f"negative {bad} was accepted")
