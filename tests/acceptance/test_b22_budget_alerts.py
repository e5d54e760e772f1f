"""Case B22 of shared/acceptance/lifecycle-git-safety-cases.md: budget alerts
fire at log time, once per threshold and period, compared in exact decimals."""

import sqlite3
from pathlib import Path

import pytest

DAY1 = "2025-07-01T{}Z"
DAY2 = "2025-07-02T{}Z"


@pytest.fixture
def log(run_cs, git_repo: Path):
    """Log one call of COST at instant NOW; return the JSON result."""

    def call(cost: str, now: str) -> dict:
        result = run_cs(
            "log-ai", "-p", "openai", "-m", "gpt-4o", "-c", cost,
            "--prompt-tokens", "10", "--completion-tokens", "5", "--json",
            cwd=git_repo, env={"CODESESSION_NOW": now},
        )  # fmt: skip
        assert result.exit_code == 0, result.stdout
        return result.json

    return call


def budget_warnings(document: dict) -> list[dict]:
    return [w for w in document["warnings"] if w["code"].startswith("budget_")]


def events(home: Path) -> list[tuple]:
    conn = sqlite3.connect(home / "sessions.db")
    try:
        return conn.execute(
            "SELECT period, period_key, threshold_percent, spent_usd, limit_usd,"
            " fired_at FROM alert_events ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_b22_budget_alerts(run_cs, git_repo: Path, log, cs_home: Path) -> None:
    env = {"CODESESSION_NOW": DAY1.format("08:00:00.000")}
    assert (
        run_cs("budget", "set", "--daily", "1.00", "--warn-at", "80", env=env).exit_code
        == 0
    )
    assert run_cs("start", "b22", "--json", cwd=git_repo, env=env).exit_code == 0

    first = log("0.70", DAY1.format("09:00:00.000"))
    second = log("0.10", DAY1.format("09:10:00.000"))
    third = log("0.10", DAY1.format("09:20:00.000"))
    status_between = run_cs("status", "--json", cwd=git_repo, env=env)
    fourth = log("0.10", DAY1.format("09:30:00.000"))
    fifth = log("0.10", DAY1.format("09:40:00.000"))

    assert budget_warnings(first) == []
    assert budget_warnings(second) == [
        {
            "code": "budget_warning",
            "message": "daily budget reached 80%: $0.80 spent of $1.00 (2025-07-01)",
        }
    ]
    assert budget_warnings(third) == []
    assert status_between.exit_code == 0
    assert budget_warnings(fourth) == [
        {
            "code": "budget_exceeded",
            "message": "daily budget exceeded: $1.00 spent of $1.00 (2025-07-01)",
        }
    ]
    assert budget_warnings(fifth) == []
    assert events(cs_home) == [
        ("daily", "2025-07-01", 80.0, 0.8, 1.0, "2025-07-01T09:10:00.000Z"),
        ("daily", "2025-07-01", 100.0, 1.0, 1.0, "2025-07-01T09:30:00.000Z"),
    ]

    after_five = {"CODESESSION_NOW": DAY1.format("09:45:00.000")}
    human = run_cs("status", cwd=git_repo, env=after_five)
    document = run_cs("status", "--json", cwd=git_repo, env=after_five).json
    daily = [lim for lim in document["budget"]["limits"] if lim["period"] == "daily"]

    assert "110% of daily budget" in human.stdout
    assert daily == [
        {
            "id": daily[0]["id"],
            "scope": "",
            "period": "daily",
            "periodKey": "2025-07-01",
            "periodStart": "2025-07-01T00:00:00.000Z",
            "periodEnd": "2025-07-02T00:00:00.000Z",
            "limit": 1.0,
            "warnAt": 80,
            "spent": 1.1,
            "remaining": 0.0,
            "percent": 110,
            "exceeded": True,
            "warned": True,
            "enforced": True,
            "origin": "user",
        }
    ]
    assert document["budget"]["exceeded"] is True

    for _ in range(3):  # reloads and restarts read; they never fire anything
        assert run_cs("status", "--json", cwd=git_repo, env=after_five).exit_code == 0
        assert run_cs("alerts", "history", "--json", env=after_five).exit_code == 0
    assert len(events(cs_home)) == 2

    day_two = log("1.20", DAY2.format("10:00:00.000"))

    assert sorted(w["code"] for w in budget_warnings(day_two)) == [
        "budget_exceeded",
        "budget_warning",
    ]
    assert events(cs_home)[2:] == [
        ("daily", "2025-07-02", 80.0, 1.2, 1.0, "2025-07-02T10:00:00.000Z"),
        ("daily", "2025-07-02", 100.0, 1.2, 1.0, "2025-07-02T10:00:00.000Z"),
    ]
    history = run_cs("alerts", "history", "--json").json["alerts"]
    assert len(history) == 4
    assert [a["thresholdPercent"] for a in history] == [100, 80, 100, 80]
