"""Aggregate figures over sessions and calls: `cs stats` and the dashboard's KPIs.

Spend in a period is the cost of the calls made in it, so a session that runs past
midnight splits its spend across the two days. Sessions count when they were
active at some point in the period.
"""

import sqlite3
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Any

from . import clock
from .errors import InvalidInputError
from .output import money
from .periods import day_bounds, parse_bound, today_bounds

BREAKDOWNS = ("day", "model", "provider", "agent", "project")


@dataclass(frozen=True)
class Period:
    """A half-open range of stored timestamps; None leaves that side open."""

    start: str | None = None
    end: str | None = None

    def calls_where(self, column: str = "timestamp") -> tuple[str, list[str]]:
        """Return an SQL condition on a timestamp column, and its parameters."""
        parts, params = ["1"], []
        if self.start:
            parts.append(f"{column} >= ?")
            params.append(self.start)
        if self.end:
            parts.append(f"{column} < ?")
            params.append(self.end)
        return " AND ".join(parts), params

    def sessions_where(self) -> tuple[str, list[str]]:
        """Return an SQL condition: the session overlaps the period."""
        parts, params = ["1"], []
        if self.end:
            # The unary + keeps SQLite on the end_time index: recent periods
            # then touch only the sessions that ended in them.
            parts.append("+start_time < ?")
            params.append(self.end)
        if self.start:
            parts.append("(end_time IS NULL OR end_time >= ?)")
            params.append(self.start)
        return " AND ".join(parts), params


def make_period(
    since: str | None, until: str | None, today: bool, zone: tzinfo
) -> Period:
    """Build the period of `--since`, `--until` and `--today`.

    Raises:
        InvalidInputError: A bound is not a date or instant, or they conflict.
    """
    if today:
        if since or until:
            raise InvalidInputError(
                "--today cannot be combined with --since or --until"
            )
        return Period(*today_bounds(clock.now(), zone))
    start = parse_bound(since, zone, end=False) if since else None
    end = parse_bound(until, zone, end=True) if until else None
    if start and end and start >= end:
        raise InvalidInputError(f"--since {since} is not before --until {until}")
    return Period(start, end)


def summary(conn: sqlite3.Connection, period: Period) -> dict[str, Any]:
    """Return the totals of `cs stats` over a period."""
    where, params = period.sessions_where()
    sessions = conn.execute(
        f"""SELECT COUNT(*) AS total,
            COALESCE(SUM(status = 'active'), 0) AS active,
            COALESCE(SUM(CASE WHEN status != 'active' THEN duration END), 0) AS time,
            COALESCE(SUM(status != 'active' AND duration IS NOT NULL), 0) AS ended,
            COALESCE(SUM(files_changed), 0) AS files,
            COALESCE(SUM(commits), 0) AS commits
        FROM sessions WHERE {where}""",
        params,
    ).fetchone()
    calls = _call_totals(conn, period)
    average = int(sessions["time"] / sessions["ended"]) if sessions["ended"] else 0
    return {
        "totalSessions": sessions["total"],
        "activeSessions": sessions["active"],
        "totalTime": sessions["time"],
        "totalTimeFormatted": clock.format_duration(sessions["time"]),
        "totalFiles": sessions["files"],
        "totalCommits": sessions["commits"],
        "totalAICost": money(calls["cost"]),
        "avgSessionTime": average,
        "avgSessionFormatted": clock.format_duration(average),
        "totalTokens": calls["tokens"],
        "totalCalls": calls["calls"],
        "unpricedCalls": calls["unpriced_calls"],
        "unpricedTokens": calls["unpriced_tokens"],
    }


def _call_totals(conn: sqlite3.Connection, period: Period) -> sqlite3.Row:
    if period.start is None and period.end is None:
        return _all_time_totals(conn)
    where, params = period.calls_where()
    return conn.execute(
        f"""SELECT COALESCE(SUM(cost), 0) AS cost,
            COALESCE(SUM(tokens), 0) AS tokens,
            COUNT(*) AS calls,
            COALESCE(SUM(cost IS NULL), 0) AS unpriced_calls,
            COALESCE(SUM(CASE WHEN cost IS NULL THEN tokens END), 0)
                AS unpriced_tokens
        FROM ai_usage WHERE {where}""",
        params,
    ).fetchone()


def _all_time_totals(conn: sqlite3.Connection) -> sqlite3.Row:
    """All-time totals from the sessions' running sums: no scan of every call.

    `sessions.ai_cost` and `ai_tokens` change in the same transaction as the
    calls they add up, so they always agree with `ai_usage`.
    """
    return conn.execute(
        """SELECT (SELECT COALESCE(SUM(ai_cost), 0) FROM sessions) AS cost,
            (SELECT COALESCE(SUM(ai_tokens), 0) FROM sessions) AS tokens,
            (SELECT COUNT(*) FROM ai_usage) AS calls,
            (SELECT COUNT(*) FROM ai_usage WHERE cost IS NULL) AS unpriced_calls,
            (SELECT COALESCE(SUM(tokens), 0) FROM ai_usage WHERE cost IS NULL)
                AS unpriced_tokens"""
    ).fetchone()


_TOTALS = """COALESCE(SUM(u.cost), 0) AS cost,
    COALESCE(SUM(u.tokens), 0) AS tokens,
    COUNT(*) AS calls,
    COUNT(DISTINCT u.session_id) AS sessions,
    COALESCE(SUM(u.cost IS NULL), 0) AS unpriced_calls"""

_KEYS = {
    "model": "u.model",
    "provider": "u.provider",
    "agent": "COALESCE(u.agent_name, '(none)')",
}


def breakdown(
    conn: sqlite3.Connection, by: str, period: Period, zone: tzinfo
) -> list[dict[str, Any]]:
    """Return one row per day, model, provider, agent or project.

    Raises:
        InvalidInputError: `by` is not one of `BREAKDOWNS`.
    """
    if by not in BREAKDOWNS:
        raise InvalidInputError(
            f"--by must be one of {', '.join(BREAKDOWNS)}, not '{by}'"
        )
    rows = _by_day(conn, period, zone) if by == "day" else _by_key(conn, by, period)
    return [
        {
            "key": row["key"],
            "cost": money(row["cost"]),
            "tokens": row["tokens"],
            "calls": row["calls"],
            "sessions": row["sessions"],
            "unpricedCalls": row["unpriced_calls"],
        }
        for row in rows
    ]


_PROJECT = "COALESCE(s.project_root, s.git_root, s.working_directory)"
# Projects over all time add up the sessions' running sums: grouping a million
# calls on a key read through a join sorts them all (about 10x slower).
_PROJECTS_ALL_TIME = f"""SELECT {_PROJECT} AS key,
    COALESCE(SUM(s.ai_cost), 0) AS cost,
    COALESCE(SUM(s.ai_tokens), 0) AS tokens,
    COALESCE(SUM(c.calls), 0) AS calls,
    COUNT(*) AS sessions,
    COALESCE(SUM(n.unpriced), 0) AS unpriced_calls
FROM sessions s
LEFT JOIN (SELECT session_id, COUNT(*) AS calls FROM ai_usage GROUP BY session_id) c
    ON c.session_id = s.id
LEFT JOIN (SELECT session_id, COUNT(*) AS unpriced FROM ai_usage
           WHERE cost IS NULL GROUP BY session_id) n ON n.session_id = s.id
GROUP BY key ORDER BY cost DESC, key"""


def _by_key(conn: sqlite3.Connection, by: str, period: Period) -> list[Any]:
    if by == "project":
        return _by_project(conn, period)
    where, params = period.calls_where("u.timestamp")
    return conn.execute(
        f"""SELECT {_KEYS[by]} AS key, {_TOTALS} FROM ai_usage u
        WHERE {where} GROUP BY key ORDER BY cost DESC, key""",
        params,
    ).fetchall()


def _by_project(conn: sqlite3.Connection, period: Period) -> list[Any]:
    """Spend per project, counting every session of the project in the period,
    those without AI calls too (B13: a project is its sessions, not its calls)."""
    if period.start is None and period.end is None:
        return conn.execute(_PROJECTS_ALL_TIME).fetchall()
    where, params = period.calls_where("u.timestamp")
    spent = {
        row["key"]: dict(row)
        for row in conn.execute(
            f"""SELECT {_PROJECT} AS key, {_TOTALS} FROM ai_usage u
            JOIN sessions s ON s.id = u.session_id WHERE {where} GROUP BY key""",
            params,
        )
    }
    where, params = period.sessions_where()
    zero = {"cost": 0, "tokens": 0, "calls": 0, "unpriced_calls": 0}
    rows = [
        {**zero, **spent.get(key, {}), "key": key, "sessions": count}
        for key, count in conn.execute(
            f"SELECT {_PROJECT} AS key, COUNT(*) FROM sessions s WHERE {where}"
            " GROUP BY key",
            params,
        )
    ]
    return sorted(rows, key=lambda row: (-row["cost"], row["key"]))


def _by_day(
    conn: sqlite3.Connection, period: Period, zone: tzinfo
) -> list[sqlite3.Row]:
    """One indexed range scan per local day: exact across daylight-saving changes,
    and much faster than grouping every call on a computed date."""
    first, last = _span(conn, period)
    if first is None or last is None:
        return []
    day = clock.parse_instant(first).astimezone(zone).date()
    final = clock.parse_instant(last).astimezone(zone).date()
    rows = []
    while day <= final:
        start, end = (clock.to_iso(b) for b in day_bounds(day.isoformat(), zone))
        start = max(start, period.start or start)
        end = min(end, period.end or end)
        row = conn.execute(
            f"""SELECT ? AS key, {_TOTALS} FROM ai_usage u
            WHERE u.timestamp >= ? AND u.timestamp < ?""",
            (day.isoformat(), start, end),
        ).fetchone()
        if row["calls"]:
            rows.append(row)
        day += timedelta(days=1)
    return rows


def _span(conn: sqlite3.Connection, period: Period) -> tuple[str | None, str | None]:
    """Return the first and last call timestamps within the period."""
    where, params = period.calls_where()
    row = conn.execute(
        f"SELECT MIN(timestamp), MAX(timestamp) FROM ai_usage WHERE {where}", params
    ).fetchone()
    return row[0], row[1]
