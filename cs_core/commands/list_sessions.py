"""`cs list` (`cs ls`): the latest sessions."""

from typing import Annotated, Any

from cyclopts import Parameter

from .. import clock, output
from ..errors import InvalidInputError
from ..stats import make_period
from . import JsonFlag, open_db, parse_limit


def list_sessions(
    *,
    limit: Annotated[str, Parameter(name=["--limit", "-l"])] = "10",
    since: str | None = None,
    until: str | None = None,
    project: str | None = None,
    status: str | None = None,
    timezone: str | None = None,
    json: JsonFlag = False,
) -> None:
    """List the latest sessions, newest first.

    Args:
        limit: How many sessions to show.
        since: Sessions started on or after this date or instant.
        until: Sessions started up to this date (inclusive) or instant.
        project: Only sessions of this repository or folder.
        status: Only sessions in this status: active or completed.
        timezone: Time zone of --since/--until dates (default: $CODESESSION_TZ,
            $TZ, the system's).
        json: Print a JSON array of session objects.
    """
    conn = open_db()
    clock.set_zone(timezone)
    rows = conn.execute(*_query(limit, since, until, project, status)).fetchall()
    sessions = [output.session_object(row) for row in rows]
    if json:
        output.emit_json(sessions)
    else:
        _print_human(sessions)


def _query(
    limit: str,
    since: str | None,
    until: str | None,
    project: str | None,
    status: str | None,
) -> tuple[str, list[Any]]:
    count = parse_limit(limit, "--limit")
    if status not in (None, "active", "completed"):
        raise InvalidInputError(f"--status must be active or completed, not '{status}'")
    zone, _ = clock.display_zone()
    period = make_period(since, until, False, zone)
    where, params = period.calls_where("start_time")
    if project:
        import os

        root = os.path.realpath(project)
        where += " AND (project_root = ? OR scope = ? OR git_root = ?)"
        params += [root, root, root]
    if status:
        where += " AND status = ?"
        params.append(status)
    sql = (
        f"SELECT * FROM sessions WHERE {where} "
        "ORDER BY start_time DESC, id DESC LIMIT ?"
    )
    return sql, [*params, count]


def _print_human(sessions: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table()
    for column in (
        "ID",
        "Name",
        "Status",
        "Started",
        "Duration",
        "Files",
        "Commits",
        "Cost",
    ):
        table.add_column(
            column,
            justify="right" if column in ("ID", "Files", "Commits", "Cost") else "left",
        )
    for s in sessions:
        table.add_row(
            str(s["id"]),
            s["name"],
            s["status"],
            s["startTime"][:16].replace("T", " "),
            s["durationFormatted"] or "-",
            "n/a" if s["filesChanged"] is None else str(s["filesChanged"]),
            "n/a" if s["commits"] is None else str(s["commits"]),
            output.format_usd(s["aiCost"]),
        )
    output.console().print(table)
