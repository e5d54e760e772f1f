"""The dashboard's writes: budgets and Start Fresh.

Each runs on Datasette's write connection, inside one transaction.
"""

import os
import sqlite3
from decimal import Decimal
from pathlib import Path

from cs_core import InvalidInputError, budgets, now

PERIODS = budgets.PERIODS
RESET_TABLES = (
    "ai_usage",
    "file_changes",
    "commits",
    "session_notes",
    "alert_events",
    "sessions",
)


def parse_budget(form: dict[str, str]) -> tuple[str, str, Decimal, Decimal | None]:
    """Validate the budget form: scope, period, limit and warning percent.

    Raises:
        InvalidInputError: An unknown period, a limit not above 0, or a warning
            percent outside [0, 100).
    """
    period = form.get("period", "")
    if period not in PERIODS:
        raise InvalidInputError(f"period must be one of {', '.join(PERIODS)}")
    limit = budgets.parse_amount(form.get("limit", ""), "the limit")
    if limit <= 0:
        raise InvalidInputError("the limit must be more than $0")
    warn_text = form.get("warn_at", "").strip()
    warn = budgets.parse_percent(warn_text) if warn_text else None
    return form.get("scope", "").strip(), period, limit, warn


def save_budget(
    conn: sqlite3.Connection, budget: tuple[str, str, Decimal, Decimal | None]
) -> None:
    """Set a limit the way `cs budget set` does (same table, same rules)."""
    scope, period, limit, warn = budget
    budgets.set_limits(conn, scope, {period: limit}, warn)


def delete_budget(conn: sqlite3.Connection, budget_id: int) -> int:
    """Remove one budget the way `cs budget clear` does; return how many went."""
    row = conn.execute(
        "SELECT scope, period FROM budgets WHERE id = ?", (budget_id,)
    ).fetchone()
    if row is None:
        return 0
    return budgets.clear(conn, row["scope"], [row["period"]])


def backup_path(db_file: str) -> Path:
    """Return where Start Fresh keeps the copy: next to the database."""
    stamp = now().strftime("%Y%m%d-%H%M%S")
    path = Path(db_file)
    return path.with_name(f"{path.stem}.backup-{stamp}{path.suffix or '.db'}")


def start_fresh(conn: sqlite3.Connection, db_file: str) -> tuple[Path, int]:
    """Copy the database aside, then delete every session and what belongs to it.

    Returns:
        The backup's path and the number of sessions removed.
    """
    target = backup_path(db_file)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    copy = sqlite3.connect(target)
    try:
        conn.backup(copy)
    finally:
        copy.close()

    removed = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    with conn:
        for table in RESET_TABLES:
            conn.execute(f"DELETE FROM {table}")
    return target, removed
