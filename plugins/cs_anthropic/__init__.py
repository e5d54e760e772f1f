"""Anthropic prices and token semantics.

Anthropic reports cache reads and cache writes beside `input_tokens`, so the four
counts add up to the whole prompt; extended thinking is part of the output tokens.
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
    """Register Anthropic's price table."""
    register(
        PriceSource(
            provider="anthropic",
            load_prices=prices,
            cache_in_prompt=False,
            reasoning_in_completion=True,
        )
    )
