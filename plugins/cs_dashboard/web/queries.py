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

from cs_core import (
    Period,
    day_bounds,
    money,
    offset_changes,
    parse_instant,
    summary,
    to_iso,
    today_bounds,
)

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


def totals(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return the all-time totals of `cs stats`, plus the average per session."""
    found = summary(conn, Period())
    sessions = found["totalSessions"]
    average = money(found["totalAICost"] / sessions) if sessions else None
    return {"totals": found, "average": average}


def recent(conn: sqlite3.Connection, zone: tzinfo, now: datetime) -> dict[str, Any]:
    """Return spend today, this week and this month, the projection and velocity."""
    periods = calendar_periods(now, zone)
    spend = {name: _spend(conn, period) for name, period in periods.items()}
    return {
        "spend": spend,
        "projection": projection(spend["month"]["cost"], now, zone),
        "velocity": velocity(conn),
    }


# One index range scan per bucket, its figures packed into one string: much
# faster than GROUP BY on a computed key, which sorts every call (B-tree).
_BUCKETS_SQL = """WITH RECURSIVE slots(n, lo, hi) AS (
    SELECT 0, :first, strftime('%Y-%m-%dT%H:%M', :first, :step)
    UNION ALL
    SELECT n + 1, hi, strftime('%Y-%m-%dT%H:%M', hi, :step)
    FROM slots WHERE n + 1 < :count
)
SELECT lo, (
    SELECT COUNT(*) || ' ' || printf('%.17g', TOTAL(cost)) || ' '
        || CAST(TOTAL(tokens) AS INTEGER) || ' ' || CAST(TOTAL(cost IS NULL) AS INTEGER)
    FROM ai_usage
    WHERE timestamp >= lo AND timestamp < hi
        AND timestamp >= :start AND timestamp < :end
) FROM slots"""


def buckets(
    conn: sqlite3.Connection, start: str, end: str, zone: tzinfo
) -> list[dict[str, Any]]:
    """Return calls, cost and tokens per slot of local time between two instants.

    Slots are an hour long, or 30 or 15 minutes for zones whose offset is not
    a whole number of hours, so each falls in one local hour and day, daylight
    saving changes included.
    """
    low, high = parse_instant(start), parse_instant(end)
    offsets = [minutes for _, minutes in offset_changes(zone, low, high)]
    step = next(size for size in (60, 30, 15) if all(m % size == 0 for m in offsets))
    first = low.replace(minute=low.minute - low.minute % step, second=0, microsecond=0)
    count = int((high - first).total_seconds() // (step * 60)) + 1
    rows = conn.execute(
        _BUCKETS_SQL,
        {
            "first": first.strftime("%Y-%m-%dT%H:%M"),
            "step": f"+{step} minutes",
            "count": count,
            "start": start,
            "end": end,
        },
    ).fetchall()
    found = []
    for slot, packed in rows:
        calls, cost, tokens, unpriced = packed.split()
        if calls != "0":
            local = datetime.fromisoformat(slot + "+00:00").astimezone(zone)
            found.append(
                {
                    "local": local,
                    "calls": int(calls),
                    "cost": float(cost),
                    "tokens": int(tokens),
                    "unpriced": int(unpriced),
                }
            )
    return found


def daily_trend(
    conn: sqlite3.Connection, zone: tzinfo, now: datetime
) -> list[dict[str, Any]]:
    """Return cost, tokens and calls per local day over the last 30 days."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=TREND_DAYS - 1)
    start = to_iso(day_bounds(first.isoformat(), zone)[0])
    end = today_bounds(now, zone)[1]
    days = {
        (first + timedelta(days=n)).isoformat(): dict.fromkeys(
            ("cost", "tokens", "calls", "unpriced"), 0
        )
        for n in range(TREND_DAYS)
    }
    for bucket in buckets(conn, start, end, zone):
        day = days.get(bucket["local"].date().isoformat())
        if day is not None:
            for key in day:
                day[key] += bucket[key]
    return [
        {"day": key, **values, "cost": money(values["cost"])}
        for key, values in days.items()
    ]


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


def usage_groups(
    conn: sqlite3.Connection, low: str | None = None, high: str | None = None
) -> list[dict[str, Any]]:
    """Return calls grouped by model, provider and agent, in one pass.

    `low` (inclusive) and `high` (exclusive) limit the models, so two threads
    can each add up half of a big table; a group never spans both halves.
    """
    where, params = ["1"], []
    if low is not None:
        where.append("model >= ?")
        params.append(low)
    if high is not None:
        where.append("model < ?")
        params.append(high)
    rows = conn.execute(
        # Grouping on the bare columns walks the covering index in order, with
        # no sort; a COALESCE here would cost a temporary B-tree (3x slower).
        f"""SELECT model, provider, agent_name AS agent,
            COUNT(*) AS calls, COALESCE(SUM(tokens), 0) AS tokens,
            COALESCE(SUM(prompt_tokens), 0) AS prompt,
            COALESCE(SUM(completion_tokens), 0) AS completion,
            COALESCE(SUM(cost), 0) AS cost, COALESCE(SUM(cost IS NULL), 0) AS unpriced
        FROM ai_usage WHERE {" AND ".join(where)}
        GROUP BY model, provider, agent_name""",
        params,
    ).fetchall()
    return [{**dict(row), "agent": row["agent"] or "(none)"} for row in rows]


def model_split(conn: sqlite3.Connection, smallest: int = 200_000) -> str | None:
    """Return the model in the middle of the calls, to halve a big scan at."""
    count = conn.execute("SELECT COUNT(*) FROM ai_usage").fetchone()[0]
    if count < smallest:
        return None
    row = conn.execute(
        "SELECT model FROM ai_usage ORDER BY model LIMIT 1 OFFSET ?", (count // 2,)
    ).fetchone()
    return row[0] if row else None


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
    """Return the files changed in the most sessions, with their projects.

    Paths are relative to their repository, so the same path in two projects
    counts together; the projects column says where it was changed.
    """
    rows = [
        dict(row)
        for row in conn.execute(
            """SELECT file_path, COUNT(DISTINCT session_id) AS sessions,
                COUNT(*) AS changes
            FROM file_changes GROUP BY file_path
            ORDER BY sessions DESC, file_path LIMIT ?""",
            (limit,),
        )
    ]
    marks = ",".join("?" * len(rows))
    projects: dict[str, list[str]] = {}
    for path, project in conn.execute(
        f"""SELECT DISTINCT f.file_path, {PROJECT_SQL} FROM file_changes f
        JOIN sessions s ON s.id = f.session_id WHERE f.file_path IN ({marks})
        ORDER BY 2""",
        [row["file_path"] for row in rows],
    ):
        projects.setdefault(path, []).append(project)
    return [{**row, "projects": projects.get(row["file_path"], [])} for row in rows]


def heatmap(conn: sqlite3.Connection, zone: tzinfo, now: datetime) -> dict[str, Any]:
    """Return calls per weekday and local hour over the last 90 days."""
    start = to_iso(now - timedelta(days=HEATMAP_DAYS))
    grid = [[0] * 24 for _ in range(7)]
    for bucket in buckets(conn, start, to_iso(now), zone):
        local = bucket["local"]
        grid[local.weekday()][local.hour] += bucket["calls"]  # Monday first
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
            f"""SELECT {PROJECT_SQL}, SUM(u.calls) FROM (
                SELECT session_id, COUNT(*) AS calls FROM ai_usage
                WHERE cost IS NULL GROUP BY session_id
            ) u JOIN sessions s ON s.id = u.session_id GROUP BY 1"""
        ).fetchall()
    )
    return [
        {**dict(row), "cost": money(row["cost"]), "unpriced": unpriced.get(row[0], 0)}
        for row in rows
    ]


def session_page(conn: sqlite3.Connection, session_id: int) -> dict[str, Any] | None:
    """Return a session, its calls, notes, files, commits and their timeline."""
    from cs_core import session_detail

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
