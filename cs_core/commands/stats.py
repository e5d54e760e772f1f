"""`cs stats`: totals over all sessions, or a period, with breakdowns."""

from typing import Annotated, Any

from cyclopts import Parameter

from .. import clock, output
from ..stats import breakdown, make_period, summary
from . import JsonFlag, emit, open_db


def stats(
    *,
    since: str | None = None,
    until: str | None = None,
    today: bool = False,
    by: Annotated[str | None, Parameter(name="--by")] = None,
    daily: bool = False,
    timezone: str | None = None,
    json: JsonFlag = False,
) -> None:
    """Show totals: sessions, time, files, commits, spend and tokens.

    Args:
        since: From this date (YYYY-MM-DD, local) or ISO instant.
        until: Up to this date (inclusive) or instant (exclusive).
        today: Only today, in the display time zone.
        by: Break down by day, model, provider, agent or project.
        daily: Same as --by day.
        timezone: Time zone for days (default: $CODESESSION_TZ, $TZ, the system's).
        json: Print one JSON document on stdout.
    """
    clock.set_zone(timezone)
    zone, zone_name = clock.display_zone()
    period = make_period(since, until, today, zone)
    conn = open_db()
    document: dict[str, Any] = summary(conn, period)
    document["timezone"] = zone_name
    document["since"], document["until"] = period.start, period.end
    by = "day" if daily and by is None else by
    if by:
        document["by"] = by
        document["breakdown"] = breakdown(conn, by, period, zone)
    emit(document, json, lambda: _print_human(document))


def _print_human(document: dict[str, Any]) -> None:
    from rich.table import Table

    console = output.console()
    table = Table.grid(padding=(0, 2))
    table.add_row(
        "Sessions", f"{document['totalSessions']} ({document['activeSessions']} active)"
    )
    table.add_row("Time", str(document["totalTimeFormatted"]))
    table.add_row("Average session", str(document["avgSessionFormatted"]))
    table.add_row("Files changed", f"{document['totalFiles']:,}")
    table.add_row("Commits", f"{document['totalCommits']:,}")
    cost = output.format_usd(document["totalAICost"])
    if document["unpricedCalls"]:
        cost += (
            f" (incomplete: {document['unpricedCalls']} unpriced call(s), "
            f"{document['unpricedTokens']:,} tokens)"
        )
    table.add_row("AI cost", cost)
    table.add_row(
        "Tokens", f"{document['totalTokens']:,} in {document['totalCalls']:,} calls"
    )
    console.print(table)
    if "breakdown" in document:
        _print_breakdown(console, document)


def _print_breakdown(console: Any, document: dict[str, Any]) -> None:
    from rich.table import Table

    title = f"By {document['by']}"
    if document["by"] == "day":
        title += f" ({document['timezone']})"
    table = Table(title=title)
    for column in (document["by"], "Cost", "Tokens", "Calls", "Sessions"):
        table.add_column(
            column, justify="left" if column == document["by"] else "right"
        )
    for row in document["breakdown"]:
        cost = output.format_usd(row["cost"])
        if row["unpricedCalls"]:
            cost += f" +{row['unpricedCalls']} unpriced"
        table.add_row(
            str(row["key"]),
            cost,
            f"{row['tokens']:,}",
            f"{row['calls']:,}",
            str(row["sessions"]),
        )
    console.print(table)
