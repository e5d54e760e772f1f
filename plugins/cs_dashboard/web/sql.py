"""Canned queries offered on Datasette's database page.

Days follow the display zone: the query text is built per request with the
zone's UTC offsets over the last few years (older calls use the earliest).
"""

from datetime import timedelta
from typing import Any

from cs_core import display_zone, now, shifted_sql, to_iso

SPAN_DAYS = 3 * 366
PROJECT = "COALESCE(s.project_root, s.git_root, s.working_directory)"
TOTALS = """ROUND(SUM(u.cost), 10) AS cost_usd,
    SUM(u.cost IS NULL) AS unpriced_calls,
    SUM(u.tokens) AS tokens, COUNT(*) AS calls,
    COUNT(DISTINCT u.session_id) AS sessions"""


def canned_queries() -> dict[str, Any]:
    """Return Datasette's `queries` entries: title, description and SQL."""
    zone, zone_name = display_zone()
    moment = now()
    local = shifted_sql(
        "u.timestamp", zone, to_iso(moment - timedelta(SPAN_DAYS)), None
    )
    by_key = {
        "model": "u.model, u.provider",
        "agent": "COALESCE(u.agent_name, '(none)') AS agent",
        "project": f"{PROJECT} AS project",
    }
    queries: dict[str, Any] = {
        "cost_per_day": {
            "title": f"Cost per day ({zone_name})",
            "description": "Spend, tokens and calls per local day, newest first.",
            "sql": f"""SELECT date({local}) AS day, {TOTALS}
FROM ai_usage u GROUP BY day ORDER BY day DESC""",
        }
    }
    for name, key in by_key.items():
        group = ", ".join(part.split(" AS ")[-1] for part in key.split(", "))
        queries[f"cost_per_{name}"] = {
            "title": f"Cost per {name}",
            "description": f"Spend, tokens and calls per {name}, most expensive first.",
            "sql": f"""SELECT {key}, {TOTALS}
FROM ai_usage u JOIN sessions s ON s.id = u.session_id
GROUP BY {group} ORDER BY cost_usd DESC""",
        }
    return queries
