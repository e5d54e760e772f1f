"""The dashboard's queries agree with `cs_core.stats`, whatever the zone."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from cs_core.clock import to_iso, zone_named
from cs_core.periods import day_bounds, today_bounds
from cs_core.stats import Period, breakdown
from cs_dashboard.web import queries
from tests.plugins.test_dashboard_data import NOW, build_realistic

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]
MOMENTS = [
    NOW,
    datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
]  # the second: after US DST ended


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    root = tmp_path_factory.mktemp("queries")
    build_realistic(root / "home", root / "repos")
    connection = sqlite3.connect(root / "home" / "sessions.db")
    connection.row_factory = sqlite3.Row
    yield connection
    connection.close()


@pytest.mark.parametrize("moment", MOMENTS, ids=["now", "after-dst"])
@pytest.mark.parametrize("zone_name", ZONES)
def test_daily_trend_matches_stats_breakdown(conn, zone_name, moment):
    zone = zone_named(zone_name)
    trend = queries.daily_trend(conn, zone, moment)
    start = to_iso(day_bounds(trend[0]["day"], zone)[0])
    end = today_bounds(moment, zone)[1]
    expected = {
        row["key"]: row for row in breakdown(conn, "day", Period(start, end), zone)
    }

    assert len(trend) == queries.TREND_DAYS
    for day in trend:
        row = expected.get(day["day"], {})
        assert day["calls"] == row.get("calls", 0), day["day"]
        assert day["tokens"] == row.get("tokens", 0), day["day"]
        assert day["unpriced"] == row.get("unpricedCalls", 0), day["day"]
        assert day["cost"] == pytest.approx(row.get("cost", 0.0), abs=1e-9)


@pytest.mark.parametrize("zone_name", ZONES)
def test_heatmap_counts_every_recent_call_once(conn, zone_name):
    zone = zone_named(zone_name)
    since = to_iso(NOW - timedelta(days=queries.HEATMAP_DAYS))
    expected = conn.execute(
        "SELECT COUNT(*) FROM ai_usage WHERE timestamp >= ? AND timestamp < ?",
        (since, to_iso(NOW)),
    ).fetchone()[0]

    heat = queries.heatmap(conn, zone, NOW)

    assert sum(map(sum, heat["grid"])) == expected > 0


def test_models_in_two_halves_add_up_exactly(conn):
    whole = queries.usage_groups(conn)
    split = sorted({row["model"] for row in whole})[len(whole) // 3]

    halves = queries.usage_groups(conn, None, split) + queries.usage_groups(
        conn, split, None
    )

    def key(row):
        return (row["model"], row["provider"], row["agent"])

    assert sorted(halves, key=key) == sorted(whole, key=key)
