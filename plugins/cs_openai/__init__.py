"""OpenAI prices and token semantics.

OpenAI's `prompt_tokens` already include the cached ones (`cached_tokens`), and
`completion_tokens` include the reasoning tokens of o-series and GPT-5 models, so
neither is billed a second time.
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
    """Register OpenAI's price table."""
    register(
        PriceSource(
            provider="openai",
            load_prices=prices,
            cache_in_prompt=True,
            reasoning_in_completion=True,
        )
    )
