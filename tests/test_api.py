"""cs_core.api: a session as a context manager for agents written in Python."""

from decimal import Decimal
from pathlib import Path

import pytest

from cs_core.api import track
from cs_core.errors import BudgetExceededError, SessionActiveError
from tests.conftest import commit_file


def gpt(session, cost: str) -> dict:
    return session.log_call(
        "openai", "gpt-4o", prompt_tokens=10, completion_tokens=5, cost_usd=cost
    )


def test_ends_with_its_git_scan(git_repo: Path) -> None:
    with track("api", cwd=str(git_repo)) as session:
        gpt(session, "0.25")
        commit_file(git_repo, "src/a.py", "x = 1\n", "add a")

    assert session.row["status"] == "completed"
    assert session.row["end_reason"] == "ended"
    assert session.row["commits"] == 1
    assert session.row["files_changed"] == 1
    assert session.row["ai_cost"] == 0.25


def test_ends_even_when_the_body_raises(git_repo: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="agent crashed"),
        track("api", cwd=str(git_repo)) as session,
    ):
        commit_file(git_repo, "b.txt", "b\n", "add b")
        raise RuntimeError("agent crashed")

    assert session.row["status"] == "completed"
    assert session.row["end_reason"] == "interrupted"
    assert session.row["commits"] == 1


def test_guard_refuses_before_the_money_is_spent(git_repo: Path) -> None:
    with track("api", cwd=str(git_repo), budget_usd=1) as session:
        gpt(session, "0.7")
        affordable = session.can_afford("0.3")
        too_much = session.can_afford(Decimal("0.31"))
        with pytest.raises(BudgetExceededError) as caught:
            session.guard(0.5)
        spent = session.spent_usd

    assert (affordable, too_much) == (True, False)
    assert caught.value.extra == {
        "period": "session",
        "scope": "api",
        "budgetId": None,
        "spent": 0.7,
        "limit": 1.0,
        "estimate": 0.5,
    }
    assert spent == Decimal("0.7")


def test_logging_is_never_refused(git_repo: Path) -> None:
    with track("api", cwd=str(git_repo), budget_usd="0.5") as session:
        result = gpt(session, "2")

        assert result["logged"]["cost"] == 2.0
        assert session.can_afford(0) is False


def test_stored_budgets_apply_too(git_repo: Path, run_cs, capsys) -> None:
    run_cs("budget", "set", "--daily", "1")

    with track("api", cwd=str(git_repo)) as session:
        result = gpt(session, "1")
        with pytest.raises(BudgetExceededError, match="daily budget exceeded"):
            session.guard(0.01)
        status = session.status()

    assert [a["code"] for a in result["alerts"]] == ["budget_exceeded"]
    assert result["budget"]["exceeded"] is True
    assert status["budget"]["exceeded"] is True
    assert (
        "Warning: daily budget exceeded: $1.00 spent of $1.00"
        in capsys.readouterr().err
    )


def test_notes_are_recorded(git_repo: Path) -> None:
    with track("api", cwd=str(git_repo)) as session:
        session.note("halfway")
        notes = session.status()["annotations"]

    assert [n["message"] for n in notes] == ["halfway"]


def test_resume_leaves_the_session_open(git_repo: Path, run_cs) -> None:
    run_cs("start", "outer", "--json", cwd=git_repo)

    with pytest.raises(SessionActiveError):
        track("inner", cwd=str(git_repo)).__enter__()
    with track("inner", cwd=str(git_repo), resume=True) as session:
        gpt(session, "0.1")

    status = run_cs("status", "--json", cwd=git_repo).json
    assert status["status"] == "active"
    assert status["aiCost"] == 0.1
