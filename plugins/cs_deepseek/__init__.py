"""DeepSeek prices and token semantics.

DeepSeek's `prompt_tokens` are the sum of `prompt_cache_hit_tokens` and
`prompt_cache_miss_tokens`, so cache hits are part of the prompt; the reasoner's
chain of thought is part of `completion_tokens`.
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
    """Register DeepSeek's price table."""
    register(
        PriceSource(
            provider="deepseek",
            load_prices=prices,
            cache_in_prompt=True,
            reasoning_in_completion=True,
        )
    )
