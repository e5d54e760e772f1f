"""Everything `cs` writes: JSON documents, the error envelope, and human output.

stdout carries results only; warnings, progress and human-mode errors go to stderr.
JSON keys follow the contract and are mapped from database rows here and nowhere
else. rich is imported only for human output (about 40 ms), never for `--json`.
"""

import json
import re
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import cache
from typing import Any

from ._version import __version__
from .clock import format_duration

SCHEMA_VERSION = 1
# A database row, as sqlite3 returns it, or any mapping with the same keys.
Row = Mapping[str, Any] | sqlite3.Row
_TEN_DIGITS = Decimal("1e-10")


def money(value: Any) -> float | None:
    """Return a USD amount for JSON: rounded to 1e-10, None when unknown."""
    if value is None:
        return None
    amount = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return float(round_usd(amount)) + 0.0  # + 0.0 turns -0.0 into 0.0


def round_usd(amount: Decimal) -> Decimal:
    """Round USD to 1e-10, half to even: how costs are stored and shown."""
    # Enough digits for the largest cost a valid call can reach (2^63 tokens at
    # the highest rate) to keep ten decimals.
    with localcontext(prec=60):
        return amount.quantize(_TEN_DIGITS, rounding=ROUND_HALF_EVEN)


def rate(value: Any) -> float | None:
    """Return a price per million tokens for JSON."""
    return None if value is None else float(Decimal(str(value)))


def format_usd(value: Any) -> str:
    """Format USD for people: `$1,234.50`, `$0.0395`, `$0.0000175`, `n/a`.

    A non-zero amount never shows as `$0.00`: small amounts keep three
    significant digits.
    """
    if value is None:
        return "n/a"
    amount = Decimal(str(money(value)))
    if amount == 0:
        return "$0.00"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    if abs(amount) >= Decimal("0.01"):
        text = f"{amount:.4f}".rstrip("0")
    else:
        exponent = amount.adjusted()  # e.g. -5 for 0.0000175
        text = f"{amount:.{-exponent + 2}f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def format_tokens(value: int | None) -> str:
    """Format a token count with thousands separators, `n/a` when unknown."""
    return "n/a" if value is None else f"{value:,}"


def envelope(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Prefix a result with the schema and program versions."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "codesessionVersion": __version__,
        **payload,
    }


def error_document(code: str, message: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    """Build the contract's error envelope."""
    return envelope({"error": {"code": code, "message": message, **extra}})


def dumps(document: Any, *, indent: int | None = None) -> str:
    """Serialise to JSON, Decimals as numbers, always valid UTF-8."""
    return json.dumps(document, indent=indent, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(document: Any, *, indent: int | None = None) -> None:
    """Write one JSON document to stdout."""
    # Raw: JSON escapes C0 controls itself, and C1 ones are valid JSON text.
    text = dumps(document, indent=indent) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8", "replace"))
    sys.stdout.flush()


# C0 and C1 control characters but newline and tab: in a session name, an agent
# name or a file path they could clear the screen or retitle the terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Return text safe for a terminal: control characters as visible escapes."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def write_stdout(text: str) -> None:
    """Write human text to stdout as UTF-8, whatever the locale."""
    sys.stdout.buffer.write(printable(text).encode("utf-8", "replace"))
    sys.stdout.flush()


def write_stderr(text: str) -> None:
    """Write a line to stderr as UTF-8, whatever the locale."""
    line = printable(text.rstrip("\n")) + "\n"
    sys.stderr.buffer.write(line.encode("utf-8", "replace"))
    sys.stderr.flush()


def warn(warnings: Iterable[Mapping[str, str]]) -> None:
    """Print each warning on stderr (human mode)."""
    for warning in warnings:
        write_stderr(f"Warning: {warning['message']}")


def console(*, stderr: bool = False) -> Any:
    """Return a rich console for human output; honours NO_COLOR.

    It writes UTF-8 whatever the locale, reads no markup in the strings it
    shows (a session named `[red]x` stays that), and shows control characters
    in them as escapes.
    """
    stream = sys.stderr if stderr else sys.stdout
    return _console_class()(
        file=_Utf8(stream), highlight=False, soft_wrap=False, markup=False
    )


@cache
def _console_class() -> Any:
    from rich.console import Console  # ~40 ms: human output only

    class SafeConsole(Console):
        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(printable(text), **kwargs)

    return SafeConsole


class _Utf8:
    """A text stream over another one's bytes, always UTF-8."""

    encoding = "utf-8"

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.buffer.write(text.encode("utf-8", "replace"))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


def session_object(row: Row) -> dict[str, Any]:
    """Map a `sessions` row to the contract's session object, keys in order."""
    duration = row["duration"]
    return {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "startTime": row["start_time"],
        "endTime": row["end_time"],
        "duration": duration,
        "durationFormatted": format_duration(duration),
        "workingDirectory": row["working_directory"],
        "gitRoot": row["git_root"],
        "filesChanged": row["files_changed"],
        "commits": row["commits"],
        "aiTokens": row["ai_tokens"] or 0,
        "aiCost": money(row["ai_cost"] or 0),
        "notes": row["notes"],
        "endReason": row["end_reason"],
        "branch": row["branch"],
        "projectRoot": row["project_root"],
        "lastActivityAt": row["last_activity_at"],
    }


def call_object(row: Row) -> dict[str, Any]:
    """Map an `ai_usage` row to the contract's aiUsage object."""
    return {
        "id": row["id"],
        "sessionId": row["session_id"],
        "provider": row["provider"],
        "model": row["model"],
        "tokens": row["tokens"],
        "promptTokens": row["prompt_tokens"],
        "completionTokens": row["completion_tokens"],
        "cost": money(row["cost"]),
        "agentName": row["agent_name"],
        "timestamp": row["timestamp"],
        "modelRequested": row["model_requested"],
        "cacheReadTokens": row["cache_read_tokens"],
        "cacheWriteTokens": row["cache_write_tokens"],
        "cacheWrite1hTokens": row["cache_write_1h_tokens"],
        "reasoningTokens": row["reasoning_tokens"],
        "costSource": row["cost_source"],
        "priced": row["cost"] is not None,
        "estimated": bool(row["estimated"]),
        "rates": {
            "inputPer1M": rate(row["input_rate"]),
            "outputPer1M": rate(row["output_rate"]),
            "cacheReadPer1M": rate(row["cache_read_rate"]),
            "cacheWritePer1M": rate(row["cache_write_rate"]),
            "cacheWrite1hPer1M": rate(row["cache_write_1h_rate"]),
            "reasoningPer1M": rate(row["reasoning_rate"]),
        },
        "tierAbove": row["tier_above"],
    }


def file_object(row: Row) -> dict[str, Any]:
    """Map a `file_changes` row to the contract's file object."""
    document = {
        "id": row["id"],
        "sessionId": row["session_id"],
        "filePath": row["file_path"],
        "changeType": row["change_type"],
        "timestamp": row["timestamp"],
    }
    if row["change_type"] == "renamed":
        document["oldPath"] = row["old_path"]
    return document


def commit_object(row: Row) -> dict[str, Any]:
    """Map a `commits` row to the contract's commit object (7-character hash)."""
    return {
        "id": row["id"],
        "sessionId": row["session_id"],
        "hash": row["hash"][:7],
        "message": row["message"],
        "timestamp": row["timestamp"],
    }


def note_object(row: Row) -> dict[str, Any]:
    """Map a `session_notes` row to the contract's annotation object."""
    return {
        "id": row["id"],
        "sessionId": row["session_id"],
        "message": row["message"],
        "timestamp": row["timestamp"],
    }


def session_document(
    session: Row,
    detail: Mapping[str, list[Any]],
    *,
    files: bool = True,
    commits: bool = True,
) -> dict[str, Any]:
    """Return a session object with its arrays, as `show`, `end` and `export` give.

    Args:
        session: The `sessions` row.
        detail: Its rows by kind: "calls", "notes", "files", "commits".
        files: Include the `files` array.
        commits: Replace the `commits` count with the array.
    """
    document = session_object(session)
    calls = detail["calls"]
    unpriced = [call for call in calls if call["cost"] is None]
    document["unpricedCalls"] = len(unpriced)
    document["unpricedTokens"] = sum(call["tokens"] for call in unpriced)
    document["agents"] = sorted({c["agent_name"] for c in calls if c["agent_name"]})
    document["aiUsage"] = [call_object(call) for call in calls]
    document["annotations"] = [note_object(note) for note in detail["notes"]]
    # Nothing could observe them (no repository, git unavailable): unknown, not [].
    if files:
        observed = session["files_changed"] is not None or detail["files"]
        files_found = [file_object(row) for row in detail["files"]]
        document["files"] = files_found if observed else None
    if commits:
        observed = session["commits"] is not None or detail["commits"]
        commits_found = [commit_object(row) for row in detail["commits"]]
        document["commits"] = commits_found if observed else None
    return document
