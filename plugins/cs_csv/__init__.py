"""CSV export: RFC 4180, UTF-8, safe to open in a spreadsheet.

Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
tab or a carriage return) get a leading apostrophe. An unknown cost is an empty
cell, never 0, and amounts are written in plain decimal notation.
"""

import csv
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any

from cs_core import ExportOptions, hookimpl

SESSION_COLUMNS = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("startTime", "startTime"),
    ("endTime", "endTime"),
    ("duration", "duration"),
    ("filesChanged", "filesChanged"),
    ("commits", "commits"),
    ("aiTokens", "aiTokens"),
    ("aiCost", "aiCost"),
    ("agents", "agents"),
    ("notes", "notes"),
    ("endReason", "endReason"),
    ("gitRoot", "gitRoot"),
    ("projectRoot", "projectRoot"),
    ("branch", "branch"),
    ("aiCalls", "aiUsage"),
    ("unpricedCalls", "unpricedCalls"),
    ("unpricedTokens", "unpricedTokens"),
)
CALL_COLUMNS = (
    "id", "sessionId", "sessionName", "project", "timestamp", "provider", "model",
    "modelRequested", "agentName", "promptTokens", "completionTokens",
    "cacheReadTokens", "cacheWriteTokens", "cacheWrite1hTokens", "reasoningTokens",
    "tokens", "cost", "costSource", "estimated",
)  # fmt: skip
_MONEY = {"aiCost", "cost"}
_NAME_LISTS = {"agents"}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(key: str, value: Any) -> str:
    """Render one value as CSV cell text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if key in _MONEY:
        return format(Decimal(repr(value)), "f")
    if isinstance(value, list):
        # Names are joined; arrays of objects (calls, commits) become their count.
        value = "; ".join(value) if key in _NAME_LISTS else len(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class CsvFormat:
    """Writes sessions or calls as CSV with a fixed, documented header."""

    name = "csv"
    description = "CSV (RFC 4180, UTF-8); --excel adds a BOM and CRLF line ends."

    def write(
        self,
        rows: Iterable[Mapping[str, Any]],
        stream: IO[str],
        *,
        options: ExportOptions,
    ) -> int:
        """Stream `rows` into `stream` as CSV.

        Args:
            rows: Session or call documents.
            stream: A text stream opened with `newline=""`.
            options: `kind` picks the columns; `excel` the BOM and line ends.

        Returns:
            The number of data rows written.
        """
        if options.kind == "calls":
            columns = [(name, name) for name in CALL_COLUMNS]
        else:
            columns = list(SESSION_COLUMNS)
        if options.excel:
            stream.write("\ufeff")
        writer = csv.writer(stream, lineterminator="\r\n" if options.excel else "\n")
        writer.writerow([header for header, _ in columns])
        count = 0
        for row in rows:
            writer.writerow([cell(key, row.get(key)) for _, key in columns])
            count += 1
        return count


@hookimpl
def register_output_formats(register: Callable[[Any], None]) -> None:
    """Register the CSV export format."""
    register(CsvFormat())
