"""cs_core.budgets: periods in the display zone, exact thresholds, firing once,
the built-in per-session warning, and how limits are set and cleared."""

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cs_core import budgets
from cs_core.calls import CallInput, log_call
from cs_core.db import connect
from cs_core.errors import BudgetExceededError, InvalidInputError
from cs_core.pricing import load_price_book
from cs_core.sessions import Scope, get_session, start_session


@pytest.mark.parametrize(
    ("period", "instant", "zone", "key", "start", "end"),
    [
        ("daily", "2025-07-01T23:59:59Z", "UTC", "2025-07-01",
         "2025-07-01T00:00:00.000Z", "2025-07-02T00:00:00.000Z"),
        # B08: 20:00 in Denver on Aug 3 is 02:00Z on Aug 4.
        ("daily", "2025-08-04T02:00:00Z", "America/Denver", "2025-08-03",
         "2025-08-03T06:00:00.000Z", "2025-08-04T06:00:00.000Z"),
        ("daily", "2026-05-21T15:30:00Z", "Asia/Tokyo", "2026-05-22",
         "2026-05-21T15:00:00.000Z", "2026-05-22T15:00:00.000Z"),
        ("weekly", "2025-07-06T12:00:00Z", "UTC", "2025-W27",
         "2025-06-30T00:00:00.000Z", "2025-07-07T00:00:00.000Z"),
        ("weekly", "2024-12-31T12:00:00Z", "UTC", "2025-W01",
         "2024-12-30T00:00:00.000Z", "2025-01-06T00:00:00.000Z"),
        ("monthly", "2025-12-31T23:00:00Z", "UTC", "2025-12",
         "2025-12-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"),
        # DST: March in Denver starts at UTC-7 and ends at UTC-6.
        ("monthly", "2025-03-15T12:00:00Z", "America/Denver", "2025-03",
         "2025-03-01T07:00:00.000Z", "2025-04-01T06:00:00.000Z"),
        ("total", "2025-07-01T00:00:00Z", "UTC", "total", None, None),
        ("session", "2025-07-01T00:00:00Z", "UTC", "session:7", None, None),
    ],
    ids=["daily-utc", "daily-denver-b08", "daily-tokyo-b08", "weekly-monday",
         "weekly-iso-year", "monthly", "monthly-dst", "total", "session"],
)  # fmt: skip
def test_window_follows_the_display_zone(
    period, instant, zone, key, start, end
) -> None:
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    tz = UTC if zone == "UTC" else ZoneInfo(zone)

    span = budgets.window(period, moment, tz, 7)

    assert span == budgets.Window(key, start, end)


@pytest.fixture
def conn() -> sqlite3.Connection:
    connection = connect()
    yield connection
    connection.close()


def scope_of(path: Path) -> Scope:
    return Scope(str(path), str(path), None, str(path), None)


@pytest.fixture
def session(conn: sqlite3.Connection, tmp_path: Path) -> sqlite3.Row:
    folder = tmp_path / "project"
    folder.mkdir()
    row, _ = start_session(conn, "budgets", scope_of(folder))
    return row


def log(conn: sqlite3.Connection, session: sqlite3.Row, cost: str, at: str) -> list:
    call = CallInput(
        provider="openai", model="gpt-4o", prompt_tokens=1, completion_tokens=1,
        cost=cost, timestamp=at,
    )  # fmt: skip
    fresh = get_session(conn, session["id"])
    return log_call(conn, load_price_book(), fresh, call).alerts


def test_ten_dimes_reach_one_dollar_exactly_on_the_tenth(conn, session) -> None:
    budgets.set_limits(conn, "", {"daily": Decimal("1")}, None)

    fired = [
        log(conn, session, "0.1", f"2025-07-01T10:{i:02d}:00.000Z") for i in range(10)
    ]

    assert [len(alerts) for alerts in fired] == [0] * 9 + [1]
    assert fired[9][0]["spent"] == 1.0
    assert fired[9][0]["code"] == "budget_exceeded"


def test_each_threshold_fires_once_per_period(conn, session) -> None:
    budgets.set_limits(conn, "", {"daily": Decimal("1")}, Decimal("50"))

    codes = [
        [a["thresholdPercent"] for a in log(conn, session, cost, at)]
        for cost, at in (
            ("0.6", "2025-07-01T10:00:00.000Z"),
            ("0.6", "2025-07-01T11:00:00.000Z"),
            ("0.6", "2025-07-01T12:00:00.000Z"),
            ("0.1", "2025-07-02T00:30:00.000Z"),
            ("2", "2025-07-02T01:00:00.000Z"),
        )
    ]

    assert codes == [[50], [100], [], [], [50, 100]]
    assert conn.execute("SELECT COUNT(*) FROM alert_events").fetchone()[0] == 4


def test_default_session_warning_alerts_without_enforcing(conn, session) -> None:
    below = log(conn, session, "4.99", "2025-07-01T10:00:00.000Z")
    at_five = log(conn, session, "0.01", "2025-07-01T10:01:00.000Z")
    current = budgets.statuses(conn, session["scope"], session["id"])

    assert below == []
    assert [(a["code"], a["enforced"]) for a in at_five] == [("budget_warning", False)]
    assert at_five[0]["message"] == (
        "per-session warning reached 100%: $5.00 spent of $5.00 "
        f"(session:{session['id']})"
    )
    budgets.check(current)  # the default never makes check fail
    assert budgets.block(current)["exceeded"] is False


def test_editing_the_default_row_elsewhere_makes_it_a_limit(conn, session) -> None:
    conn.execute("UPDATE budgets SET limit_usd = 2 WHERE origin = 'default'")
    log(conn, session, "3", "2025-07-01T10:00:00.000Z")

    with pytest.raises(BudgetExceededError) as caught:
        budgets.check(budgets.statuses(conn, session["scope"], session["id"]))

    assert caught.value.extra["period"] == "session"
    assert caught.value.extra["limit"] == 2.0


def test_a_changed_amount_is_a_new_budget_that_can_fire_again(conn, session) -> None:
    budgets.set_limits(conn, "", {"daily": Decimal("1")}, None)
    first_id = conn.execute("SELECT id FROM budgets WHERE period = 'daily'").fetchone()[
        0
    ]
    log(conn, session, "1", "2025-07-01T10:00:00.000Z")

    budgets.set_limits(conn, "", {"daily": Decimal("1")}, Decimal("80"))
    same_id = conn.execute("SELECT id FROM budgets WHERE period = 'daily'").fetchone()[
        0
    ]
    budgets.set_limits(conn, "", {"daily": Decimal("2")}, None)
    row = conn.execute("SELECT * FROM budgets WHERE period = 'daily'").fetchone()
    fired = log(conn, session, "1", "2025-07-01T11:00:00.000Z")

    assert same_id == first_id
    assert row["id"] != first_id
    assert row["warn_at_percent"] == 80.0  # kept when only the amount changes
    assert [a["thresholdPercent"] for a in fired] == [80, 100]
    orphans = conn.execute("SELECT COUNT(*) FROM alert_events WHERE budget_id IS NULL")
    assert orphans.fetchone()[0] == 1  # the old budget's alert stays in history


def test_zero_removes_a_limit_and_clear_switches_the_default_off(conn) -> None:
    budgets.set_limits(conn, "", {"daily": Decimal("1"), "total": Decimal("9")}, None)

    budgets.set_limits(conn, "", {"daily": Decimal("0")}, None)
    periods = [r["period"] for r in conn.execute("SELECT period FROM budgets")]
    removed = budgets.clear(conn, "")

    assert sorted(periods) == ["session", "total"]
    assert removed == 2
    assert conn.execute("SELECT COUNT(*) FROM budgets").fetchone()[0] == 0


def test_warn_at_alone_needs_a_user_limit(conn) -> None:
    with pytest.raises(InvalidInputError, match="no budget for everything"):
        budgets.set_limits(conn, "", {}, Decimal("80"))


def test_a_project_budget_counts_only_that_project(conn, session, tmp_path) -> None:
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    other, _ = start_session(conn, "other", scope_of(other_folder))
    budgets.set_limits(conn, session["scope"], {"total": Decimal("1")}, None)

    elsewhere = log(conn, other, "5", "2025-07-01T10:00:00.000Z")
    here = log(conn, session, "0.5", "2025-07-01T10:01:00.000Z")
    current = budgets.statuses(conn, session["scope"], session["id"])

    assert [a["code"] for a in elsewhere] == ["budget_warning"]  # the $5 default
    assert here == []
    assert [(s.budget["period"], s.spent) for s in current] == [
        ("session", Decimal("0.5")),
        ("total", Decimal("0.5")),
    ]


def test_check_counts_an_estimate(conn, session) -> None:
    budgets.set_limits(conn, "", {"total": Decimal("1")}, None)
    log(conn, session, "0.9", "2025-07-01T10:00:00.000Z")
    current = budgets.statuses(conn, session["scope"], session["id"])

    budgets.check(current, Decimal("0.1"))
    with pytest.raises(BudgetExceededError, match="would be exceeded"):
        budgets.check(current, Decimal("0.1000000001"))


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "0 or more"), ("abc", "amount in USD"), ("nan", "0 or more"),
     ("1e12", "0 or more"), ("1e-11", "at least 1e-10")],
    ids=["negative", "text", "nan", "huge", "tiny"],
)  # fmt: skip
def test_parse_amount_rejects(value, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        budgets.parse_amount(value, "--daily")


@pytest.mark.parametrize(
    "value", ["100", "-5", "x"], ids=["hundred", "negative", "text"]
)
def test_parse_percent_rejects(value) -> None:
    with pytest.raises(InvalidInputError, match="--warn-at"):
        budgets.parse_percent(value)


def test_parallel_writers_fire_each_threshold_once(run_cs, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    folder = tmp_path / "parallel"
    folder.mkdir()
    started = run_cs("start", "parallel", "--json", cwd=folder).json
    run_cs("budget", "set", "--daily", "1", "--warn-at", "50")
    argv = [
        sys.executable, "-m", "cs_core", "log-ai", "-p", "openai", "-m", "gpt-4o",
        "-c", "0.25", "-t", "10", "-s", str(started["id"]), "--json",
    ]  # fmt: skip

    workers = [
        subprocess.Popen(argv, env=dict(os.environ), stdout=subprocess.PIPE, cwd=folder)
        for _ in range(6)
    ]
    outputs = [worker.communicate(timeout=60)[0] for worker in workers]
    history = run_cs("alerts", "history", "--json").json["alerts"]

    assert [worker.returncode for worker in workers] == [0] * 6
    assert sorted(a["thresholdPercent"] for a in history) == [50, 100]
    assert sorted(a["spent"] for a in history) == [0.5, 1.0]
    fired = [b"budget_exceeded" in out for out in outputs]
    assert fired.count(True) == 1
