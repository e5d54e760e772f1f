"""What each page shows, read from the session database.

Every function takes a plain `sqlite3` connection (Datasette hands one to
`execute_fn` in a worker thread) and returns plain values for the templates.
Days and hours are counted in the display zone; money stays a float rounded
the way `cs stats` rounds it, so the pages and the CLI agree to the cent.
"""

import sqlite3
from calendar import monthrange
from datetime import datetime, timedelta, tzinfo
from typing import Any

from cs_core.clock import parse_instant, to_iso
from cs_core.output import money
from cs_core.periods import day_bounds, shifted_sql, today_bounds
from cs_core.stats import Period, breakdown, summary

TREND_DAYS = 30
HEATMAP_DAYS = 90
PAGE_SIZE = 25
SORTS = {
    "start": "s.start_time",
    "name": "s.name COLLATE NOCASE",
    "duration": "s.duration",
    "cost": "s.ai_cost",
    "tokens": "s.ai_tokens",
    "files": "s.files_changed",
    "commits": "s.commits",
}
PROJECT_SQL = "COALESCE(s.project_root, s.git_root, s.working_directory)"


def local_time(stamp: str | None, zone: tzinfo) -> str:
    """Format a stored instant as local `YYYY-MM-DD HH:MM:SS`."""
    if not stamp:
        return ""
    return parse_instant(stamp).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _spend(conn: sqlite3.Connection, period: Period) -> dict[str, Any]:
    where, params = period.calls_where()
    row = conn.execute(
        f"""SELECT COALESCE(SUM(cost), 0), COUNT(*), COALESCE(SUM(cost IS NULL), 0),
            COALESCE(SUM(tokens), 0)
        FROM ai_usage WHERE {where}""",
        params,
    ).fetchone()
    return {
        "cost": money(row[0]),
        "calls": row[1],
        "unpriced": row[2],
        "tokens": row[3],
    }


def calendar_periods(now: datetime, zone: tzinfo) -> dict[str, Period]:
    """Return today, this week (from Monday) and this month, in local days."""
    today = now.astimezone(zone).date()
    start, end = today_bounds(now, zone)
    week = day_bounds((today - timedelta(days=today.weekday())).isoformat(), zone)[0]
    month = day_bounds(today.replace(day=1).isoformat(), zone)[0]
    return {
        "today": Period(start, end),
        "week": Period(to_iso(week), end),
        "month": Period(to_iso(month), end),
    }


def overview(conn: sqlite3.Connection, zone: tzinfo, now: datetime) -> dict[str, Any]:
    """Return the Overview page: KPIs, trends, projection and velocity."""
    totals = summary(conn, Period())
    periods = calendar_periods(now, zone)
    spend = {name: _spend(conn, period) for name, period in periods.items()}
    sessions = totals["totalSessions"]
    average = money(totals["totalAICost"] / sessions) if sessions else None

    return {
        "totals": totals,
        "average": average,
        "spend": spend,
        "trend": daily_trend(conn, zone, now),
        "projection": projection(spend["month"]["cost"], now, zone),
        "velocity": velocity(conn),
    }


def daily_trend(
    conn: sqlite3.Connection, zone: tzinfo, now: datetime
) -> list[dict[str, Any]]:
    """Return cost, tokens and calls per local day over the last 30 days."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=TREND_DAYS - 1)
    start = to_iso(day_bounds(first.isoformat(), zone)[0])
    end = today_bounds(now, zone)[1]
    rows = {row["key"]: row for row in breakdown(conn, "day", Period(start, end), zone)}

    days = []
    for offset in range(TREND_DAYS):
        key = (first + timedelta(days=offset)).isoformat()
        row = rows.get(key, {})
        days.append(
            {
                "day": key,
                "cost": row.get("cost", 0.0),
                "tokens": row.get("tokens", 0),
                "calls": row.get("calls", 0),
                "unpriced": row.get("unpricedCalls", 0),
            }
        )
    return days


def projection(month_cost: float, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """Project the month's spend: spend so far ÷ share of the month elapsed."""
    local = now.astimezone(zone)
    days = monthrange(local.year, local.month)[1]
    start = day_bounds(local.date().replace(day=1).isoformat(), zone)[0]
    elapsed_days = (now - start).total_seconds() / 86400
    share = min(max(elapsed_days / days, 1 / (days * 24)), 1.0)
    return {
        "cost": money(month_cost / share),
        "spent": month_cost,
        "elapsedDays": round(elapsed_days, 1),
        "days": days,
        "month": local.strftime("%B %Y"),
    }


def velocity(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return spend per hour of session time, over ended sessions."""
    row = conn.execute(
        """SELECT COALESCE(SUM(ai_cost), 0), COALESCE(SUM(duration), 0), COUNT(*)
        FROM sessions WHERE status != 'active' AND duration > 0"""
    ).fetchone()
    hours = row[1] / 3600
    return {
        "perHour": money(row[0] / hours) if hours else None,
        "hours": round(hours, 1),
        "sessions": row[2],
    }


def _search_where(query: str) -> tuple[str, list[Any]]:
    if not query:
        return "1", []
    like = (
        "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )
    where = (
        "(s.name LIKE ? ESCAPE '\\' OR s.project_root LIKE ? ESCAPE '\\'"
        " OR s.branch LIKE ? ESCAPE '\\' OR s.id = ?)"
    )
    return where, [like, like, like, query if query.isdigit() else -1]


def sessions_page(
    conn: sqlite3.Connection, query: str, sort: str, descending: bool, page: int
) -> dict[str, Any]:
    """Return one page of sessions matching `query`, sorted."""
    where, params = _search_where(query)
    total = conn.execute(f"SELECT COUNT(*) FROM sessions s WHERE {where}", params)
    count = total.fetchone()[0]
    pages = max((count + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    order = f"{SORTS[sort]} {'DESC' if descending else 'ASC'}, s.id DESC"
    rows = conn.execute(
        f"""SELECT s.*, {PROJECT_SQL} AS project FROM sessions s WHERE {where}
        ORDER BY {order} LIMIT ? OFFSET ?""",
        [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()

    calls = _call_counts(conn, [row["id"] for row in rows])
    return {
        "rows": [{**dict(row), **calls.get(row["id"], {})} for row in rows],
        "count": count,
        "page": page,
        "pages": pages,
    }


def _call_counts(conn: sqlite3.Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"""SELECT session_id, COUNT(*), COALESCE(SUM(cost IS NULL), 0)
        FROM ai_usage WHERE session_id IN ({marks}) GROUP BY session_id""",
        ids,
    )
    return {row[0]: {"calls": row[1], "unpriced": row[2]} for row in rows}


def usage_groups(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return calls grouped by model, provider and agent, in one pass."""
    rows = conn.execute(
        """SELECT model, provider, COALESCE(agent_name, '(none)') AS agent,
            COUNT(*) AS calls, COALESCE(SUM(tokens), 0) AS tokens,
            COALESCE(SUM(prompt_tokens), 0) AS prompt,
            COALESCE(SUM(completion_tokens), 0) AS completion,
            COALESCE(SUM(cost), 0) AS cost, COALESCE(SUM(cost IS NULL), 0) AS unpriced
        FROM ai_usage GROUP BY model, provider, agent"""
    ).fetchall()
    return [dict(row) for row in rows]


def roll_up(groups: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """Add up usage groups by some of their keys, most expensive first."""
    totals: dict[tuple[str, ...], dict[str, Any]] = {}
    for group in groups:
        key = tuple(group[name] for name in keys)
        entry = totals.setdefault(
            key,
            {
                **{name: group[name] for name in keys},
                **dict.fromkeys(
                    ("calls", "tokens", "prompt", "completion", "cost", "unpriced"), 0
                ),
            },
        )
        for field in ("calls", "tokens", "prompt", "completion", "cost", "unpriced"):
            entry[field] += group[field]
    result = list(totals.values())
    for entry in result:
        entry["cost"] = money(entry["cost"])
        entry["ratio"] = (
            entry["completion"] / entry["prompt"] if entry["prompt"] else None
        )
    return sorted(result, key=lambda e: (-e["cost"], -e["tokens"], str(e[keys[0]])))


def hotspots(conn: sqlite3.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """Return the files changed in the most sessions."""
    rows = conn.execute(
        """SELECT file_path, COUNT(DISTINCT session_id) AS sessions,
            COUNT(*) AS changes
        FROM file_changes GROUP BY file_path
        ORDER BY sessions DESC, file_path LIMIT ?""",
        (limit,),
    )
    return [dict(row) for row in rows]


def heatmap(conn: sqlite3.Connection, zone: tzinfo, now: datetime) -> dict[str, Any]:
    """Return calls per weekday and local hour over the last 90 days."""
    start = to_iso(now - timedelta(days=HEATMAP_DAYS))
    local = shifted_sql("timestamp", zone, start, to_iso(now))
    rows = conn.execute(
        f"""SELECT CAST(strftime('%w', {local}) AS INTEGER) AS weekday,
            CAST(strftime('%H', {local}) AS INTEGER) AS hour, COUNT(*) AS calls,
            COALESCE(SUM(cost), 0) AS cost
        FROM ai_usage WHERE timestamp >= ? GROUP BY weekday, hour""",
        (start,),
    ).fetchall()
    grid = [[0] * 24 for _ in range(7)]
    for row in rows:
        grid[(row["weekday"] + 6) % 7][row["hour"]] = row["calls"]  # Monday first
    return {"grid": grid, "max": max(max(line) for line in grid), "days": HEATMAP_DAYS}


def projects(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return sessions, time, spend and tokens per project (git root)."""
    rows = conn.execute(
        f"""SELECT {PROJECT_SQL} AS project, COUNT(*) AS sessions,
            COALESCE(SUM(s.ai_cost), 0) AS cost,
            COALESCE(SUM(s.ai_tokens), 0) AS tokens,
            COALESCE(SUM(s.duration), 0) AS seconds
        FROM sessions s GROUP BY project ORDER BY cost DESC, project"""
    ).fetchall()
    unpriced = dict(
        conn.execute(
            f"""SELECT {PROJECT_SQL}, COUNT(*) FROM ai_usage u
            JOIN sessions s ON s.id = u.session_id
            WHERE u.cost IS NULL GROUP BY 1"""
        ).fetchall()
    )
    return [
        {**dict(row), "cost": money(row["cost"]), "unpriced": unpriced.get(row[0], 0)}
        for row in rows
    ]


def session_page(conn: sqlite3.Connection, session_id: int) -> dict[str, Any] | None:
    """Return a session, its calls, notes, files, commits and their timeline."""
    from cs_core.sessions import session_detail

    session = conn.execute(
        f"SELECT s.*, {PROJECT_SQL} AS project FROM sessions s WHERE s.id = ?",
        (session_id,),
    ).fetchone()
    if session is None:
        return None
    detail = {
        key: [dict(row) for row in rows]
        for key, rows in session_detail(conn, session_id).items()
    }
    unpriced = sum(1 for call in detail["calls"] if call["cost"] is None)
    return {
        "session": dict(session),
        **detail,
        "unpriced": unpriced,
        "timeline": timeline(detail),
    }


def timeline(detail: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Merge calls, notes, commits and file changes in time order."""
    events = [
        {"kind": "call", "at": row["timestamp"], "row": row} for row in detail["calls"]
    ]
    events += [
        {"kind": "note", "at": row["timestamp"], "row": row} for row in detail["notes"]
    ]
    events += [
        {"kind": "commit", "at": row["timestamp"], "row": row}
        for row in detail["commits"]
    ]
    events += [
        {"kind": "file", "at": row["timestamp"], "row": row} for row in detail["files"]
    ]
    order = {"call": 0, "note": 1, "commit": 2, "file": 3}
    return sorted(events, key=lambda e: (e["at"], order[e["kind"]], e["row"]["id"]))


def budget_status(
    conn: sqlite3.Connection, zone: tzinfo, now: datetime
) -> list[dict[str, Any]]:
    """Return every budget with what has been spent against it now.

    A per-session budget is measured on the most expensive active session.
    """
    from cs_core import budgets

    status = []
    for row in conn.execute("SELECT * FROM budgets ORDER BY period, scope, id"):
        session_id = _priciest_active(conn, row["scope"])
        span = budgets.window(row["period"], now, zone, session_id)
        found = budgets.LimitStatus(
            row, span, budgets.spent_in(conn, row, span, session_id)
        )
        status.append(
            {
                **dict(row),
                "spent": money(found.spent),
                "percent": budgets.number(found.percent),
                "over": found.exceeded,
                "warned": bool(found.warn_at and found.reached(found.warn_at)),
                "window": span.key,
                "session_id": session_id if row["period"] == "session" else None,
            }
        )
    return status


def _priciest_active(conn: sqlite3.Connection, scope: str) -> int | None:
    row = conn.execute(
        """SELECT id FROM sessions WHERE status = 'active' AND (? = '' OR scope = ?)
        ORDER BY ai_cost DESC LIMIT 1""",
        (scope, scope),
    ).fetchone()
    return row[0] if row else None


def alert_events(conn: sqlite3.Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Return the most recent alerts that fired."""
    rows = conn.execute(
        "SELECT * FROM alert_events ORDER BY fired_at DESC, id DESC LIMIT ?", (limit,)
    )
    return [dict(row) for row in rows]


def last_event_id(conn: sqlite3.Connection) -> int:
    """Return the id of the newest alert event, 0 when none fired."""
    return conn.execute("SELECT COALESCE(MAX(id), 0) FROM alert_events").fetchone()[0]
