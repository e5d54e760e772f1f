"""Anthropic prices and token semantics.

Anthropic reports cache reads and cache writes beside `input_tokens`, so the four
counts add up to the whole prompt; extended thinking is part of the output tokens.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cs_core import hookimpl, table_source


@hookimpl
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Register Anthropic's price table (prices.json beside this module)."""
    register(
        table_source(
            "anthropic", Path(__file__).with_name("prices.json"), cache_in_prompt=False
        )
    )
