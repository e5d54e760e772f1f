"""Arbitrary values thrown at every command: never a traceback, always exit 0 or a
JSON error with exit 1, and nothing half-written."""

import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KNOWN_CODES = {
    "session_active", "session_not_found", "no_active_session", "invalid_input",
    "missing_tokens", "unknown_model", "database_error", "config_error",
    "budget_exceeded",
}  # fmt: skip

# Text as a shell could pass it: any Unicode, control characters, and bytes that
# are not UTF-8 (Python turns those into lone surrogates in argv).
ARG = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=20).map(os.fsdecode),
    st.sampled_from(["nan", "inf", "-inf", "-1", "1e309", "9" * 40, "", " ", "0x10",
                     "1_000", "\uff11\uff12", "-0", "1.0", "2e3", "\x00", "\n",
                     "America", "..", "/etc/passwd", "2025-02-30",
                     "2025-01-01T25:00"]),
    st.integers().map(str),
    st.floats().map(str),
)  # fmt: skip

TEMPLATES = [
    ["log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "{}",
     "--completion-tokens", "1"],
    ["log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "5",
     "--completion-tokens", "1", "-c", "{}"],
    ["log-ai", "-p", "{}", "-m", "gpt-4o", "-t", "5", "-c", "0.1"],
    ["log-ai", "-p", "openai", "-m", "{}", "-t", "5", "--allow-unpriced"],
    ["log-ai", "-p", "anthropic", "-m", "claude-sonnet-4", "--prompt-tokens", "5",
     "--completion-tokens", "5", "--cache-read-tokens", "{}", "--agent", "{}"],
    ["note", "{}"],
    ["status", "-s", "{}"],
    ["show", "{}"],
    ["stats", "--since", "{}"],
    ["stats", "--by", "{}"],
    ["stats", "--timezone", "{}", "--today"],
    ["list", "-l", "{}"],
    ["export", "--limit", "{}"],
    ["export", "--format", "{}"],
    ["recover", "--max-age", "{}"],
    ["pricing", "set", "m", "{}", "1"],
    ["pricing", "set", "{}", "1", "1", "--cache-read", "{}"],
    ["delete", "{}", "--yes"],
    ["reprice", "--session", "{}", "--dry-run"],
    ["end", "-n", "{}", "-s", "{}"],
]  # fmt: skip


def totals_consistent(db: Path) -> bool:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT s.id, s.ai_cost, COALESCE(SUM(u.cost), 0), s.ai_tokens,"
        " COALESCE(SUM(u.tokens), 0)"
        " FROM sessions s LEFT JOIN ai_usage u ON u.session_id = s.id GROUP BY s.id"
    ).fetchall()
    return all(
        abs(cost - summed) < 1e-6 and tokens == summed_tokens
        for _, cost, summed, tokens, summed_tokens in rows
    )


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: " ".join(t[:2]))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(ARG, min_size=2, max_size=2))
def test_arbitrary_values_never_crash(
    template, values, git_repo, run_cs, cs_home
) -> None:
    if run_cs("status", "--json", cwd=git_repo).exit_code:
        run_cs("start", "fuzz", "--json", cwd=git_repo)
    argv = [part.format(values[0] if i % 2 else values[1]) if "{}" in part else part
            for i, part in enumerate(template)]  # fmt: skip

    result = run_cs(*argv, "--json", cwd=git_repo)

    assert result.exit_code in (0, 1), result
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout) if result.stdout.strip() else None
    if result.exit_code == 1:
        assert document["schemaVersion"] == 1
        assert document["error"]["code"] in KNOWN_CODES, document
    assert totals_consistent(cs_home / "sessions.db")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(ARG, min_size=1, max_size=4))
def test_arbitrary_arguments_to_log_ai_without_json(values, git_repo, run_cs) -> None:
    run_cs("start", "fuzz", "--resume", "--json", cwd=git_repo)

    result = run_cs("log-ai", *values, cwd=git_repo)

    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.stderr
    if result.exit_code == 1:
        assert result.stderr.startswith("Error: ")
