"""`cs budget`: set, show, clear and check spending limits."""

import sqlite3
from decimal import Decimal
from typing import Annotated, Any

from cyclopts import App, Parameter

from .. import budgets, output
from ..errors import InvalidInputError, NoActiveSessionError
from ..sessions import find_session, resolve_scope
from . import JsonFlag, SessionOption, emit, open_db

app = App(name="budget", help="Set, show, clear and check spending limits.")

Amount = Annotated[str | None, Parameter(allow_leading_hyphen=True)]
ProjectFlag = Annotated[
    bool,
    Parameter(name="--project", help="Only this project (scope), not everything."),
]


def _scope(project: bool) -> str:
    return resolve_scope().scope if project else ""


def _current(
    conn: sqlite3.Connection, session: str | None = None
) -> list[budgets.LimitStatus]:
    """Return the limits that apply here, measured for the active session if any."""
    scope = resolve_scope()
    try:
        target = find_session(conn, session, scope)
    except NoActiveSessionError:
        return budgets.statuses(conn, scope.scope, None)
    return budgets.statuses(conn, target["scope"] or "", target["id"])


def _payload(conn: sqlite3.Connection, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "budgets": budgets.budget_rows(conn),
        "budget": budgets.block(_current(conn)),
    }


@app.command(name="set")
def set_budget(
    *,
    per_session: Amount = None,
    daily: Amount = None,
    weekly: Amount = None,
    monthly: Amount = None,
    total: Amount = None,
    warn_at: Amount = None,
    project: ProjectFlag = False,
    json: JsonFlag = False,
) -> None:
    """Set spending limits in USD; 0 removes one.

    Args:
        per_session: Limit for each session.
        daily: Limit per local day.
        weekly: Limit per week (Monday to Sunday).
        monthly: Limit per calendar month.
        total: Limit on all spend ever.
        warn_at: Also alert at this percentage of each limit, e.g. 80; 0 removes.
        project: Apply to this project (scope) only.
        json: Print one JSON document on stdout.
    """
    given = {
        "session": per_session,
        "daily": daily,
        "weekly": weekly,
        "monthly": monthly,
        "total": total,
    }
    limits = {
        period: budgets.parse_amount(value, _flag(period))
        for period, value in given.items()
        if value is not None
    }
    warn = budgets.parse_percent(warn_at) if warn_at is not None else None

    conn = open_db()
    budgets.set_limits(conn, _scope(project), limits, warn)
    payload = _payload(conn)
    emit(payload, json, lambda: _print(payload))


def _flag(period: str) -> str:
    return "--per-session" if period == "session" else f"--{period}"


@app.command(name="show")
def show(*, json: JsonFlag = False) -> None:
    """Show every limit and what is spent against the ones that apply here.

    Args:
        json: Print one JSON document on stdout.
    """
    payload = _payload(open_db())
    emit(payload, json, lambda: _print(payload))


@app.command(name="clear")
def clear(
    *,
    period: Annotated[
        list[str] | None, Parameter(help="Only these periods (repeatable).")
    ] = None,
    project: ProjectFlag = False,
    json: JsonFlag = False,
) -> None:
    """Remove limits, the built-in $5 per-session warning included.

    Args:
        period: Only these periods: session, daily, weekly, monthly, total.
        project: Clear this project's limits instead of the global ones.
        json: Print one JSON document on stdout.
    """
    wanted = [name.strip().lower() for name in period or []]
    unknown = [name for name in wanted if name not in budgets.PERIODS]
    if unknown:
        raise InvalidInputError(
            f"unknown period '{unknown[0]}'",
            hint=f"Periods: {', '.join(budgets.PERIODS)}.",
        )

    conn = open_db()
    removed = budgets.clear(conn, _scope(project), wanted)
    payload = _payload(conn, removed=removed)
    emit(payload, json, lambda: _print(payload))


@app.command(name="check")
def check(
    *,
    estimate: Amount = None,
    session: SessionOption = None,
    json: JsonFlag = False,
) -> None:
    """Exit 0 while under every limit, 1 with budget_exceeded when over.

    Guard an expensive step with it: `cs budget check --estimate 0.50 && ...`.
    The built-in per-session warning never makes it fail.

    Args:
        estimate: Also fail if spending this much more would go over a limit.
        session: Session id; default: the active session of this scope.
        json: Print one JSON document on stdout.
    """
    extra = budgets.parse_amount(estimate, "--estimate") if estimate else Decimal(0)
    conn = open_db()
    current = _current(conn, session)
    budgets.check(current, extra)
    payload = {"ok": True, "budget": budgets.block(current)}
    emit(payload, json, lambda: _print_status(current))


def _print(payload: dict[str, Any]) -> None:
    from rich.table import Table

    if "removed" in payload:
        output.write_stderr(f"Removed {payload['removed']} limit(s).")
    table = Table(title="Budgets")
    for column in ("Id", "Scope", "Period", "Limit", "Warn at", "Kind"):
        table.add_column(column)
    for row in payload["budgets"]:
        table.add_row(
            str(row["id"]),
            row["scope"] or "everything",
            budgets.LABELS[row["period"]],
            output.format_usd(row["limit"]),
            "-" if row["warnAt"] is None else f"{row['warnAt']}%",
            "limit" if row["enforced"] else "warning only (default)",
        )
    output.console().print(table)
    for entry in payload["budget"]["limits"]:
        output.write_stdout(_line(entry) + "\n")


def _print_status(current: list[budgets.LimitStatus]) -> None:
    if not current:
        output.write_stdout("No limits apply here.\n")
    for status in current:
        output.write_stdout(budgets.describe(status) + "\n")


def _line(entry: dict[str, Any]) -> str:
    where = f" for {entry['scope']}" if entry["scope"] else ""
    return (
        f"{entry['percent']}% of {budgets.LABELS[entry['period']]} limit{where}: "
        f"{output.format_usd(entry['spent'])} of {output.format_usd(entry['limit'])}"
        f" ({entry['periodKey']})"
    )
