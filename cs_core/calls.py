"""Recording AI calls: validate the counts, price them, store them exactly.

Token counts arrive as text from the command line (or numbers from integrations)
and are checked here, so every way in gets the same rules: integers from 0 to
2^63 - 1, costs finite and not negative.
"""

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from . import budgets, clock, events
from .db import transaction
from .errors import InvalidInputError, MissingTokensError, UnknownModelError
from .models import Cost, Usage
from .output import round_usd
from .pricing import PriceBook, Resolved
from .sessions import touch
from .text import clean

MAX_TOKENS = 2**63 - 1
MAX_PROVIDER_CHARS = 100
MAX_MODEL_CHARS = 200
# A -t alone is split this way to estimate a price (the original priced it at $0).
ESTIMATE_INPUT_SHARE = Decimal("0.7")


class CallInput(NamedTuple):
    """One AI call as the user described it, before validation."""

    provider: str
    model: str
    prompt_tokens: Any = None
    completion_tokens: Any = None
    total_tokens: Any = None
    cache_read_tokens: Any = None
    cache_write_tokens: Any = None
    cache_write_1h_tokens: Any = None
    reasoning_tokens: Any = None
    cost: Any = None
    agent_name: str | None = None
    allow_unpriced: bool = False
    source: str = "cli"
    external_id: str | None = None
    timestamp: str | None = None
    # False when the provider's usage could not be read in full (a proxy saw a
    # cut-off stream): the known counts are kept and the cost is unknown.
    metered: bool = True


@dataclass
class Logged:
    """The stored call, how it was priced, and the warnings for the user."""

    row: sqlite3.Row | None
    resolved: Resolved | None
    priced: Cost | None
    warnings: list[dict[str, str]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)


def parse_tokens(value: Any, flag: str) -> int | None:
    """Parse a token count: a whole number from 0 to 2^63 - 1.

    Raises:
        InvalidInputError: Negative, fractional, non-numeric or too large.
    """
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit():
        raise InvalidInputError(
            f"{flag} must be a whole number of 0 or more, not '{clean(text)}'"
        )
    count = int(text)
    if count > MAX_TOKENS:
        raise InvalidInputError(f"{flag} {text} is larger than 2^63 - 1")
    return count


def parse_cost(value: Any) -> Decimal | None:
    """Parse a cost in USD: finite and not negative.

    Raises:
        InvalidInputError: Negative, NaN, infinite or not a number.
    """
    if value is None:
        return None
    text = str(value).strip()
    try:
        if "_" in text:  # Decimal takes "1_0" as 10; nobody types a cost so
            raise ValueError(text)
        cost = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidInputError(f"cost must be a number, not '{clean(text)}'") from None
    if not cost.is_finite() or cost < 0:
        raise InvalidInputError(
            f"cost must be a finite amount of 0 or more, not '{text}'"
        )
    if cost > Decimal(10) ** 12:
        raise InvalidInputError(f"cost {text} is not a plausible amount in USD")
    return cost


def _parse_agent(value: str | None) -> str | None:
    """An agent name without surrounding space; none when empty.

    Raises:
        InvalidInputError: Longer than a model name may be.
    """
    text = clean(value or "").strip()
    if len(text) > MAX_MODEL_CHARS:
        raise InvalidInputError(
            f"agent name is longer than {MAX_MODEL_CHARS} characters"
        )
    return text or None


def _parse_name(value: str, what: str, limit: int) -> str:
    text = clean(value or "").strip()
    if not text:
        raise InvalidInputError(f"{what} must not be empty")
    if len(text) > limit:
        raise InvalidInputError(f"{what} is longer than {limit} characters")
    return text


def build_usage(call: CallInput) -> Usage:
    """Validate a call's names and counts into a `Usage`.

    Raises:
        InvalidInputError: A name or count is out of range.
        MissingTokensError: No token count was given at all.
    """
    provider = _parse_name(call.provider, "provider", MAX_PROVIDER_CHARS).lower()
    model = _parse_name(call.model, "model", MAX_MODEL_CHARS)
    counts = {
        "prompt_tokens": parse_tokens(call.prompt_tokens, "--prompt-tokens"),
        "completion_tokens": parse_tokens(
            call.completion_tokens, "--completion-tokens"
        ),
        "total_tokens": parse_tokens(call.total_tokens, "--tokens"),
        "cache_read_tokens": parse_tokens(
            call.cache_read_tokens, "--cache-read-tokens"
        ),
        "cache_write_tokens": parse_tokens(
            call.cache_write_tokens, "--cache-write-tokens"
        ),
        "cache_write_1h_tokens": parse_tokens(
            call.cache_write_1h_tokens, "--cache-write-1h-tokens"
        ),
        "reasoning_tokens": parse_tokens(call.reasoning_tokens, "--reasoning-tokens"),
    }
    if all(value is None for value in counts.values()):
        raise MissingTokensError(
            "no token count given",
            hint="Pass --prompt-tokens and --completion-tokens, or -t TOTAL.",
        )
    extras = ("cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")
    return Usage(
        provider=provider,
        model=model,
        prompt_tokens=counts["prompt_tokens"],
        completion_tokens=counts["completion_tokens"],
        total_tokens=counts["total_tokens"],
        reasoning_tokens=counts["reasoning_tokens"] or 0,
        **{name: counts[name] or 0 for name in extras},
    )


def _only_total(usage: Usage) -> bool:
    return (
        usage.total_tokens is not None
        and usage.prompt_tokens is None
        and usage.completion_tokens is None
        and not (usage.cache_read_tokens or usage.cache_write_tokens)
        and not (usage.cache_write_1h_tokens or usage.reasoning_tokens)
    )


def _estimated_usage(usage: Usage) -> Usage:
    """Split a bare total 70/30 into input and output, rounding input down."""
    total = usage.total_tokens or 0
    prompt = int(total * ESTIMATE_INPUT_SHARE)
    return Usage(
        provider=usage.provider,
        model=usage.model,
        prompt_tokens=prompt,
        completion_tokens=total - prompt,
        total_tokens=total,
    )


_UNMETERED = {
    "code": "unpriced_model",
    "message": "the provider's usage report could not be read in full: "
    "stored with an unknown cost",
}


def price_call(book: PriceBook, usage: Usage, call: CallInput) -> Logged:
    """Price a validated call without storing it.

    Returns:
        A `Logged` whose `row` is unset, carrying the resolution, the computed
        cost and the warnings.

    Raises:
        InvalidInputError: The counts contradict the provider's semantics.
        UnknownModelError: No price, no `-c`, and unpriced calls not allowed.
    """
    source = book.source_for(usage.provider)
    priced_usage = _estimated_usage(usage) if _only_total(usage) else usage
    source.validate(priced_usage)
    resolved = book.resolve(usage.provider, usage.model)
    if not call.metered:
        return Logged(row=None, resolved=resolved, priced=None, warnings=[_UNMETERED])
    warnings: list[dict[str, str]] = []
    computed = source.cost(priced_usage, resolved.price) if resolved else None
    refused = book.refusal(usage.provider, usage.model)
    if resolved is None and call.cost is None:
        if not call.allow_unpriced:
            hint = "Pass -c COST, add a price with cs pricing set, "
            if refused:
                hint = f"The user price '{refused}' is invalid: fix it with "
                hint += "cs pricing set, "
            raise UnknownModelError(
                f"unknown model '{usage.model}' for provider '{usage.provider}'",
                hint=hint + "or log it unpriced with --allow-unpriced.",
                model=usage.model,
                provider=usage.provider,
            )
        warnings.append(
            {
                "code": "unpriced_model",
                "message": f"no price for model '{usage.model}' of provider "
                f"'{usage.provider}': stored with an unknown cost",
            }
        )
    if refused:
        warnings.append(
            {
                "code": "invalid_price",
                "message": f"the user price '{refused}' was refused "
                f"({book.refused[refused]}): the model is unpriced",
            }
        )
    warnings.extend(_consistency_warnings(source, usage, resolved))
    return Logged(row=None, resolved=resolved, priced=computed, warnings=warnings)


def _consistency_warnings(
    source: Any, usage: Usage, resolved: Resolved | None
) -> list[dict[str, str]]:
    warnings = []
    if usage.total_tokens is not None and not _only_total(usage):
        parts = source.total_tokens(usage)
        if parts != usage.total_tokens:
            warnings.append(
                {
                    "code": "total_mismatch",
                    "message": f"total {usage.total_tokens} differs from the sum of "
                    f"its parts, {parts}: stored as given, priced from the parts",
                }
            )
    limit = resolved.price.max_input_tokens if resolved else None
    if limit and source.prompt_size(usage) > limit:
        warnings.append(
            {
                "code": "context_window_exceeded",
                "message": f"{source.prompt_size(usage)} prompt tokens exceed the "
                f"{limit}-token context window of '{resolved.model}'",  # type: ignore[union-attr]
            }
        )
    return warnings


def log_call(
    conn: sqlite3.Connection, book: PriceBook, session: sqlite3.Row, call: CallInput
) -> Logged:
    """Validate, price and store one AI call in a session.

    Everything is checked before anything is written; the call and the session's
    totals change in one transaction.
    """
    usage = build_usage(call)
    manual = parse_cost(call.cost)
    logged = price_call(book, usage, call)
    # A total given is stored as given (B04); otherwise the parts add up to it.
    tokens = usage.total_tokens
    if tokens is None:
        tokens = book.source_for(usage.provider).total_tokens(usage)
    if tokens > MAX_TOKENS:
        raise InvalidInputError(f"the call's {tokens} tokens are more than 2^63 - 1")
    cost = _stored_cost(manual if manual is not None else logged.priced)
    stamp = call.timestamp or clock.now_iso()
    values = _row_values(session["id"], call, usage, logged, tokens, cost, stamp)
    with transaction(conn):
        _check_session_room(conn, session["id"], tokens)
        cursor = conn.execute(_INSERT, values)
        conn.execute(
            "UPDATE sessions SET ai_cost = COALESCE(ai_cost, 0) + ?,"
            " ai_tokens = COALESCE(ai_tokens, 0) + ? WHERE id = ?",
            (float(cost or 0), tokens, session["id"]),
        )
        touch(conn, session["id"], stamp)
        events.record_call(conn, cursor.lastrowid or 0)
        # Same transaction as the insert: each threshold crossing fires once.
        logged.alerts = budgets.evaluate(conn, session, cursor.lastrowid or 0, stamp)
    events.deliver_later(conn)
    logged.warnings.extend(budgets.alert_warnings(logged.alerts))
    logged.row = conn.execute(
        "SELECT * FROM ai_usage WHERE id = ?", (cursor.lastrowid,)
    ).fetchone()
    return logged


def _stored_cost(cost: Decimal | Cost | None) -> Decimal | None:
    """The cost as stored: exact to 1e-10 USD, so a session's rows add up to
    exactly the total shown."""
    if cost is None:
        return None
    return round_usd(cost.cost_usd if isinstance(cost, Cost) else cost)


def _check_session_room(conn: sqlite3.Connection, session_id: int, tokens: int) -> None:
    """Refuse a call that would take the session's token sum past 2^63 - 1."""
    total = conn.execute(
        "SELECT COALESCE(ai_tokens, 0) FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()[0]
    if total + tokens > MAX_TOKENS:
        raise InvalidInputError(
            f"session #{session_id} would hold more than 2^63 - 1 tokens"
        )


_INSERT = """INSERT INTO ai_usage (
    session_id, provider, model, model_requested, tokens, prompt_tokens,
    completion_tokens, cost, timestamp, agent_name, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, cost_source,
    estimated, input_rate, output_rate, cache_read_rate, cache_write_rate,
    cache_write_1h_rate, reasoning_rate, tier_above, source, external_id
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def _row_values(
    session_id: int,
    call: CallInput,
    usage: Usage,
    logged: Logged,
    tokens: int,
    cost: Decimal | None,
    stamp: str,
) -> tuple[Any, ...]:
    resolved, priced = logged.resolved, logged.priced
    # Known models are stored under their canonical id; unknown ones as given.
    model = resolved.model if resolved else usage.model
    cost_source: str | None = None
    if call.cost is not None:
        cost_source = "manual"
    elif resolved and priced:
        cost_source = resolved.source
    rates = priced.rates if priced else None
    estimated = _only_total(usage)
    return (
        session_id,
        usage.provider,
        model,
        usage.model,
        tokens,
        None if estimated else usage.prompt_tokens,
        None if estimated else usage.completion_tokens,
        None if cost is None else float(cost),
        stamp,
        _parse_agent(call.agent_name),
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.cache_write_1h_tokens,
        usage.reasoning_tokens,
        cost_source,
        int(estimated),
        *(
            (None,) * 6
            if rates is None
            else (
                float(rates.input),
                float(rates.output),
                float(rates.cache_read),
                float(rates.cache_write),
                float(rates.cache_write_1h),
                float(rates.reasoning),
            )
        ),
        priced.tier_above if priced else None,
        call.source,
        call.external_id,
    )


def _stored_usage(row: sqlite3.Row) -> Usage:
    """Rebuild the `Usage` a stored call was priced from."""
    estimated = bool(row["estimated"])
    return Usage(
        provider=row["provider"],
        model=row["model_requested"] or row["model"],
        prompt_tokens=None if estimated else row["prompt_tokens"],
        completion_tokens=None if estimated else row["completion_tokens"],
        total_tokens=row["tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        cache_write_1h_tokens=row["cache_write_1h_tokens"],
        reasoning_tokens=row["reasoning_tokens"],
    )


def reprice(
    conn: sqlite3.Connection, book: PriceBook, session_id: int | None, *, dry_run: bool
) -> dict[str, Any]:
    """Recompute stored calls from the current prices; manual costs stay.

    Returns:
        Counts, and per session the old and new totals.
    """
    where, params = ("session_id = ?", [session_id]) if session_id else ("1", [])
    rows = conn.execute(
        f"SELECT * FROM ai_usage WHERE {where} "
        "AND COALESCE(cost_source, '') != 'manual'",
        params,
    ).fetchall()
    changes = [change for row in rows if (change := _reprice_row(book, row))]
    sessions = sorted({change[0]["session_id"] for change in changes})
    before = _session_costs(conn, sessions)
    if not dry_run and changes:
        with transaction(conn):
            for row, resolved, cost in changes:
                _store_reprice(conn, row, resolved, cost)
            for sid in sessions:
                conn.execute(
                    "UPDATE sessions SET ai_cost = (SELECT COALESCE(SUM(cost), 0)"
                    " FROM ai_usage WHERE session_id = ?) WHERE id = ?",
                    (sid, sid),
                )
    after = (
        _session_costs(conn, sessions) if not dry_run else _projected(before, changes)
    )
    return {
        "checked": len(rows),
        "changed": len(changes),
        "before": before,
        "after": after,
    }


def _reprice_row(
    book: PriceBook, row: sqlite3.Row
) -> tuple[sqlite3.Row, Resolved, Cost] | None:
    usage = _stored_usage(row)
    resolved = book.resolve(usage.provider, usage.model)
    if resolved is None:
        return None
    source = book.source_for(usage.provider)
    priced = _estimated_usage(usage) if row["estimated"] else usage
    cost = source.cost(priced, resolved.price)
    old = None if row["cost"] is None else Decimal(repr(row["cost"]))
    if old is not None and abs(old - cost.cost_usd) < Decimal("1e-12"):
        return None
    return row, resolved, cost


def _store_reprice(
    conn: sqlite3.Connection, row: sqlite3.Row, resolved: Resolved, cost: Cost
) -> None:
    rates = cost.rates
    conn.execute(
        """UPDATE ai_usage SET cost = ?, model = ?, cost_source = ?, input_rate = ?,
            output_rate = ?, cache_read_rate = ?, cache_write_rate = ?,
            cache_write_1h_rate = ?, reasoning_rate = ?, tier_above = ?
        WHERE id = ?""",
        (
            float(cost.cost_usd), resolved.model, resolved.source, float(rates.input),
            float(rates.output), float(rates.cache_read), float(rates.cache_write),
            float(rates.cache_write_1h), float(rates.reasoning), cost.tier_above,
            row["id"],
        ),
    )  # fmt: skip


def _session_costs(conn: sqlite3.Connection, sessions: list[int]) -> dict[int, Decimal]:
    return {
        sid: Decimal(
            repr(
                conn.execute(
                    "SELECT COALESCE(SUM(cost), 0) FROM ai_usage WHERE session_id = ?",
                    (sid,),
                ).fetchone()[0]
            )
        )
        for sid in sessions
    }


def _projected(
    before: dict[int, Decimal], changes: list[tuple[sqlite3.Row, Resolved, Cost]]
) -> dict[int, Decimal]:
    after = dict(before)
    for row, _, cost in changes:
        old = Decimal(repr(row["cost"])) if row["cost"] is not None else Decimal(0)
        after[row["session_id"]] += cost.cost_usd - old
    return after
