"""Google Gemini prices and token semantics.

Gemini's `promptTokenCount` includes `cachedContentTokenCount`, but its thinking
tokens (`thoughtsTokenCount`) come beside `candidatesTokenCount` and are billed as
output on top of it.
"""

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from cs_core import ModelPrice, PriceSource, hookimpl, load_table


@cache
def prices() -> dict[str, ModelPrice]:
    """Return the bundled price table, read once on first use."""
    return load_table(Path(__file__).with_name("prices.json"))


@hookimpl
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Register Google's price table."""
    register(
        PriceSource(
            provider="google",
            load_prices=prices,
            cache_in_prompt=True,
            reasoning_in_completion=False,
        )
    )
