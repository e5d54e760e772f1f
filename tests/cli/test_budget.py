"""`cs budget set|show|clear|check`: each kind of limit crossed, its JSON, exit
codes, and alerts that fire exactly once."""

import sqlite3
from pathlib import Path

import pytest

NOW = "2025-07-01T10:00:00.000Z"


@pytest.fixture
def repo(run_cs, git_repo: Path) -> Path:
    assert run_cs(
        "start", "budget", "--json", cwd=git_repo, env={"CODESESSION_NOW": NOW}
    )
    return git_repo


def log(run_cs, repo: Path, cost: str, now: str = NOW) -> dict:
    result = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "-c", cost, "--prompt-tokens", "1",
        "--completion-tokens", "1", "--json", cwd=repo, env={"CODESESSION_NOW": now},
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    return result.json


def event_count(home: Path) -> int:
    conn = sqlite3.connect(home / "sessions.db")
    try:
        return conn.execute("SELECT COUNT(*) FROM alert_events").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("flag", "period", "key"),
    [
        ("--per-session", "session", None),
        ("--daily", "daily", "2025-07-01"),
        ("--weekly", "weekly", "2025-W27"),
        ("--monthly", "monthly", "2025-07"),
        ("--total", "total", "total"),
    ],
    ids=["session", "daily", "weekly", "monthly", "total"],
)
def test_crossing_a_limit_fails_check_and_alerts_once(
    run_cs, repo: Path, cs_home: Path, flag: str, period: str, key: str | None
) -> None:
    env = {"CODESESSION_NOW": NOW}
    assert run_cs("budget", "set", flag, "2", "--json", env=env).exit_code == 0

    log(run_cs, repo, "1.5")
    under = run_cs("budget", "check", "--json", cwd=repo, env=env)
    crossing = log(run_cs, repo, "0.5")
    after = log(run_cs, repo, "0.25")
    over = run_cs("budget", "check", "--json", cwd=repo, env=env)
    session_id = crossing["session"]["id"]
    period_key = key or f"session:{session_id}"

    assert under.exit_code == 0
    assert under.json["ok"] is True
    assert [w["code"] for w in crossing["warnings"]] == ["budget_exceeded"]
    assert after["warnings"] == []
    assert over.exit_code == 1
    error = over.json["error"]
    assert error["code"] == "budget_exceeded"
    assert (error["period"], error["spent"], error["limit"]) == (period, 2.25, 2.0)
    assert error["message"] == (
        f"{'per-session' if period == 'session' else period} budget exceeded: "
        "$2.25 spent of $2.00"
    )
    assert [e["periodKey"] for e in error["exceeded"]] == [period_key]
    assert event_count(cs_home) == 1


def test_log_ai_carries_the_budget_block(run_cs, repo: Path) -> None:
    run_cs("budget", "set", "--daily", "10", "--warn-at", "50")

    document = log(run_cs, repo, "1.25")

    assert document["budget"] == {
        "timezone": "UTC",
        "exceeded": False,
        "limits": [
            {
                "id": 1,
                "scope": "",
                "period": "session",
                "periodKey": f"session:{document['session']['id']}",
                "periodStart": None,
                "periodEnd": None,
                "limit": 5.0,
                "warnAt": None,
                "spent": 1.25,
                "remaining": 3.75,
                "percent": 25,
                "exceeded": False,
                "warned": False,
                "enforced": False,
                "origin": "default",
            },
            {
                "id": 2,
                "scope": "",
                "period": "daily",
                "periodKey": "2025-07-01",
                "periodStart": "2025-07-01T00:00:00.000Z",
                "periodEnd": "2025-07-02T00:00:00.000Z",
                "limit": 10.0,
                "warnAt": 50,
                "spent": 1.25,
                "remaining": 8.75,
                "percent": 12.5,
                "exceeded": False,
                "warned": False,
                "enforced": True,
                "origin": "user",
            },
        ],
    }


def test_recording_is_never_refused_over_budget(run_cs, repo: Path) -> None:
    run_cs("budget", "set", "--total", "1")
    log(run_cs, repo, "3")

    again = log(run_cs, repo, "2")

    assert again["session"]["aiCost"] == 5.0
    assert again["budget"]["exceeded"] is True


def test_default_session_warning_is_shown_but_never_fails_check(
    run_cs, repo: Path
) -> None:
    crossing = log(run_cs, repo, "5")
    check = run_cs("budget", "check", "--json", cwd=repo)

    assert crossing["warnings"] == [
        {
            "code": "budget_warning",
            "message": "per-session warning reached 100%: $5.00 spent of $5.00 "
            f"(session:{crossing['session']['id']})",
        }
    ]
    assert check.exit_code == 0
    assert check.json["budget"]["limits"][0]["exceeded"] is True
    assert check.json["budget"]["exceeded"] is False


@pytest.mark.parametrize(
    "argv",
    [("set", "--per-session", "0"), ("clear",), ("clear", "--period", "session")],
    ids=["zero", "clear", "clear-period"],
)
def test_the_default_warning_can_be_switched_off(run_cs, repo: Path, argv) -> None:
    assert run_cs("budget", *argv, "--json").exit_code == 0

    crossing = log(run_cs, repo, "7")

    assert crossing["warnings"] == []
    assert crossing["budget"]["limits"] == []


def test_setting_the_per_session_amount_makes_it_enforced(run_cs, repo: Path) -> None:
    shown = run_cs("budget", "set", "--per-session", "5", "--json").json

    assert [(b["period"], b["origin"], b["enforced"]) for b in shown["budgets"]] == [
        ("session", "user", True)
    ]


def test_show_lists_every_scope(run_cs, repo: Path, tmp_path: Path) -> None:
    run_cs("budget", "set", "--monthly", "50", "--project", cwd=repo)
    run_cs("budget", "set", "--daily", "3", "--warn-at", "75")

    shown = run_cs("budget", "show", "--json", env={"CODESESSION_NOW": NOW})

    assert shown.exit_code == 0
    rows = [
        (b["scope"], b["period"], b["limit"], b["warnAt"], b["enforced"])
        for b in shown.json["budgets"]
    ]
    assert rows == [
        ("", "session", 5.0, None, False),
        ("", "daily", 3.0, 75, True),
        (str(repo), "monthly", 50.0, None, True),
    ]


def test_a_project_limit_ignores_other_projects(run_cs, repo: Path, tmp_path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    run_cs("start", "other", "--json", cwd=other)
    run_cs("budget", "set", "--total", "1", "--project", cwd=repo)

    elsewhere = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "-c", "4", "-t", "5", "--json",
        cwd=other,
    )  # fmt: skip
    check_here = run_cs("budget", "check", "--json", cwd=repo)

    assert elsewhere.json["budget"]["exceeded"] is False
    assert check_here.exit_code == 0


def test_check_with_an_estimate(run_cs, repo: Path) -> None:
    run_cs("budget", "set", "--total", "1")
    log(run_cs, repo, "0.6")

    fits = run_cs("budget", "check", "--estimate", "0.4", "--json", cwd=repo)
    too_much = run_cs("budget", "check", "--estimate", "0.41", "--json", cwd=repo)

    assert fits.exit_code == 0
    assert too_much.exit_code == 1
    assert too_much.json["error"]["estimate"] == 0.41
    assert too_much.json["error"]["message"] == (
        "total budget would be exceeded: $0.60 spent of $1.00, $0.41 more requested"
    )


def test_check_without_a_session_skips_session_limits(run_cs, tmp_path: Path) -> None:
    run_cs("budget", "set", "--per-session", "1")

    result = run_cs("budget", "check", "--json", cwd=tmp_path)

    assert result.exit_code == 0
    assert result.json["budget"]["limits"] == []


def test_check_human_output(run_cs, repo: Path) -> None:
    run_cs("budget", "set", "--daily", "1")
    log(run_cs, repo, "1.1")

    result = run_cs("budget", "check", cwd=repo, env={"CODESESSION_NOW": NOW})

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(
        "Error: daily budget exceeded: $1.10 spent of $1.00. "
    )
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("set",), "nothing to set"),
        (("set", "--daily", "-1"), "--daily must be an amount of 0 or more, not '-1'"),
        (("set", "--weekly", "ten"), "--weekly must be an amount in USD, not 'ten'"),
        (("set", "--daily", "1", "--warn-at", "100"), "--warn-at must be from 0"),
        (("set", "--warn-at", "80"), "no budget for everything to apply --warn-at to"),
        (("clear", "--period", "yearly"), "unknown period 'yearly'"),
        (("check", "--estimate", "-2"), "--estimate must be an amount of 0 or more"),
    ],
    ids=["nothing", "negative", "text", "warn-100", "warn-alone", "period", "estimate"],
)
def test_invalid_input(run_cs, argv, message: str) -> None:
    result = run_cs("budget", *argv, "--json")

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "invalid_input"
    assert result.json["error"]["message"].startswith(message)


def test_warn_at_alone_updates_the_scope_limits(run_cs) -> None:
    run_cs("budget", "set", "--daily", "1", "--total", "5")

    shown = run_cs("budget", "set", "--warn-at", "90", "--json").json

    assert [b["warnAt"] for b in shown["budgets"]] == [None, 90, 90]


def test_human_show(run_cs, repo: Path) -> None:
    run_cs("budget", "set", "--daily", "2")
    log(run_cs, repo, "1")

    result = run_cs("budget", "show", cwd=repo, env={"CODESESSION_NOW": NOW})

    assert result.exit_code == 0
    assert "warning only (default)" in result.stdout
    assert "50% of daily limit: $1.00 of $2.00 (2025-07-01)" in result.stdout


@pytest.mark.parametrize(
    ("zone", "keys", "spent", "fired"),
    [
        (
            "America/Denver",
            ["2025-08-03", "2025-08-04"],
            2.0,
            ["2025-08-04", "2025-08-03"],
        ),
        ("UTC", ["2025-08-04", "2025-08-04"], 3.0, ["2025-08-04"]),
    ],
    ids=["denver", "utc"],
)
def test_daily_limits_reset_at_local_midnight_b08(
    run_cs, git_repo: Path, zone: str, keys: list[str], spent: float, fired: list[str]
) -> None:
    env = {"CODESESSION_TZ": zone, "CODESESSION_NOW": "2025-08-04T01:00:00.000Z"}
    run_cs("start", "b08", "--json", cwd=git_repo, env=env)
    run_cs("budget", "set", "--daily", "1", "--json", env=env)
    calls = [("1.00", "2025-08-04T02:00:00.000Z"), ("2.00", "2025-08-04T15:00:00.000Z")]

    results = [
        run_cs(
            "log-ai", "-p", "openai", "-m", "gpt-4o", "-c", cost, "-t", "5", "--json",
            cwd=git_repo, env={**env, "CODESESSION_NOW": now},
        ).json
        for cost, now in calls
    ]  # fmt: skip
    daily = [
        next(lim for lim in r["budget"]["limits"] if lim["period"] == "daily")
        for r in results
    ]
    history = run_cs("alerts", "history", "--json", env=env).json["alerts"]

    assert [d["periodKey"] for d in daily] == keys
    assert daily[1]["spent"] == spent
    assert results[0]["budget"]["timezone"] == zone
    assert [a["periodKey"] for a in history] == fired
