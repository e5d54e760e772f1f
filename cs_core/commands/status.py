"""`cs status`: what the active session has spent so far."""

from typing import Any

from .. import budgets, clock, output
from ..sessions import find_session, is_stale, resolve_scope, session_detail
from . import JsonFlag, SessionOption, emit, open_db


def status(*, session: SessionOption = None, json: JsonFlag = False) -> None:
    """Show the active session: cost so far, tokens, calls and duration.

    Args:
        session: Session id; default: the active session of this scope.
        json: Print one JSON document on stdout.
    """
    conn = open_db()
    target = find_session(conn, session, resolve_scope())
    document = output.session_document(
        target, session_detail(conn, target["id"]), files=False, commits=False
    )
    live = _live_seconds(target)
    document["liveDuration"] = live
    document["liveDurationFormatted"] = clock.format_duration(live)
    document["stale"] = is_stale(target)
    limits = budgets.statuses(conn, target["scope"] or "", target["id"])
    document["budget"] = budgets.block(limits)
    lines = [budgets.describe(status) for status in limits]
    emit(document, json, lambda: _print_human(document, lines))


def _live_seconds(session: Any) -> int:
    if session["status"] != "active":
        return int(session["duration"] or 0)
    started = clock.parse_instant(session["start_time"])
    return max(int((clock.now() - started).total_seconds()), 0)


def _print_human(document: dict[str, Any], budget_lines: list[str]) -> None:
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_row(
        "Session", f"#{document['id']} {document['name']} ({document['status']})"
    )
    table.add_row("Scope", str(document["gitRoot"] or document["workingDirectory"]))
    table.add_row("Running", str(document["liveDurationFormatted"]))
    cost = output.format_usd(document["aiCost"])
    if document["unpricedCalls"]:
        cost += f" + {document['unpricedCalls']} unpriced call(s)"
    table.add_row("AI cost", cost)
    table.add_row("Tokens", output.format_tokens(document["aiTokens"]))
    table.add_row("Calls", str(len(document["aiUsage"])))
    if document["stale"]:
        table.add_row("Stale", "no activity for over 24 hours; see cs recover")
    for index, line in enumerate(budget_lines):
        table.add_row("Budget" if index == 0 else "", line)
    output.console().print(table)
