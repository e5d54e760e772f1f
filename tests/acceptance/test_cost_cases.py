"""The cases of shared/acceptance/cost-cases.md, each with its exact expected value."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest


def log(run_cs, repo: Path, *args: str, env: dict | None = None):
    return run_cs("log-ai", *args, "--json", cwd=repo, env=env)


@pytest.fixture
def session(git_repo: Path, run_cs) -> Path:
    assert run_cs("start", "costs", "--json", cwd=git_repo).exit_code == 0
    return git_repo


def test_b02_openai_cached_tokens_are_part_of_the_prompt(session, run_cs) -> None:
    result = log(
        run_cs, session, "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "20212",
        "--cache-read-tokens", "16298", "--completion-tokens", "931",
    )  # fmt: skip

    assert result.json["logged"]["cost"] == 0.0394675
    assert result.json["logged"]["tokens"] == 21143


def test_b02_more_cached_than_prompt_tokens_is_invalid(session, run_cs) -> None:
    result = log(
        run_cs, session, "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "100",
        "--cache-read-tokens", "101", "--completion-tokens", "1",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "invalid_input"
    assert run_cs("status", "--json", cwd=session).json["aiUsage"] == []


@pytest.mark.parametrize(
    "reasoning", [[], ["--reasoning-tokens", "1360"]], ids=["without", "with"]
)
def test_b03_openai_reasoning_is_part_of_the_output(session, run_cs, reasoning) -> None:
    result = log(
        run_cs, session, "-p", "openai", "-m", "o3", "--prompt-tokens", "14746",
        "--completion-tokens", "1944", *reasoning,
    )  # fmt: skip

    assert result.json["logged"]["cost"] == 0.045044
    assert result.json["logged"]["tokens"] == 16690


def test_b03_more_reasoning_than_completion_is_invalid(session, run_cs) -> None:
    result = log(
        run_cs, session, "-p", "openai", "-m", "o3", "--prompt-tokens", "10",
        "--completion-tokens", "5", "--reasoning-tokens", "6",
    )  # fmt: skip

    assert result.json["error"]["code"] == "invalid_input"


def test_b04_gemini_thinking_is_billed_on_top(session, run_cs) -> None:
    result = log(
        run_cs, session, "-p", "google", "-m", "gemini-2.5-pro", "--prompt-tokens",
        "55021", "--completion-tokens", "923", "--reasoning-tokens", "785",
        "-t", "56729",
    )  # fmt: skip

    assert result.json["logged"]["cost"] == 0.08585625
    assert result.json["logged"]["tokens"] == 56729
    assert result.json["warnings"] == []


def test_b04_total_that_disagrees_with_parts_warns(session, run_cs) -> None:
    result = log(
        run_cs, session, "-p", "google", "-m", "gemini-2.5-pro", "--prompt-tokens",
        "55021", "--completion-tokens", "923", "-t", "56729",
    )  # fmt: skip

    assert result.exit_code == 0
    assert result.json["logged"]["tokens"] == 56729
    assert result.json["logged"]["cost"] == 0.07800625
    assert [w["code"] for w in result.json["warnings"]] == ["total_mismatch"]


B06_CALLS = [
    ("anthropic", "claude-haiku-4-5", 0.15),
    ("anthropic", "claude-haiku-4-5-20251001", 0.15),
    ("anthropic", "anthropic/claude-haiku-4-5", 0.15),
    ("anthropic", "global.anthropic.claude-haiku-4-5-20251001-v1:0", 0.15),
    ("anthropic", "CLAUDE-HAIKU-4-5", 0.15),
    ("openai", "gpt-4o-2024-08-06", 0.35),
    ("openai", "gpt-4o-mini", 0.021),
    ("openai", "gpt-4o-2024-05-13", 0.65),
]


def test_b06_model_spellings_resolve_without_guessing(session, run_cs) -> None:
    costs = []
    for provider, model, expected in B06_CALLS:
        result = log(
            run_cs, session, "-p", provider, "-m", model, "--prompt-tokens", "100000",
            "--completion-tokens", "10000",
        )  # fmt: skip
        assert result.json["logged"]["cost"] == expected, model
        assert result.json["logged"]["modelRequested"] == model
        costs.append(result.json["logged"]["cost"])

    by_model = run_cs("stats", "--by", "model", "--json", cwd=session).json["breakdown"]
    haiku = [row for row in by_model if row["key"] == "claude-haiku-4-5"]
    assert haiku == [
        {"key": "claude-haiku-4-5", "cost": 0.75, "tokens": 550000, "calls": 5,
         "sessions": 1, "unpricedCalls": 0}
    ]  # fmt: skip
    assert run_cs("status", "--json", cwd=session).json["aiCost"] == 1.771


def test_b07_unknown_model_is_unpriced_never_zero(session, run_cs) -> None:
    base = ["-p", "openai", "--prompt-tokens"]
    log(
        run_cs, session, *base, "100000", "-m", "gpt-4o", "--completion-tokens", "10000"
    )
    refused = log(
        run_cs, session, *base, "1000", "-m", "gpt-daybreak-blue-latest",
        "--completion-tokens", "500",
    )  # fmt: skip
    unpriced = log(
        run_cs, session, *base, "1000", "-m", "gpt-daybreak-blue-latest",
        "--completion-tokens", "500", "--allow-unpriced",
    )  # fmt: skip
    manual = log(
        run_cs, session, *base, "1000", "-m", "gpt-daybreak-blue-latest",
        "--completion-tokens", "500", "-c", "0.0123",
    )  # fmt: skip

    assert refused.json["error"]["code"] == "unknown_model"
    assert unpriced.exit_code == 0
    assert unpriced.json["logged"]["cost"] is None
    assert [w["code"] for w in unpriced.json["warnings"]] == ["unpriced_model"]
    assert "gpt-daybreak-blue-latest" in unpriced.json["warnings"][0]["message"]
    assert manual.json["logged"]["cost"] == 0.0123
    assert manual.json["pricing"]["source"] == "manual"

    shown = run_cs("show", "--json", cwd=session).json
    assert shown["aiCost"] == 0.3623
    assert (shown["unpricedCalls"], shown["unpricedTokens"]) == (1, 1500)
    assert [call["cost"] for call in shown["aiUsage"]] == [0.35, None, 0.0123]
    stats = run_cs("stats", "--json", cwd=session).json
    assert (stats["unpricedCalls"], stats["unpricedTokens"]) == (1, 1500)

    calls_csv = run_cs("export", "--format", "csv", "--calls", cwd=session).stdout
    rows = list(csv.DictReader(io.StringIO(calls_csv)))
    assert sorted(row["cost"] for row in rows) == ["", "0.0123", "0.35"]

    run_cs(
        "pricing", "set", "gpt-daybreak-blue-latest", "1", "2", "--provider", "openai"
    )
    repriced = run_cs("reprice", "--all", "--json", cwd=session).json
    assert repriced["changed"] == 1
    assert run_cs("show", "--json", cwd=session).json["aiCost"] == 0.3643


def test_b07_a_model_priced_at_zero_is_free_not_unknown(session, run_cs) -> None:
    run_cs("pricing", "set", "local-llama", "0", "0")

    result = log(
        run_cs, session, "-p", "openai", "-m", "local-llama", "--prompt-tokens", "5",
        "--completion-tokens", "5",
    )  # fmt: skip

    assert result.json["logged"]["cost"] == 0
    assert result.json["warnings"] == []
    assert result.json["pricing"]["source"] == "custom"


def _at(moment: str) -> dict:
    return {"CODESESSION_NOW": moment}


@pytest.mark.parametrize(
    "tz", ["America/Denver", "MST7MDT,M3.2.0,M11.1.0"], ids=["zone-name", "posix-rule"]
)
def test_b08_days_follow_the_display_zone(git_repo, run_cs, tz) -> None:
    denver = {"TZ": tz, "CODESESSION_TZ": ""}
    run_cs("start", "b08", "--json", cwd=git_repo, env=_at("2025-08-04T01:00:00Z"))
    for moment, cost in (
        ("2025-08-04T02:00:00Z", "1.00"),
        ("2025-08-04T15:00:00Z", "2.00"),
    ):
        log(
            run_cs, git_repo, "-p", "openai", "-m", "gpt-4o", "-c", cost,
            "--prompt-tokens", "1", "--completion-tokens", "1", env=_at(moment),
        )  # fmt: skip

    local = run_cs("stats", "--daily", "--json", cwd=git_repo, env=denver).json
    utc = run_cs("stats", "--daily", "--timezone", "UTC", "--json", cwd=git_repo).json

    assert [(r["key"], r["cost"]) for r in local["breakdown"]] == [
        ("2025-08-03", 1.0),
        ("2025-08-04", 2.0),
    ]
    assert local["timezone"] == tz
    assert [(r["key"], r["cost"]) for r in utc["breakdown"]] == [("2025-08-04", 3.0)]


def test_b08_today_is_the_local_day(git_repo, run_cs) -> None:
    tokyo = {"TZ": "Asia/Tokyo", "CODESESSION_TZ": ""}
    run_cs("start", "b08b", "--json", cwd=git_repo, env=_at("2026-05-21T13:00:00Z"))
    for moment, cost in (
        ("2026-05-21T14:00:00Z", "5.00"),
        ("2026-05-21T15:30:00Z", "0.50"),
    ):
        log(
            run_cs, git_repo, "-p", "openai", "-m", "gpt-4o", "-c", cost,
            "--prompt-tokens", "1", "--completion-tokens", "1", env=_at(moment),
        )  # fmt: skip

    today = run_cs(
        "stats",
        "--today",
        "--json",
        cwd=git_repo,
        env={**tokyo, **_at("2026-05-21T16:27:00Z")},
    ).json

    assert today["totalAICost"] == 0.5


def test_b08_days_across_daylight_saving_change(git_repo, run_cs) -> None:
    berlin = {"TZ": "Europe/Berlin", "CODESESSION_TZ": ""}
    run_cs("start", "dst", "--json", cwd=git_repo, env=_at("2026-03-28T12:00:00Z"))
    # 22:30Z on the 28th is 23:30 CET (28th); 22:30Z on the 29th is 00:30 CEST (30th).
    for moment in (
        "2026-03-28T22:30:00Z",
        "2026-03-29T21:59:00Z",
        "2026-03-29T22:30:00Z",
    ):
        log(
            run_cs, git_repo, "-p", "openai", "-m", "gpt-4o", "-c", "1",
            "--prompt-tokens", "1", "--completion-tokens", "1", env=_at(moment),
        )  # fmt: skip

    days = run_cs("stats", "--by", "day", "--json", cwd=git_repo, env=berlin).json

    assert [(r["key"], r["cost"]) for r in days["breakdown"]] == [
        ("2026-03-28", 1.0),
        ("2026-03-29", 1.0),
        ("2026-03-30", 1.0),
    ]


def test_b10_tiny_costs_keep_full_precision(session, run_cs) -> None:
    for _ in range(200):
        log(
            run_cs, session, "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "3",
            "--completion-tokens", "1",
        )  # fmt: skip

    shown = run_cs("show", "--json", cwd=session).json
    human = run_cs("show", cwd=session).stdout
    sessions_csv = run_cs("export", "--format", "csv", cwd=session).stdout

    assert {call["cost"] for call in shown["aiUsage"]} == {0.0000175}
    assert shown["aiCost"] == 0.0035
    assert "$0.0035" in human
    assert next(csv.DictReader(io.StringIO(sessions_csv)))["aiCost"] == "0.0035"


@pytest.mark.parametrize(
    ("costs", "total"),
    [(["0.1", "0.2"], 0.3), (["0.1"] * 10, 1.0)],
    ids=["0.1+0.2", "ten-times-0.1"],
)
def test_b10_sums_have_no_float_noise(session, run_cs, costs, total) -> None:
    for cost in costs:
        log(
            run_cs, session, "-p", "openai", "-m", "gpt-4o", "-c", cost,
            "--prompt-tokens", "1", "--completion-tokens", "1",
        )  # fmt: skip

    shown = run_cs("show", "--json", cwd=session)
    sessions_csv = run_cs("export", "--format", "csv", cwd=session).stdout

    assert shown.json["aiCost"] == total
    assert f'"aiCost": {total}' in shown.stdout
    assert Decimal(
        next(csv.DictReader(io.StringIO(sessions_csv)))["aiCost"]
    ) == Decimal(str(total))


def test_human_output_never_shows_zero_for_a_tiny_cost(session, run_cs) -> None:
    result = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "3",
        "--completion-tokens", "1", cwd=session,
    )  # fmt: skip

    assert "$0.0000175" in result.stdout


def test_a_tz_that_is_a_file_path_still_logs(git_repo, run_cs) -> None:
    env = {"TZ": ":/etc/localtime", "CODESESSION_TZ": ""}
    run_cs("start", "tz", "--json", cwd=git_repo, env=env)

    logged = log(
        run_cs, git_repo, "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "3",
        "--completion-tokens", "1", env=env,
    )  # fmt: skip

    assert logged.exit_code == 0
    assert run_cs("stats", "--today", "--json", cwd=git_repo, env=env).exit_code == 0
