"""The dashboard's writes: budgets and Start Fresh.

Each runs on Datasette's write connection, inside one transaction.
"""

import os
import sqlite3
from pathlib import Path

from cs_core import InvalidInputError
from cs_core.clock import now, now_iso

PERIODS = ("daily", "total", "session")
RESET_TABLES = (
    "ai_usage",
    "file_changes",
    "commits",
    "session_notes",
    "alert_events",
    "sessions",
)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(f"{what} must be a number, not {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInputError(f"{what} must be a finite number")
    return value


def parse_budget(form: dict[str, str]) -> tuple[str, str, float, float | None]:
    """Validate the budget form: scope, period, limit and warning percent.

    Raises:
        InvalidInputError: An unknown period, a limit not above 0, or a warning
            percent outside (0, 100).
    """
    period = form.get("period", "")
    if period not in PERIODS:
        raise InvalidInputError(f"period must be one of {', '.join(PERIODS)}")
    limit = _number(form.get("limit", ""), "the limit")
    if limit <= 0:
        raise InvalidInputError("the limit must be more than $0")
    warn_text = form.get("warn_at", "").strip()
    warn = _number(warn_text, "the warning percent") if warn_text else None
    if warn is not None and not 0 < warn < 100:
        raise InvalidInputError("the warning percent must be between 0 and 100")
    return form.get("scope", "").strip(), period, limit, warn


def save_budget(
    conn: sqlite3.Connection, budget: tuple[str, str, float, float | None]
) -> None:
    """Insert a budget, or replace the limit of the one with that scope and period."""
    scope, period, limit, warn = budget
    stamp = now_iso()
    with conn:
        conn.execute(
            """INSERT INTO budgets
                (scope, period, limit_usd, warn_at_percent, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (scope, period) DO UPDATE SET limit_usd = excluded.limit_usd,
                warn_at_percent = excluded.warn_at_percent,
                updated_at = excluded.updated_at""",
            (scope, period, limit, warn, stamp, stamp),
        )


def delete_budget(conn: sqlite3.Connection, budget_id: int) -> None:
    """Remove a budget; the alerts it fired stay, without their budget."""
    with conn:
        conn.execute(
            "UPDATE alert_events SET budget_id = NULL WHERE budget_id = ?", (budget_id,)
        )
        conn.execute("DELETE FROM budgets WHERE id = ?", (budget_id,))


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
