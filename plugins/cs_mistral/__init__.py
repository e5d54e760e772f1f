"""Mistral prices and token semantics.

Mistral's API follows OpenAI's usage shape: any cached tokens are part of
`prompt_tokens`, and the thinking of Magistral models is part of
`completion_tokens`.
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
    """Register Mistral's price table."""
    register(
        PriceSource(
            provider="mistral",
            load_prices=prices,
            cache_in_prompt=True,
            reasoning_in_completion=True,
        )
    )
