"""Aggregates: the fast paths give the same figures as a plain reading of the rows."""

import random
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cs_core.clock import to_iso
from cs_core.db import connect
from cs_core.stats import Period, breakdown, summary


@pytest.fixture
def history(tmp_path: Path) -> sqlite3.Connection:
    """Sessions in three projects with priced and unpriced calls over 40 days."""
    conn = connect(tmp_path / "stats.db")
    rng = random.Random(4)
    from datetime import UTC, datetime, timedelta

    first = datetime(2026, 3, 1, tzinfo=UTC)
    for sid in range(1, 31):
        project = f"/p/{sid % 3}"
        start = first + timedelta(hours=rng.randrange(40 * 24))
        conn.execute(
            "INSERT INTO sessions (id, name, start_time, working_directory, scope,"
            " project_root, status) VALUES (?, ?, ?, ?, ?, ?, 'active')",
            (sid, f"s{sid}", to_iso(start), project, project, project),
        )
        for _ in range(rng.randrange(0, 12)):
            cost = None if rng.random() < 0.1 else rng.randrange(1, 10_000) / 1e6
            tokens = rng.randrange(1, 5000)
            at = start + timedelta(minutes=rng.randrange(600))
            conn.execute(
                "INSERT INTO ai_usage (session_id, provider, model, tokens, cost,"
                " timestamp, agent_name) VALUES (?, 'openai', ?, ?, ?, ?, ?)",
                (sid, rng.choice(["gpt-4o", "o3"]), tokens, cost, to_iso(at),
                 rng.choice(["a", "b", None])),
            )  # fmt: skip
            conn.execute(
                "UPDATE sessions SET ai_cost = ai_cost + ?, ai_tokens = ai_tokens + ?"
                " WHERE id = ?",
                (cost or 0, tokens, sid),
            )
    return conn


def plain(conn: sqlite3.Connection, key: str, tz: str) -> dict:
    """The same breakdown computed row by row in Python."""
    zone = ZoneInfo(tz)
    from cs_core.clock import parse_instant

    groups: dict = {}
    rows = conn.execute(
        "SELECT u.*, s.project_root FROM ai_usage u"
        " JOIN sessions s ON s.id = u.session_id"
    )
    for row in rows:
        name = {
            "day": parse_instant(row["timestamp"]).astimezone(zone).date().isoformat(),
            "model": row["model"],
            "agent": row["agent_name"] or "(none)",
            "project": row["project_root"],
            "provider": row["provider"],
        }[key]
        g = groups.setdefault(name, {"cost": 0.0, "tokens": 0, "calls": 0, "s": set()})
        g["cost"] += row["cost"] or 0
        g["tokens"] += row["tokens"]
        g["calls"] += 1
        g["s"].add(row["session_id"])
    if key == "project":  # every session of a project counts, calls or not
        for sid, project in conn.execute("SELECT id, project_root FROM sessions"):
            groups.setdefault(
                project, {"cost": 0.0, "tokens": 0, "calls": 0, "s": set()}
            )["s"].add(sid)
    return {
        k: (round(v["cost"], 10), v["tokens"], v["calls"], len(v["s"]))
        for k, v in groups.items()
    }


@pytest.mark.parametrize("key", ["day", "model", "provider", "agent", "project"])
@pytest.mark.parametrize("tz", ["UTC", "America/Denver", "Asia/Kolkata"])
@pytest.mark.parametrize(
    "period",
    [Period(), Period("2026-03-05T00:00:00.000Z", "2026-03-30T00:00:00.000Z")],
    ids=["all-time", "period"],
)
def test_breakdowns_match_a_plain_reading(history, key, tz, period) -> None:
    rows = breakdown(history, key, period, ZoneInfo(tz))
    expected = plain(history, key, tz)

    if period.start:
        where = (period.start, period.end)
        history.execute(
            "DELETE FROM ai_usage WHERE timestamp < ? OR timestamp >= ?", where
        )
        # Sessions that began after the period were never in it.
        history.execute("DELETE FROM sessions WHERE start_time >= ?", (period.end,))
        expected = plain(history, key, tz)
    got = {r["key"]: (r["cost"], r["tokens"], r["calls"], r["sessions"]) for r in rows}
    assert got == expected


def test_all_time_summary_matches_the_rows(history) -> None:
    found = summary(history, Period())
    cost, tokens, calls, unpriced = history.execute(
        "SELECT ROUND(SUM(cost), 10), SUM(tokens), COUNT(*), SUM(cost IS NULL)"
        " FROM ai_usage"
    ).fetchone()

    assert (found["totalAICost"], found["totalTokens"]) == (cost, tokens)
    assert (found["totalCalls"], found["unpricedCalls"]) == (calls, unpriced)
