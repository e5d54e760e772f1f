"""`cs end`: scan the work done, end the session and report it."""

from typing import Annotated, Any

from cyclopts import Parameter

from .. import output
from ..sessions import end_session, find_session, resolve_scope, session_detail
from . import JsonFlag, SessionOption, emit, open_db


def end(
    *,
    notes: Annotated[
        str | None, Parameter(name=["--notes", "-n"], allow_leading_hyphen=True)
    ] = None,
    session: SessionOption = None,
    json: JsonFlag = False,
) -> None:
    """End the active session: record files and commits, report the cost.

    Args:
        notes: Closing notes for the session.
        session: Session id; default: the active session of this scope.
        json: Print one JSON document on stdout.
    """
    conn = open_db()
    target = find_session(conn, session, resolve_scope())
    ended = end_session(conn, target, notes=notes)
    document = output.session_document(ended, session_detail(conn, ended["id"]))
    emit(document, json, lambda: print_summary(document))


def print_summary(document: dict[str, Any]) -> None:
    """Print a session's summary for people."""
    from rich.table import Table

    table = Table(
        title=f"Session #{document['id']}: {document['name']}", show_header=False
    )
    table.add_row("Status", f"{document['status']} ({document['endReason'] or '-'})")
    table.add_row("Duration", str(document["durationFormatted"] or "-"))
    cost = output.format_usd(document["aiCost"])
    if document["unpricedCalls"]:
        cost += f" (+{document['unpricedCalls']} unpriced call(s))"
    table.add_row("AI cost", cost)
    table.add_row("Tokens", output.format_tokens(document["aiTokens"]))
    files = document["filesChanged"]
    table.add_row("Files changed", "n/a" if files is None else str(files))
    commits = document.get("commits")
    count = len(commits) if isinstance(commits, list) else commits
    table.add_row("Commits", "n/a" if count is None else str(count))
    console = output.console()
    console.print(table)
    for change in document.get("files", []):
        console.print(f"  {change['changeType']:<9} {change['filePath']}", markup=False)
