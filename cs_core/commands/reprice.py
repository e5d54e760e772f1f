"""`cs reprice`: recompute stored calls from the current price table."""

from typing import Any

from .. import output
from ..calls import reprice as reprice_calls
from ..errors import InvalidInputError
from ..pricing import load_price_book
from ..sessions import get_session, parse_session_id
from . import JsonFlag, SessionOption, emit, open_db


def reprice(
    *,
    session: SessionOption = None,
    all: bool = False,
    dry_run: bool = False,
    json: JsonFlag = False,
) -> None:
    """Recompute the cost of stored calls from today's prices (manual costs stay).

    Args:
        session: Only this session.
        all: Every session.
        dry_run: Report the difference without changing anything.
        json: Print one JSON document on stdout.
    """
    if (session is None) == (not all):
        raise InvalidInputError("pass either --session ID or --all")
    conn = open_db()
    session_id = None
    if session is not None:
        session_id = parse_session_id(session)
        get_session(conn, session_id)
    result = reprice_calls(conn, load_price_book(), session_id, dry_run=dry_run)
    payload = _payload(result, dry_run)
    emit(payload, json, lambda: _print_human(payload))


def _payload(result: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    sessions = [
        {
            "id": sid,
            "before": output.money(result["before"][sid]),
            "after": output.money(result["after"][sid]),
            "difference": output.money(result["after"][sid] - result["before"][sid]),
        }
        for sid in sorted(result["before"])
    ]
    return {
        "dryRun": dry_run,
        "checked": result["checked"],
        "changed": result["changed"],
        "sessions": sessions,
        "difference": output.money(
            sum(result["after"].values()) - sum(result["before"].values())
        ),
    }


def _print_human(payload: dict[str, Any]) -> None:
    verb = "Would change" if payload["dryRun"] else "Changed"
    output.write_stdout(
        f"{verb} {payload['changed']} of {payload['checked']} call(s); "
        f"difference {output.format_usd(payload['difference'])}.\n"
    )
