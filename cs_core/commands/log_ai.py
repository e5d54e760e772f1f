"""`cs log-ai`: record one AI call and its cost."""

import os
import sqlite3
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any

from cyclopts import Parameter

from .. import budgets, output
from ..calls import CallInput, Logged, log_call
from ..pricing import load_price_book
from ..sessions import find_session, require_active, resolve_scope
from . import JsonFlag, SessionOption, emit, open_db

AGENT_ENV = "CODESESSION_AGENT_NAME"
Count = Annotated[str | None, Parameter(allow_leading_hyphen=True)]


def log_ai(
    *,
    provider: Annotated[str, Parameter(name=["--provider", "-p"])],
    model: Annotated[str, Parameter(name=["--model", "-m"])],
    prompt_tokens: Count = None,
    completion_tokens: Count = None,
    tokens: Annotated[
        str | None, Parameter(name=["--tokens", "-t"], allow_leading_hyphen=True)
    ] = None,
    cost: Annotated[
        str | None, Parameter(name=["--cost", "-c"], allow_leading_hyphen=True)
    ] = None,
    cache_read_tokens: Count = None,
    cache_write_tokens: Count = None,
    cache_write_1h_tokens: Annotated[
        str | None,
        Parameter(name="--cache-write-1h-tokens", allow_leading_hyphen=True),
    ] = None,
    reasoning_tokens: Count = None,
    agent: Annotated[str | None, Parameter(allow_leading_hyphen=True)] = None,
    session: SessionOption = None,
    allow_unpriced: bool = False,
    json: JsonFlag = False,
) -> None:
    """Record one AI call in the active session and price it.

    Args:
        provider: anthropic, openai, google, mistral, deepseek, or a plugin's.
        model: The model id; provider prefixes and dated aliases are understood.
        prompt_tokens: Input tokens, as the provider reports them.
        completion_tokens: Output tokens, as the provider reports them.
        tokens: Total tokens; alone, priced as 70% input and 30% output.
        cost: The cost in USD; wins over the price table.
        cache_read_tokens: Prompt tokens read from the provider's cache.
        cache_write_tokens: Prompt tokens written to the cache (5-minute TTL).
        cache_write_1h_tokens: Prompt tokens written to the 1-hour cache.
        reasoning_tokens: Reasoning (thinking) tokens.
        agent: The agent that made the call (default: $CODESESSION_AGENT_NAME).
        session: Session id; default: the active session of this scope.
        allow_unpriced: Store a call of an unknown model with an unknown cost.
        json: Print one JSON document on stdout.
    """
    conn = open_db()
    target = require_active(find_session(conn, session, resolve_scope()))
    call = CallInput(
        provider=provider,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_1h_tokens=cache_write_1h_tokens,
        reasoning_tokens=reasoning_tokens,
        cost=cost,
        agent_name=agent if agent is not None else os.environ.get(AGENT_ENV),
        allow_unpriced=allow_unpriced,
    )
    logged = log_call(conn, load_price_book(), target, call)
    totals = conn.execute(
        "SELECT id, ai_cost, ai_tokens FROM sessions WHERE id = ?", (target["id"],)
    ).fetchone()
    payload = _payload(logged, totals)
    payload["budget"] = budgets.block(
        budgets.statuses(conn, target["scope"] or "", target["id"])
    )
    human = partial(_print_human, payload["logged"], payload["session"])
    emit(payload, json, human, _deliver(conn, logged, json))


def _deliver(
    conn: sqlite3.Connection, logged: Logged, json_mode: bool
) -> list[dict[str, str]]:
    """Send new alerts to their sinks; return the warnings left to print.

    In human mode the terminal sink prints budget alerts itself, so they are
    not printed twice.
    """
    shown = budgets.deliver(conn, logged.alerts, terminal=not json_mode)
    if json_mode or not shown:
        return logged.warnings
    alerted = budgets.alert_warnings(logged.alerts)
    return [warning for warning in logged.warnings if warning not in alerted]


_LOGGED_KEYS = (
    "id", "provider", "model", "modelRequested", "tokens", "promptTokens",
    "completionTokens", "cost", "agentName", "cacheReadTokens", "cacheWriteTokens",
    "cacheWrite1hTokens", "reasoningTokens", "estimated", "timestamp",
)  # fmt: skip


def _payload(logged: Logged, totals: sqlite3.Row) -> dict[str, Any]:
    assert logged.row is not None
    call = output.call_object(logged.row)
    return {
        "logged": {key: call[key] for key in _LOGGED_KEYS},
        "pricing": {
            "source": call["costSource"],
            "modelKnown": logged.resolved is not None,
            **call["rates"],
            "tierAbove": call["tierAbove"],
        },
        "session": {
            "id": totals["id"],
            "aiCost": output.money(totals["ai_cost"]),
            "aiTokens": totals["ai_tokens"],
        },
    }


def _print_human(logged: Mapping[str, Any], session: Mapping[str, Any]) -> None:
    output.write_stdout(
        f"Logged {output.format_tokens(logged['tokens'])} tokens of "
        f"{logged['provider']}/{logged['model']}: {output.format_usd(logged['cost'])}"
        f" (session total {output.format_usd(session['aiCost'])})\n"
    )
