"""An example cs plugin: prices for a made-up provider, and a Markdown export.

Install it next to cs (`pip install ./examples/cs-example-plugin`) and then:

    cs log-ai -p acme -m acme-large --prompt-tokens 1000 --completion-tokens 500
    cs export --format markdown
    cs hello
"""

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any

from cs_core import (
    ExportOptions,
    ModelPrice,
    PriceSource,
    emit_json,
    envelope,
    hookimpl,
    write_stdout,
)

ACME_PRICES = {
    "acme-large": ModelPrice(
        input=Decimal("1.5"), output=Decimal("6"), aliases=("acme-l",)
    ),
    "acme-small": ModelPrice(input=Decimal("0.1"), output=Decimal("0.4")),
}


@hookimpl
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Register ACME's models; ACME counts cached tokens inside prompt tokens."""
    register(PriceSource(provider="acme", load_prices=lambda: ACME_PRICES))


class MarkdownFormat:
    """Writes sessions as a Markdown table, one row at a time."""

    name = "markdown"
    description = "A Markdown table of sessions."

    def write(
        self,
        rows: Iterable[Mapping[str, Any]],
        stream: IO[str],
        *,
        options: ExportOptions,
    ) -> int:
        """Write the table header, then one line per session."""
        stream.write("| id | name | status | cost (USD) |\n|---|---|---|---|\n")
        count = 0
        for row in rows:
            name = str(row.get("name", "")).replace("|", "\\|")
            cost = "" if row.get("aiCost") is None else f"{row['aiCost']}"
            stream.write(f"| {row['id']} | {name} | {row['status']} | {cost} |\n")
            count += 1
        return count


@hookimpl
def register_output_formats(register: Callable[[Any], None]) -> None:
    """Register the Markdown export format."""
    register(MarkdownFormat())


def hello(*, json: bool = False) -> None:
    """Say hello from a plugin command.

    Args:
        json: Print one JSON document on stdout.
    """
    if json:
        emit_json(envelope({"hello": "from cs-example-plugin"}))
    else:
        write_stdout("Hello from cs-example-plugin!\n")


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    """Add `cs hello`."""
    register("hello", hello, help="Say hello from the example plugin.")
